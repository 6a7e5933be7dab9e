#!/usr/bin/env python3
"""Benchmarks of the advisory desk (make bench-desk): prints Markdown for docs/benchmarks.md.

- claims per second with 1, 5 and 20 concurrent advisers through POST /api/tickets/claim, on
  SQLite and on PostgreSQL, next to a bare SQL claim loop (same statements, no HTTP, no ORM), with
  the machine they ran on (`--claims-only --db postgresql` for just that table);
- time from the customer's hand-off message to the ticket being visible in GET /api/tickets;
- time from an adviser's reply to its arrival on the customer's live stream (SSE).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import Stack, ensure_model  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from bot.models import Conversation, Shift, Ticket  # noqa: E402
from bot.services.auth import do_create_adviser  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.conftest import PG_ADMIN, free_port  # noqa: E402

TICKETS = int(os.environ.get("BENCH_TICKETS", "600"))
LEVELS = (1, 5, 20)


def seed(url: str, advisers: int) -> None:
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        session.execute(text("DELETE FROM ticket_event"))
        session.execute(text("DELETE FROM ticket"))
        session.execute(text("DELETE FROM conversation"))
        if not session.execute(text("SELECT 1 FROM shift LIMIT 1")).first():
            session.add(Shift(city="espoo", queue="jobseeker_espoo", channel=None,
                              starts_at=f.now() - timedelta(hours=1), ends_at=f.now() + timedelta(hours=8)))
        existing = {r[0] for r in session.execute(text("SELECT username FROM adviser"))}
        for n in range(advisers):
            if f"b{n}" not in existing:
                do_create_adviser(session, username=f"b{n}", role="adviser", city="espoo", languages="fi",
                                  password=f.PASSWORD, now=f.now(), max_open_tickets=100_000)
        for _ in range(TICKETS):
            conv = Conversation(id=uuid.uuid4().hex, channel="web", external_id=uuid.uuid4().hex, language="fi",
                                created_at=f.now(), updated_at=f.now())
            session.add(conv)
            session.add(Ticket(conversation_id=conv.id, channel="web", queue="jobseeker_espoo", language="fi",
                               reason="bench", created_at=f.now()))
        session.commit()
    if url.startswith("postgresql"):
        # the planner's statistics, as autovacuum keeps them on a live database (a table filled a
        # moment ago still looks empty to the planner, which then sorts instead of reading an index)
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    engine.dispose()


def run_threads(workers: int, work) -> float:  # type: ignore[no-untyped-def]
    counts = [0] * workers
    started = time.perf_counter()
    threads = [threading.Thread(target=lambda i=i: counts.__setitem__(i, work(i))) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(counts)
    assert total == TICKETS, f"claimed {total} of {TICKETS}"
    return total / (time.perf_counter() - started)


PICK = text("SELECT id FROM ticket WHERE status='queued' AND queue='jobseeker_espoo' "
            "ORDER BY priority DESC, created_at LIMIT 1")
PICK_PG = text("SELECT id FROM ticket WHERE status='queued' AND queue='jobseeker_espoo' "
               "ORDER BY priority DESC, created_at LIMIT 1 FOR UPDATE SKIP LOCKED")


def bare_claims(url: str, workers: int) -> float:
    engine = make_engine(url)
    pick = PICK_PG if url.startswith("postgresql") else PICK

    def work(i: int) -> int:
        done = 0
        with engine.connect() as conn:
            while True:
                with conn.begin():
                    row = conn.execute(pick).first()
                    if row is None:
                        return done
                    got = conn.execute(text("UPDATE ticket SET status='claimed', assigned_to=1 "
                                            "WHERE id=:id AND status='queued'"), {"id": row[0]}).rowcount
                    if got:
                        conn.execute(text("INSERT INTO ticket_event (ticket_id, kind, at) VALUES (:id, 'claimed', :at)"),
                                     {"id": row[0], "at": f.now()})
                        done += 1

    try:
        return run_threads(workers, work)
    finally:
        engine.dispose()


class Desk:
    """One adviser's desk as a load generator: a kept-alive HTTP/1.1 connection and a bearer token.

    The standard library's client, not httpx: the claimers share this machine's cores with the hub
    and the database, and a heavier client would measure itself (httpx costs several times the
    CPU per request), while the bare loop's claimers are as lean as psycopg allows."""

    def __init__(self, base: str, username: str) -> None:
        self.host, _, port = base.removeprefix("http://").partition(":")
        self.port = int(port)
        token = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": f.PASSWORD}).json()
        self.headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Length": "0"}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def claim_next(self) -> dict | None:  # type: ignore[type-arg]
        self.conn.request("POST", "/api/tickets/claim", headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"claim answered {response.status}: {body[:200]!r}")
        return json.loads(body)  # type: ignore[no-any-return]

    def close(self) -> None:
        self.conn.close()


def hub_claims(base: str, workers: int) -> float:
    desks = [Desk(base, f"b{i}") for i in range(workers)]

    def work(i: int) -> int:
        done = 0
        while desks[i].claim_next() is not None:
            done += 1
        return done

    try:
        return run_threads(workers, work)
    finally:
        for desk in desks:
            desk.close()


