#!/usr/bin/env python3
"""E-mail intake benchmarks (make bench-mail): prints Markdown for docs/benchmarks.md.

- messages per second accepted durably (raw mail + message + ticket committed before the 250),
  on SQLite and on PostgreSQL, next to a bare aiosmtpd handler that discards mail, same run;
- time from the end of DATA to the ticket being visible in the queue (p50/p95).
"""

from __future__ import annotations

import smtplib
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from bot.models import Ticket  # noqa: E402
from integrations.email.server import make_controller  # noqa: E402
from tests.conftest import PG_ADMIN, free_port  # noqa: E402

MESSAGES = 300
BODY = ("Hei,\r\n\r\nhaluaisimme palkata uuden työntekijän palkkatuella. Miten haemme tukea ja kuinka kauan "
        "päätös kestää?\r\n\r\nTerveisin\r\nMaija Virtanen\r\nFirma Oy\r\n")


def message(n: int) -> bytes:
    return (f"From: Maija <maija{n % 50}@firma.fi>\r\nTo: employers@luotsi.localhost\r\nSubject: Palkkatuki {n}\r\n"
            f"Message-ID: <bench-{uuid.uuid4().hex}@firma.fi>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + BODY).encode()


class Discard:
    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        return "250 OK"


def blast(port: int, check=None) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    latencies = []
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        for n in range(MESSAGES):
            client.mail(f"maija{n % 50}@firma.fi")
            client.rcpt("employers@luotsi.localhost")
            t0 = time.perf_counter()
            code, _ = client.data(message(n))
            latencies.append(time.perf_counter() - t0)
            assert code == 250, code
            if check is not None:
                check(n + 1)
    return MESSAGES / (time.perf_counter() - started), latencies


def two_intakes(url: str, bare_rate: float) -> str:
    """Two intake processes' worth (two controllers, two ports, one PostgreSQL database), each with
    its own sender connection, at the same time (issue 16)."""
    import threading

    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        before = db.scalar(select(func.count()).select_from(Ticket)) or 0
    controllers = []
    for _ in range(2):
        settings = Settings(database_url=url, smtp_port=free_port(), smtp_relay="127.0.0.1:1")
        settings.mailboxes = "employers@luotsi.localhost=employer_advisory"
        controller = make_controller(settings, factory)
        controller.start()
        controllers.append((settings.smtp_port, controller))
    latencies: list[float] = []
    threads = [threading.Thread(target=lambda port=port: latencies.extend(blast(port)[1])) for port, _ in controllers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = 2 * MESSAGES / (time.perf_counter() - started)
    for _, controller in controllers:
        controller.stop()
    with factory() as db:
        after = db.scalar(select(func.count()).select_from(Ticket)) or 0
    engine.dispose()
    assert after - before == 2 * MESSAGES, (before, after)  # every accepted mail is a ticket
    q = statistics.quantiles(latencies, n=100)
    return (f"| PostgreSQL, two intakes at once | {rate:.0f} | {bare_rate:.0f} | ×{bare_rate / rate:.1f} | "
            f"{q[49] * 1000:.1f} | {q[94] * 1000:.1f} |")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="luotsi-bench-mail-"))
    bare = Controller(Discard(), hostname="127.0.0.1", port=free_port())
    bare.start()
    bare_rate, _ = blast(bare.port)
    bare.stop()
    pg_name = f"luotsi_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{pg_name}"')
    rows = []
    try:
        for name, url in (("SQLite", f"sqlite:///{tmp / 'mail.db'}"),
                          ("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}")):
            settings = Settings(database_url=url, smtp_port=free_port(), smtp_relay="127.0.0.1:1")
            settings.mailboxes = "employers@luotsi.localhost=employer_advisory"
            migrate(url)
            engine = make_engine(url)
            factory = make_sessionmaker(engine)
            controller = make_controller(settings, factory)
            controller.start()

            def visible(expected: int, factory=factory) -> None:  # type: ignore[no-untyped-def]
                with factory() as db:
                    assert db.scalar(select(func.count()).select_from(Ticket)) == expected

            rate, latencies = blast(settings.smtp_port, visible)
            controller.stop()
            engine.dispose()
            q = statistics.quantiles(latencies, n=100)
            rows.append(f"| {name} | {rate:.0f} | {bare_rate:.0f} | ×{bare_rate / rate:.1f} | "
                        f"{q[49] * 1000:.1f} | {q[94] * 1000:.1f} |")
        rows.append(two_intakes(f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}", bare_rate))
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print(f"{MESSAGES} messages over one SMTP connection; every ticket checked visible right after its 250.\n")
    print("| database | accepted durably / s | bare aiosmtpd discard / s | overhead | end of DATA → 250 (ticket committed) p50 ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
