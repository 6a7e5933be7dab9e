#!/usr/bin/env python3
"""Chat benchmarks (make bench): prints Markdown for docs/benchmarks.md on stdout, progress on stderr.

One run starts the real stack (action server, Rasa, hub, mail intake) on free ports with a fresh
SQLite database, the settings as shipped, and measures with an asyncio load generator
(scripts/loadgen.py):

- `POST /api/chat` on the hub and Rasa's bare REST webhook at 1, 8 and 32 concurrent customers,
  and the ratios hub ÷ bare for turns/s (goal ≥ 0.9) and p50 (goal ≤ 1.2);
- the hub alone at 64 and 256 concurrent customers (goal: every request 200 within 2 s — an
  answer or the "busy" text — 0 errors, 0 customer messages lost);
- for each level: turns/s, p50/p95, errors, busy and unavailable answers, answered within 2 s, and
  (hub) customer messages stored in the database vs sent;
- peak resident memory of the whole stack, sampled through the run;
- language identification per message, Luotsi's and langdetect's (after the stack has stopped).

Knobs (environment): BENCH_SECONDS per level (default 20), or BENCH_TURNS per level instead
(at least one per customer); BENCH_CONV_TURNS turns per conversation (3); BENCH_PAUSE seconds a
customer waits after a busy/unavailable answer or an error before the next turn (1.0);
BENCH_TIMEOUT client time-out (10); BENCH_LEVELS (1,8,32) and BENCH_OVERLOAD (64,256);
BENCH_RECOVERY seconds to wait after an overload level for `/healthz` to answer (30);
BENCH_LANGID=0 skips the language-identification section. The defaults take about 5 minutes.
"""

from __future__ import annotations

import asyncio
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import RASA_BIN, Stack, ensure_model  # noqa: E402
from bot.config import Settings  # noqa: E402
from scripts.loadgen import (  # noqa: E402
    BUSY,
    CONNECTIONS_PER_CLIENT,
    LANGUAGES,
    QUESTIONS,
    UNAVAILABLE,
    Catalogue,
    Clients,
    Level,
    Turn,
    bare_turn,
    hub_turn,
    run_level,
)


def _levels(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).replace(" ", "").split(",") if x]


SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
TURNS = int(os.environ["BENCH_TURNS"]) if os.environ.get("BENCH_TURNS") else None
CONV_TURNS = int(os.environ.get("BENCH_CONV_TURNS", "3"))
PAUSE = float(os.environ.get("BENCH_PAUSE", "1.0"))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "10"))
LEVELS = _levels("BENCH_LEVELS", "1,8,32")
OVERLOAD = _levels("BENCH_OVERLOAD", "64,256")
RECOVERY = float(os.environ.get("BENCH_RECOVERY", "30"))
LANGID = os.environ.get("BENCH_LANGID", "1") != "0"


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    total = 0
    try:
        total += int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS")).split()[1])
    except (OSError, StopIteration, ValueError):
        return 0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            cpids = child.read_text().split()
        except OSError:
            continue
        for cpid in cpids:
            total += rss_kb(int(cpid))
    return total


class Sampler(threading.Thread):
    """Sums the stack's resident memory (every process and its children) four times a second."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.peak = 0
        self.peak_parts: dict[str, int] = {}
        self._stop_event = threading.Event()

    def sample(self) -> int:
        parts = {name: rss_kb(p.pid) for name, p in list(self.stack.processes.items())}
        total = sum(parts.values())
        if total > self.peak:
            self.peak, self.peak_parts = total, parts
        return total

    def run(self) -> None:
        while not self._stop_event.wait(0.25):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def count_stored(db_path: Path, conversation_ids: list[str]) -> int:
    """Customer messages in the stack's database for these web-chat conversations (read-only)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        messages = "messages" if "messages" in tables else "message"
        conversations = "conversations" if "conversations" in tables else "conversation"
        total = 0
        for i in range(0, len(conversation_ids), 500):
            chunk = conversation_ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            sql = (f"SELECT count(*) FROM {messages} m JOIN {conversations} c ON c.id = m.conversation_id "  # noqa: S608
                   f"WHERE c.channel = 'web' AND m.sender = 'customer' AND c.external_id IN ({marks})")
            total += int(con.execute(sql, chunk).fetchone()[0])
        return total
    finally:
        con.close()


