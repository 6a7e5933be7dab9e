#!/usr/bin/env python3
"""Telegram benchmarks (make bench-telegram): prints Markdown for docs/benchmarks.md.

The real stack (action server, Rasa, hub) runs on free ports with a fresh SQLite database; the
Telegram worker runs in its own process exactly as `luotsi run` starts it, against the local Bot
API server of the tests (in this process). Measured end to end, from the update being offered by getUpdates to
the sendMessage carrying the assistant's answer:
- latency one update at a time (p50/p95);
- a burst of updates from many chats at once: updates per second and latency (p50/p95), with
  PTB's rate limiter at Telegram's broadcast limit (30 messages/s) and with it lifted, which shows
  what the worker itself can do.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import Stack, ensure_model  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.telegram_api import BotApi, message_update, running_bot_api  # noqa: E402

SEQUENTIAL = 100
BURST = 300


def questions() -> list[str]:
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for block in data["nlu"]:
            texts += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    return texts


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def start_worker(stack: Stack, api: BotApi, rate: float, log: Path) -> subprocess.Popen[bytes]:
    """The Telegram worker as `luotsi run` starts it: its own process, configured by the environment."""
    env = {**stack._env(), "LUOTSI_TELEGRAM_TOKEN": api.token, "LUOTSI_TELEGRAM_API_URL": api.url,
           "LUOTSI_TELEGRAM_POLL_TIMEOUT": "1", "LUOTSI_TELEGRAM_RATE_LIMIT": str(rate)}
    worker = subprocess.Popen([sys.executable, "-m", "integrations.telegram.worker"], cwd=ROOT, env=env,
                              stdout=log.open("ab"), stderr=subprocess.STDOUT)
    api.wait_for(lambda: any(c.method == "getUpdates" for c in api.calls), timeout=60, what="polling")
    return worker


def measure(api: BotApi, texts: list[str], chats: range, burst: bool) -> tuple[list[float], float]:
    """Latency of each update (offered → its answer's sendMessage) and updates per second."""
    pushed: dict[int, float] = {}
    started = time.monotonic()
    if burst:
        updates = [message_update(chat, texts[i % len(texts)], language_code=None) for i, chat in enumerate(chats)]
        pushed = dict.fromkeys(chats, time.monotonic())
        api.push(*updates)
        api.wait_for(lambda: all(c in api.first_sent_at for c in chats), timeout=600, what="all answers")
    else:
        for i, chat in enumerate(chats):
            pushed[chat] = time.monotonic()
            api.push(message_update(chat, texts[i % len(texts)], language_code=None))
            api.wait_for(lambda chat=chat: chat in api.first_sent_at, timeout=60, what="the answer")
    latencies = [api.first_sent_at[c] - pushed[c] for c in chats]
    elapsed = max(api.first_sent_at[c] for c in chats) - started
    return latencies, len(chats) / elapsed


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-tg-"))
    settings = Settings(database_url=f"sqlite:///{tmp / 'luotsi.db'}", http_port=free_port(),
                        rasa_url=f"http://127.0.0.1:{free_port()}", actions_port=free_port(), smtp_port=free_port())
    stack = Stack(settings=settings, model=ensure_model(), log_dir=tmp / "logs")
    texts = questions()
    rows = []
    stack.start()
    try:
        stack.wait_ready(timeout=300)
        chat = 10_000_000
        for rate, label in ((30.0, "30 msg/s (Telegram's limit)"), (10_000.0, "lifted")):
            with running_bot_api() as api:
                worker = start_worker(stack, api, rate, tmp / "logs" / "telegram.log")
                try:
                    # warm-up: first turns of a new worker load lazy parts of PTB and the DB pool
                    measure(api, texts, range(chat, chat + 5), burst=False)
                    chat += 5
                    if rate == 30.0:
                        lat, per_s = measure(api, texts, range(chat, chat + SEQUENTIAL), burst=False)
                        chat += SEQUENTIAL
                        rows.append(("one at a time", label, SEQUENTIAL, pct(lat, 50), pct(lat, 95), per_s))
                    lat, per_s = measure(api, texts, range(chat, chat + BURST), burst=True)
                    chat += BURST
                    rows.append((f"burst, {BURST} chats", label, BURST, pct(lat, 50), pct(lat, 95), per_s))
                finally:
                    worker.terminate()
                    worker.wait(timeout=30)
    finally:
        stack.stop()
    print(f"Machine: {os.uname().machine}, {os.cpu_count()} cores; SQLite (synchronous=FULL); real Rasa 3.6 "
          "answering held-out questions in eight languages.\n")
    print("| load | rate limiter | updates | p50 ms | p95 ms | updates/s |")
    print("|---|---|---:|---:|---:|---:|")
    for load, label, n, p50, p95, per_s in rows:
        print(f"| {load} | {label} | {n} | {p50:.1f} | {p95:.1f} | {per_s:.1f} |")


if __name__ == "__main__":
    main()
