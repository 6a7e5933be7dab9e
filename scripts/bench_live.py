#!/usr/bin/env python3
"""Adviser reply → customer's live stream (SSE) latency: event bus versus polling (issue 16).

Three ways, each over the same number of replies on one PostgreSQL database:
- polling: today's behaviour before the bus — the stream re-reads the database every 0.25 s (the
  bus is forced off: no Redis, the stream's safety poll set to 0.25 s); the reply is posted to hub A,
  the customer streams from hub B;
- in-process bus: one hub, no Redis — the reply and the stream on the same hub;
- Redis pub/sub: two hubs sharing Redis — the reply posted to hub A, the customer on hub B.

Each round claims a fresh ticket, opens the customer's stream, waits a random 0.2–0.45 s (so the
reply does not land at one fixed phase of a poll), posts the reply and times its arrival on the
stream. `--idle N` keeps N other customers' streams open on the streaming hub meanwhile (what
polling costs grows with them). Hubs are uvicorn processes (one worker each); the client is this
script's threads, on the same machine. Prints Markdown.

    .venv/bin/python scripts/bench_live.py [--replies 200] [--idle 0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import make_engine, make_sessionmaker  # noqa: E402
from bot.models import Conversation, Shift, Ticket  # noqa: E402
from bot.services.auth import do_create_adviser  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.conftest import PG_ADMIN, free_port  # noqa: E402

# A hub whose stream polls every `safety` seconds between notifications (today's 0.25 s: the bus off).
HUB = ("import sys, uvicorn\n"
       "from integrations.webchat import live\n"
       "live.SAFETY_POLL_SECONDS = live.DEGRADED_POLL_SECONDS = float(sys.argv[1])\n"
       "uvicorn.run('bot.app:create_app', factory=True, host='127.0.0.1', port=int(sys.argv[2]),\n"
       "            log_level='warning', access_log=False)\n")


def machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def hubs(count: int, database_url: str, redis_url: str | None, safety: float) -> Iterator[list[tuple[str, int]]]:
    """`count` hub processes on the database: [(base URL, pid)]. Started one after the other (the
    first migrates)."""
    running: list[subprocess.Popen[bytes]] = []
    out: list[tuple[str, int]] = []
    env = dict(os.environ, LUOTSI_DATABASE_URL=database_url, LUOTSI_RASA_URL=f"http://127.0.0.1:{free_port()}")
    env.pop("LUOTSI_REDIS_URL", None)
    if redis_url:
        env["LUOTSI_REDIS_URL"] = redis_url
    try:
        for _ in range(count):
            port = free_port()
            running.append(subprocess.Popen([sys.executable, "-c", HUB, str(safety), str(port)], cwd=ROOT, env=env))
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or running[-1].poll() is not None:
                    raise RuntimeError("a hub did not start")
                time.sleep(0.2)
            out.append((base, running[-1].pid))
        yield out
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(30)


def seed(database_url: str, tickets: int) -> tuple[list[tuple[str, str]], str]:
    """A shift, an adviser who may hold every ticket, and `tickets` queued web tickets: [(ticket id, chat id)]."""
    engine = make_engine(database_url)
    username = f"bench.{uuid.uuid4().hex[:6]}"
    out = []
    with make_sessionmaker(engine)() as session:
        session.add(Shift(city="espoo", queue="jobseeker_espoo", channel=None,
                          starts_at=f.now() - timedelta(hours=1), ends_at=f.now() + timedelta(hours=8)))
        do_create_adviser(session, username=username, role="adviser", city="espoo", languages="fi",
                          password=f.PASSWORD, now=f.now(), max_open_tickets=1_000_000)
        for _ in range(tickets):
            chat = uuid.uuid4().hex
            conversation = Conversation(id=uuid.uuid4().hex, channel="web", external_id=chat, language="fi",
                                        handler="human", created_at=f.now(), updated_at=f.now())
            ticket = Ticket(conversation_id=conversation.id, channel="web", queue="jobseeker_espoo", language="fi",
                            reason="bench", created_at=f.now())
            session.add_all([conversation, ticket])
            session.flush()
            out.append((ticket.id, chat))
        session.commit()
    engine.dispose()
    return out, username


class Listener:
    """One customer's stream in a thread: the time the first adviser message arrived."""

    def __init__(self, base: str, chat: str) -> None:
        self.arrived: float | None = None
        self.got = threading.Event()
        self.opened = threading.Event()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, args=(base, chat), daemon=True)
        self._thread.start()

    def _read(self, base: str, chat: str) -> None:
        with contextlib.suppress(httpx.HTTPError), \
                httpx.stream("GET", f"{base}/api/chat/{chat}/events", timeout=60) as response:
            self._socket = response.extensions["network_stream"].get_extra_info("socket")
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    self.opened.set()
                if line.startswith("data: ") and json.loads(line[6:])["sender"] == "adviser":
                    self.arrived = time.perf_counter()
                    self.got.set()
        self.opened.set()

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)