async def settled_count(db_path: Path, level: Level, limit: float = 15.0) -> int:
    """The stored count once it stops changing (a hub may still be writing abandoned turns)."""
    deadline = time.monotonic() + limit
    last = -1
    while True:
        now = await asyncio.to_thread(count_stored, db_path, level.conversations)
        if now == last or now >= level.sent or time.monotonic() > deadline:
            return now
        last = now
        await asyncio.sleep(1.0)


async def recovery(client: httpx.AsyncClient, hub_url: str) -> float | None:
    """Seconds from the end of a level until `/healthz` answers 200 within 2 s (None: not within
    RECOVERY seconds)."""
    started = time.perf_counter()
    while time.perf_counter() - started < RECOVERY:
        try:
            r = await client.get(f"{hub_url}/healthz", timeout=2.0)
            if r.status_code == 200:
                return round(time.perf_counter() - started, 1)
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    return None


async def measure(clients: list[httpx.AsyncClient], turn: Turn, path: str, customers: int) -> Level:
    turns = None if TURNS is None else max(TURNS, customers)
    log(f"{path} at {customers} concurrent customers "
        f"({f'{turns} turns' if turns is not None else f'{SECONDS:.0f} s'})…")
    level = await run_level(clients, turn, path=path, customers=customers, turns_per_conversation=CONV_TURNS,
                            seconds=SECONDS, turns=turns, pause_after_failure=PAUSE)
    log(f"  {level.sent} requests, {level.answers_per_second:.1f} answers/s, p50 {level.percentile_ms(50):.0f} ms, "
        f"p95 {level.percentile_ms(95):.0f} ms, errors {level.count('error')} {level.error_kinds() or ''}, "
        f"busy {level.count(BUSY)}, unavailable {level.count(UNAVAILABLE)}")
    return level


async def run_all(stack: Stack, db_path: Path, catalogue: Catalogue) -> tuple[list[Level], dict[str, str]]:
    hub = hub_turn(stack.hub_url, catalogue)
    bare = bare_turn(stack.settings.rasa_url)
    levels: list[Level] = []
    after: dict[str, str] = {}
    async with Clients(max([1, *LEVELS, *OVERLOAD]), TIMEOUT) as clients:
        client = clients[0]
        log("warming up (every language through both paths)…")
        for turn in (hub, bare):
            for _ in range(2):
                for lang in LANGUAGES:
                    await turn(client, f"warmup{lang}{time.monotonic_ns()}", QUESTIONS[lang])
        for customers in LEVELS:
            for path, turn in (("hub", hub), ("bare", bare)):
                level = await measure(clients, turn, path, customers)
                if path == "hub":
                    level.stored = await settled_count(db_path, level)
                levels.append(level)
                await asyncio.sleep(2)
        for customers in OVERLOAD:
            level = await measure(clients, hub, "hub", customers)
            # the burst left the hub dead for minutes: how soon does it answer again?
            level.recovery = await recovery(client, stack.hub_url)
            log(f"  /healthz answered again after {level.recovery} s" if level.recovery is not None
                else f"  /healthz did not answer within {RECOVERY:g} s")
            level.stored = await settled_count(db_path, level)
            levels.append(level)
            await asyncio.sleep(2)
        if OVERLOAD:
            sample = await hub(client, f"after{time.monotonic_ns()}", QUESTIONS["fi"])
            after["turn"] = (f"{sample.status or sample.error} ({sample.kind}) in {sample.latency * 1000:,.0f} ms")
    return levels, after


