#!/usr/bin/env python3
"""One hub + one Rasa against two + two, both on PostgreSQL and Redis (make bench-cluster).

Starts the stack as `luotsi run` does — with `--hubs 2 --rasa 2` the second time, HAProxy in front —
on a fresh PostgreSQL database, and drives `POST /api/chat` with the closed-loop generator of
scripts/loadgen.py at 8, 32, 64 and 256 concurrent customers (BENCH_SECONDS each, default 20;
BENCH_LEVELS and BENCH_SHAPES="1x1,2x2" choose).
Prints a Markdown table for docs/benchmarks.md on stdout, progress on stderr.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import Stack, ensure_model  # noqa: E402
from bot.config import Settings  # noqa: E402
from scripts.bench import _cpu_model  # noqa: E402
from scripts.loadgen import BUSY, LANGUAGES, QUESTIONS, UNAVAILABLE, Catalogue, Clients, hub_turn, run_level  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
LEVELS = [int(x) for x in os.environ.get("BENCH_LEVELS", "8,32,64,256").split(",")]
SHAPES = [tuple(int(n) for n in shape.split("x")) for shape in os.environ.get("BENCH_SHAPES", "1x1,2x2").split(",")]
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_block(n: int) -> int:
    for _ in range(200):
        base = random.randint(20000, 32000)  # below the ephemeral range (32768+) clients take ports from
        with_all = []
        for port in range(base, base + n):
            with socket.socket() as s:
                with_all.append(s.connect_ex(("127.0.0.1", port)) != 0)
        if all(with_all):
            return base
    raise RuntimeError("no free ports")


async def drive(stack: Stack, catalogue: Catalogue) -> list[tuple[int, object]]:
    hub = hub_turn(stack.hub_url, catalogue)
    out = []
    async with Clients(max(LEVELS), 10.0) as clients:
        for _ in range(2):
            for lang in LANGUAGES:
                await hub(clients[0], f"warm{lang}{time.monotonic_ns()}", QUESTIONS[lang])
        for customers in LEVELS:
            log(f"  {customers} customers…")
            level = await run_level(clients, hub, path="hub", customers=customers, turns_per_conversation=3,
                                    seconds=SECONDS, turns=None, pause_after_failure=1.0)
            log(f"    {level.sent} requests, {level.answers_per_second:.1f} answers/s, "
                f"p95 {level.percentile_ms(95):.0f} ms")
            out.append((customers, level))
            await asyncio.sleep(2)
    return out


def run(hubs: int, rasas: int, catalogue: Catalogue) -> list[tuple[int, object]]:
    name = f"luotsi_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis(db=14).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-cluster-"))
    settings = Settings(database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                        redis_url="redis://127.0.0.1:6379/14", http_port=free_block(hubs + 1),
                        rasa_url=f"http://127.0.0.1:{free_block(rasas + 1)}", actions_port=free_block(1),
                        smtp_port=free_block(1))
    stack = Stack(settings=settings, model=ensure_model(), log_dir=tmp / "logs", hubs=hubs, rasas=rasas)
    log(f"{hubs} hub(s) + {rasas} Rasa (logs in {tmp / 'logs'})…")
    stack.start()
    try:
        stack.wait_ready(timeout=600)
        return asyncio.run(drive(stack, catalogue))
    finally:
        stack.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    catalogue = Catalogue(ROOT / "bot" / "locales")
    results = {shape: run(*shape, catalogue) for shape in SHAPES}
    print(f"Machine: {_cpu_model()}, {os.cpu_count()} cores. PostgreSQL and Redis on the same machine; "
          f"{SECONDS:.0f} s per level; closed-loop customers (scripts/loadgen.py), 3 turns per conversation.\n")
    print("| hubs + Rasa | customers | requests | answers/s | p50 ms | p95 ms | errors | busy | unavailable |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (hubs, rasas), levels in results.items():
        for customers, level in levels:
            print(f"| {hubs} + {rasas} | {customers} | {level.sent:,} | {level.answers_per_second:.1f} | "  # type: ignore[attr-defined]
                  f"{level.percentile_ms(50):.0f} | {level.percentile_ms(95):.0f} | {level.count('error')} | "  # type: ignore[attr-defined]
                  f"{level.count(BUSY)} | {level.count(UNAVAILABLE)} |")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
