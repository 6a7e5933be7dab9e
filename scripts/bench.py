#!/usr/bin/env python3
"""Benchmarks for the foundation (make bench): prints Markdown for docs/benchmarks.md.

- chat turn latency p50/p95 and turns per second through the hub's POST /api/chat, and through
  Rasa's bare REST webhook in the same run (the hub's overhead as a ratio);
- language identification: microseconds per message and accuracy, Luotsi's and langdetect's;
- peak resident memory of the whole running stack (hub + Rasa + action server);
- model training time (from the last training).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import Stack, ensure_model  # noqa: E402
from bot.config import Settings  # noqa: E402
from scripts.eval_langid import SETS, evaluate, load_cases  # noqa: E402
from tests.conftest import free_port  # noqa: E402

TURNS = int(os.environ.get("BENCH_TURNS", "240"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))


def messages() -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "tests" / "data" / "nlu").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in doc["nlu"][:10]:
            lines = [line.strip()[2:] for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            out.extend(lines[:1])
    return out


def rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    try:
        total += int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS")).split()[1])
    except (OSError, StopIteration):
        return 0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            total += rss_kb(int(cpid))
    return total


class Sampler:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.peak = 0

    def sample(self) -> None:
        now = sum(rss_kb(p.pid) for p in self.stack.processes.values())
        self.peak = max(self.peak, now)


def run_load(fn, texts: list[str], concurrency: int, sampler: Sampler) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []

    def one(text: str) -> None:
        t0 = time.perf_counter()
        fn(text)
        latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(one, t) for t in texts]
        for i, f in enumerate(futures):
            f.result()
            if i % 20 == 0:
                sampler.sample()
    return latencies, len(texts) / (time.perf_counter() - started)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'bench.db'}", http_port=free_port(),
        rasa_url=f"http://127.0.0.1:{free_port()}", actions_port=free_port(), rasa_timeout=10,
        smtp_port=free_port(),
    )
    stack = Stack(settings=settings, model=ensure_model(), log_dir=tmp / "logs")
    stack.start()
    try:
        stack.wait_ready()
        sampler = Sampler(stack)
        sampler.sample()
        idle_kb = sampler.peak
        texts = (messages() * (TURNS // len(messages()) + 1))[:TURNS]
        client = httpx.Client(timeout=30)

        def hub(text: str) -> None:
            r = client.post(f"{stack.hub_url}/api/chat", json={"conversation_id": uuid.uuid4().hex, "text": text})
            r.raise_for_status()

        def bare(text: str) -> None:
            r = client.post(f"{settings.rasa_url}/webhooks/rest/webhook", json={"sender": uuid.uuid4().hex, "message": text})
            r.raise_for_status()

        for fn in (hub, bare):  # warm-up
            run_load(fn, texts[:20], 1, sampler)
        rows = []
        for concurrency in (1, CONCURRENCY):
            hub_lat, hub_tps = run_load(hub, texts, concurrency, sampler)
            bare_lat, bare_tps = run_load(bare, texts, concurrency, sampler)
            rows.append((concurrency, hub_lat, hub_tps, bare_lat, bare_tps))
        client.close()
    finally:
        stack.stop()

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores "
          f"({_cpu_model()}), {_mem_gib():.0f} GiB RAM, Python {platform.python_version()}; "
          f"{TURNS} turns per run, multilingual held-out questions, new conversation per turn, SQLite.\n")
    print("| path | concurrency | p50 ms | p95 ms | turns/s |")
    print("|---|---:|---:|---:|---:|")
    for concurrency, hub_lat, hub_tps, bare_lat, bare_tps in rows:
        print(f"| hub POST /api/chat | {concurrency} | {pct(hub_lat, 50):.1f} | {pct(hub_lat, 95):.1f} | {hub_tps:.1f} |")
        print(f"| Rasa bare REST webhook | {concurrency} | {pct(bare_lat, 50):.1f} | {pct(bare_lat, 95):.1f} | {bare_tps:.1f} |")
    for concurrency, hub_lat, _, bare_lat, _ in rows:
        print(f"\nHub overhead at concurrency {concurrency}: p50 ×{pct(hub_lat, 50) / pct(bare_lat, 50):.2f}, "
              f"p95 ×{pct(hub_lat, 95) / pct(bare_lat, 95):.2f} (goal ≤ 1.2×).")
    print(f"\nMemory (RSS, hub + Rasa + action server): {idle_kb / 1024:.0f} MiB idle after start, "
          f"peak {sampler.peak / 1024:.0f} MiB under load.")
    seconds = (ROOT / "models" / "last-training-seconds.txt")
    if seconds.exists():
        print(f"\nModel training time (last `make model`): {float(seconds.read_text()):.0f} s.")
    for name, folder in SETS.items():
        stats = evaluate(load_cases(folder))
        langs = [k for k in stats if not k.startswith("_")]
        n = sum(stats[k]["n"] for k in langs)
        ours = sum(stats[k]["ours"] for k in langs) / n
        base = sum(stats[k]["langdetect"] for k in langs) / n
        t = stats["_time"]
        print(f"\nLanguage identification, {name} set ({int(n)} messages): Luotsi {ours:.1%} at "
              f"{t['ours_us']:.0f} µs/message; langdetect alone {base:.1%} at {t['langdetect_us']:.0f} µs/message.")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mem_gib() -> float:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return kb / 1024 / 1024
    except (OSError, ValueError):
        return 0.0


if __name__ == "__main__":
    main()