def machine() -> str:
    """The CPU model and core count the figures were taken on (they mean little without it)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def claims_table(databases: tuple[str, ...] = ("SQLite", "PostgreSQL"), levels: tuple[int, ...] = LEVELS,
                 processes: int = 1) -> list[str]:
    lines = [f"Machine: {machine()}; {TICKETS} tickets per run; the hub as {processes} uvicorn process(es); the "
             "claimers (one kept-alive connection each) and the database on the same machine.", "",
             "| database | advisers | hub claims/s | bare SQL claims/s | overhead |", "|---|---:|---:|---:|---:|"]
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-desk-"))
    pg_name = f"luotsi_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{pg_name}"')
    urls = {name: url for name, url in (("SQLite", f"sqlite:///{tmp / 'desk.db'}"),
                                        ("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"))
            if name in databases}
    try:
        for name, url in urls.items():
            seed(url, max(levels))
            port = free_port()
            env = dict(os.environ, LUOTSI_DATABASE_URL=url, LUOTSI_RASA_URL=f"http://127.0.0.1:{free_port()}")
            hub = subprocess.Popen([sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--port",
                                    str(port), "--no-access-log", "--log-level", "warning", "--workers", str(processes)],
                                   cwd=ROOT, env=env)
            base = f"http://127.0.0.1:{port}"
            try:
                for _ in range(100):
                    try:
                        httpx.get(f"{base}/healthz", timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.3)
                for workers in levels:
                    seed(url, max(levels))
                    bare = bare_claims(url, workers)
                    seed(url, max(levels))
                    through_hub = hub_claims(base, workers)
                    lines.append(f"| {name} | {workers} | {through_hub:.0f} | {bare:.0f} | ×{bare / through_hub:.1f} |")
            finally:
                hub.terminate()
                hub.wait()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return lines


def latency_lines(rounds: int = 30) -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-handoff-"))
    settings = Settings(database_url=f"sqlite:///{tmp / 'h.db'}", http_port=free_port(),
                        rasa_url=f"http://127.0.0.1:{free_port()}", actions_port=free_port(), rasa_timeout=10,
                        smtp_port=free_port())
    stack = Stack(settings=settings, model=ensure_model(), log_dir=tmp / "logs")
    stack.start()
    visible, delivered = [], []
    try:
        stack.wait_ready()
        engine = make_engine(settings.database_url)
        with make_sessionmaker(engine)() as session:
            session.add(Shift(city="espoo", queue="jobseeker_espoo", channel=None,
                              starts_at=f.now() - timedelta(hours=1), ends_at=f.now() + timedelta(hours=8)))
            session.commit()
            do_create_adviser(session, username="lat", role="adviser", city="espoo", languages="fi",
                              password=f.PASSWORD, now=f.now(), max_open_tickets=1000)
        engine.dispose()
        base = stack.hub_url
        auth = {"Authorization": "Bearer " + httpx.post(f"{base}/api/auth/token",
                                                        data={"username": "lat", "password": f.PASSWORD}).json()["access_token"]}
        client = httpx.Client(timeout=30)
        for _ in range(rounds):
            cid = uuid.uuid4().hex
            client.post(f"{base}/api/chat", json={"conversation_id": cid, "text": "tarvitsen apua työnhakuun"})
            t0 = time.perf_counter()
            r = client.post(f"{base}/api/chat", json={"conversation_id": cid, "text": "haluan puhua ihmisen kanssa"})
            ticket_id = r.json()["ticket"]["id"]
            while ticket_id not in {t["id"] for t in client.get(f"{base}/api/tickets?status=queued", headers=auth).json()["tickets"]}:
                time.sleep(0.005)
            visible.append(time.perf_counter() - t0)
            client.post(f"{base}/api/tickets/claim", headers=auth)
            got = threading.Event()

            def listen(cid: str = cid, got: threading.Event = got) -> None:
                with httpx.stream("GET", f"{base}/api/chat/{cid}/events", timeout=30) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:") and json.loads(line[5:])["sender"] == "adviser":
                            got.set()
                            return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            time.sleep(0.3)  # the browser is listening before the adviser answers
            t1 = time.perf_counter()
            client.post(f"{base}/api/tickets/{ticket_id}/reply", json={"text": "Hei, autan."}, headers=auth)
            got.wait(10)
            delivered.append(time.perf_counter() - t1)
            client.post(f"{base}/api/tickets/{ticket_id}/close", json={"outcome": "answered"}, headers=auth)
        client.close()
    finally:
        stack.stop()

    def q(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100)[p - 1] * 1000

    return [
        f"Hand-off message → ticket visible in the queue ({rounds} hand-offs through the full stack): "
        f"p50 {q(visible, 50):.0f} ms, p95 {q(visible, 95):.0f} ms (this includes the whole chat turn: "
        "language detection, Rasa, the hand-off action's decision and the hub carrying it out).",
        f"Adviser's reply → arrival on the customer's live stream (SSE, polled every 0.25 s): "
        f"p50 {q(delivered, 50):.0f} ms, p95 {q(delivered, 95):.0f} ms.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims-only", action="store_true", help="only the claims table (no Rasa model needed)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), action="append",
                        help="the database(s) to claim on; both by default")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent claimers, e.g. 1,5,20")
    parser.add_argument("--hub-processes", type=int, default=1,
                        help="hub processes sharing the port (as `luotsi run --hubs N` behind its balancer)")
    args = parser.parse_args()
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    databases = tuple(names[d] for d in args.db) if args.db else ("SQLite", "PostgreSQL")
    print("\n".join(claims_table(databases, tuple(int(n) for n in args.levels.split(",")), args.hub_processes)))
    if not args.claims_only:
        print()
        print("\n\n".join(latency_lines()))


if __name__ == "__main__":
    main()