def main() -> None:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-"))
    db_path = tmp / "bench.db"
    settings = Settings(
        database_url=f"sqlite:///{db_path}", http_port=free_port(),
        rasa_url=f"http://127.0.0.1:{free_port()}", actions_port=free_port(), smtp_port=free_port(),
    )
    catalogue = Catalogue(ROOT / "bot" / "locales")
    log("checking the Rasa model…")
    stack = Stack(settings=settings, model=ensure_model(), log_dir=tmp / "logs")
    log(f"starting the stack (logs in {tmp / 'logs'})…")
    stack.start()
    sampler = Sampler(stack)
    try:
        stack.wait_ready()
        idle_kb = sampler.sample()
        sampler.start()
        levels, after = asyncio.run(run_all(stack, db_path, catalogue))
    finally:
        if sampler.is_alive():
            sampler.stop()
        stack.stop()
    log(f"stack stopped after {time.monotonic() - started:.0f} s")
    langid = langid_lines() if LANGID else []
    print(report(settings, levels, after, idle_kb, sampler, catalogue, langid))
    log(f"done in {time.monotonic() - started:.0f} s")


def langid_lines() -> list[str]:
    log("language identification…")
    from scripts.eval_langid import SETS, evaluate, load_cases

    lines = ["| set | Luotsi accuracy | µs / message | langdetect alone | µs / message |",
             "|---|---:|---:|---:|---:|"]
    for name, folder in SETS.items():
        stats = evaluate(load_cases(folder))
        langs = [k for k in stats if not k.startswith("_")]
        n = sum(stats[k]["n"] for k in langs)
        ours = sum(stats[k]["ours"] for k in langs) / n
        base = sum(stats[k]["langdetect"] for k in langs) / n
        t = stats["_time"]
        lines.append(f"| {name} ({int(n)}) | {ours:.1%} | {t['ours_us']:,.0f} | {base:.1%} | {t['langdetect_us']:,.0f} |")
    return lines


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(settings: Settings, levels: list[Level], after: dict[str, str], idle_kb: int, sampler: Sampler,
           catalogue: Catalogue, langid: list[str]) -> str:
    out: list[str] = [f"## Chat under load (issue 12) — {date.today().isoformat()}", ""]
    rasa_python, rasa_version = _rasa_versions()
    out.append(f"Machine: {_cpu_model()}, {os.cpu_count()} cores, {_mem_gib():.0f} GiB RAM, {_os_name()}; "
               f"Python {platform.python_version()} (hub, load generator) and {rasa_python} (Rasa {rasa_version}). "
               f"Code: `{_git('log', '-1', '--oneline')}`{_dirty()}.")
    mode = f"{TURNS} turns per level (at least one per customer)" if TURNS is not None else f"{SECONDS:.0f} s per level"
    out.append("")
    out.append(
        f"`make bench` (`scripts/bench.py`): the stack as `luotsi run` starts it (settings as shipped: Rasa "
        f"time-out {settings.rasa_timeout:g} s), a fresh SQLite database. Closed-loop asyncio load generator "
        f"(`scripts/loadgen.py`, `httpx.AsyncClient`s of at most {CONNECTIONS_PER_CLIENT} connections each), "
        f"client time-out {TIMEOUT:g} s: each customer opens a fresh conversation, asks "
        f"\"how do I register as a jobseeker\" in one of fi, sv, en, ru, uk, et, ar, so {CONV_TURNS} times, then "
        f"opens the next; after a busy or unavailable answer or an error it waits {PAUSE:g} s. {mode}. "
        "Latency percentiles are over every request (a time-out counts as the time waited); turns/s counts "
        "real answers only. Busy/unavailable: the reply matched the catalogues' `sys_busy`/`sys_unavailable` "
        f"text{'' if catalogue.has(BUSY) else ' (no catalogue has `sys_busy` in this code state)'}. Stored: "
        "customer messages found in the database afterwards for the conversations of that level.")
    out.append("")
    out.append("| path | customers | requests | turns/s | p50 ms | p95 ms | errors | busy | unavailable "
               "| 200 in < 2 s | stored / sent | generator CPU |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lv in levels:
        name = "hub `POST /api/chat`" if lv.path == "hub" else "Rasa bare REST webhook"
        stored = f"{lv.stored:,} / {lv.sent:,}" if lv.stored is not None else "—"
        errors = str(lv.count("error"))
        if lv.error_kinds():
            errors += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(lv.error_kinds().items())) + ")"
        out.append(f"| {name} | {lv.customers} | {lv.sent:,} | {lv.answers_per_second:.1f} | "
                   f"{_ms(lv.percentile_ms(50))} | {_ms(lv.percentile_ms(95))} | {errors} | {lv.count(BUSY)} | "
                   f"{lv.count(UNAVAILABLE)} | {lv.within_2s:,} | {stored} | {lv.cpu / lv.wall:.0%} |")
    out.append("")
    out.append("### Goals")
    out.append("")
    pairs = [(h, b) for h in levels for b in levels
             if h.path == "hub" and b.path == "bare" and h.customers == b.customers]
    if pairs:
        out.append("| customers | hub ÷ bare turns/s (goal ≥ 0.9) | hub ÷ bare p50 (goal ≤ 1.2) |")
        out.append("|---:|---:|---:|")
        for h, b in pairs:
            tps = h.answers_per_second / b.answers_per_second if b.answers_per_second else float("nan")
            p50 = h.percentile_ms(50) / b.percentile_ms(50)
            out.append(f"| {h.customers} | ×{tps:.2f} — {_yes(tps >= 0.9)} | ×{p50:.2f} — {_yes(p50 <= 1.2)} |")
        out.append("")
    overload = [lv for lv in levels if lv.path == "hub" and lv.customers in OVERLOAD]
    if overload:
        out.append("| customers | every request 200 within 2 s | errors | messages lost | `/healthz` again after "
                   "| goal |")
        out.append("|---:|---:|---:|---:|---:|---|")
        for lv in overload:
            lost = lv.lost if lv.lost is not None else 0
            ok = lv.within_2s == lv.sent and lv.count("error") == 0 and lost <= 0
            back = f"{lv.recovery:g} s" if lv.recovery is not None else f"> {RECOVERY:g} s"
            out.append(f"| {lv.customers} | {lv.within_2s:,} of {lv.sent:,} | {lv.count('error')} | {lost} "
                       f"| {back} | {_yes(ok)} |")
        out.append("")
        out.append(f"Right after the last level, a new conversation's first turn: {after.get('turn', '—')}.")
        out.append("")
    out.append("### Memory")
    out.append("")
    parts = ", ".join(f"{name} {kb / 1024:,.0f}" for name, kb in sorted(sampler.peak_parts.items(), key=lambda x: -x[1]))
    out.append(f"Whole stack (every process of the stack and their children), resident: **{idle_kb / 1024:,.0f} MiB "
               f"idle after start, {sampler.peak / 1024:,.0f} MiB peak** during the run (sampled 4×/s; at the "
               f"peak, MiB: {parts}).")
    seconds = ROOT / "models" / "last-training-seconds.txt"
    if seconds.exists():
        out.append("")
        out.append(f"Model training time (last `make model`): {float(seconds.read_text()):.0f} s.")
    if langid:
        out.append("")
        out.append("### Language identification (same run, after the stack stopped)")
        out.append("")
        out.extend(langid)
    return "\n".join(out) + "\n"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dirty() -> str:
    changed = _git("status", "--porcelain", "--", "bot", "integrations", "actions", "nlu")
    return " with uncommitted changes in the hub/actions code" if changed and changed != "unknown" else ""


def _rasa_versions() -> tuple[str, str]:
    python = RASA_BIN.parent / "python"
    code = "import platform, importlib.metadata as m; print(platform.python_version(), m.version('rasa'))"
    try:
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True, timeout=60)
        py, rasa = out.stdout.split()
        return py, rasa
    except (OSError, ValueError, subprocess.SubprocessError):
        return "?", "?"


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


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


if __name__ == "__main__":
    main()