def measure(post_to: str, stream_from: str, tickets: list[tuple[str, str]], username: str,
            idle: list[tuple[str, str]]) -> list[float]:
    client = httpx.Client(timeout=30)
    token = client.post(f"{post_to}/api/auth/token", data={"username": username, "password": f.PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    idlers = [Listener(stream_from, chat) for _, chat in idle]
    latencies = []
    try:
        for ticket_id, chat in tickets:
            assert client.post(f"{post_to}/api/tickets/{ticket_id}/claim", headers=auth).status_code == 200
            listener = Listener(stream_from, chat)
            listener.opened.wait(10)
            time.sleep(random.uniform(0.2, 0.45))  # listening now; the reply lands at a random poll phase
            sent = time.perf_counter()
            r = client.post(f"{post_to}/api/tickets/{ticket_id}/reply", json={"text": "Hei, autan."}, headers=auth)
            assert r.status_code == 200, r.text
            listener.got.wait(15)
            listener.close()
            if listener.arrived is None:
                raise RuntimeError("a reply never reached the stream")
            latencies.append(listener.arrived - sent)
    finally:
        for idler in idlers:
            idler.close()
        client.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--idle", type=int, default=0, help="other customers' streams open meanwhile")
    args = parser.parse_args()
    redis_url = f"redis://127.0.0.1:6379/{random.randint(1, 15)}"
    modes = (("polling every 0.25 s (bus off)", 2, None, 0.25),
             ("in-process bus, no Redis", 1, None, 5.0),
             ("Redis pub/sub", 2, redis_url, 5.0))
    rows = []
    for name, count, redis, safety in modes:
        pg_name = f"luotsi_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
        try:
            with hubs(count, url, redis, safety) as running:
                tickets, username = seed(url, args.replies + args.idle)
                (post_to, pid_a), (stream_from, pid_b) = running[0], running[-1]
                pids = {pid_a, pid_b}
                cpu = sum(cpu_seconds(p) for p in pids)
                started = time.perf_counter()
                latencies = measure(post_to, stream_from, tickets[:args.replies], username, tickets[args.replies:])
                wall = time.perf_counter() - started
                cpu = sum(cpu_seconds(p) for p in pids) - cpu
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        ms = sorted(x * 1000 for x in latencies)
        q = statistics.quantiles(ms, n=100)
        rows.append(f"| {name} | {count} | {q[49]:.0f} | {q[94]:.0f} | {ms[-1]:.0f} | {cpu / wall * 100:.0f} % |")
        print(f"done: {name}", file=sys.stderr)
    print(f"Machine: {machine()}. PostgreSQL on loopback; {args.replies} replies per row, "
          f"{args.idle} other customers' streams open meanwhile.\n")
    print("| live events | hubs | p50 ms | p95 ms | max ms | hubs' CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
