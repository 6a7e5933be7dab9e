"""Atomic claiming: two hub processes on one database (PostgreSQL, and SQLite too), 20 concurrent
claimers, 500 tickets — each claimed exactly once, none lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bot.config import ROOT
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation, Shift, Ticket, TicketEvent
from bot.services.auth import do_create_adviser
from tests import factories as f
from tests.conftest import free_port

TICKETS = 500
CLAIMERS = 20


def _seed(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        session.add(Shift(city="espoo", queue="jobseeker_espoo", channel=None,
                          starts_at=f.now() - timedelta(hours=1), ends_at=f.now() + timedelta(hours=4)))
        for n in range(CLAIMERS):
            do_create_adviser(session, username=f"claimer{n}", role="adviser", city="espoo", languages="fi",
                              password=f.PASSWORD, now=f.now(), max_open_tickets=TICKETS)
        for n in range(TICKETS):
            conv = Conversation(id=f"c{n:030d}", channel="web", external_id=f"w{n}", language="fi",
                                created_at=f.now(), updated_at=f.now())
            session.add(conv)
            session.add(Ticket(conversation_id=conv.id, channel="web", queue="jobseeker_espoo", language="fi",
                               reason="asked_for_human", created_at=f.now() + timedelta(microseconds=n)))
        session.commit()
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'claims.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def two_hubs(db_url: str) -> Iterator[list[str]]:
    _seed(db_url)
    procs, urls = [], []
    for _ in range(2):
        port = free_port()
        env = dict(os.environ, LUOTSI_DATABASE_URL=db_url, LUOTSI_RASA_URL=f"http://127.0.0.1:{free_port()}")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bot.app:create_app", "--factory", "--port", str(port),
             "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            for _ in range(120):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
        yield urls
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)


def test_each_ticket_claimed_exactly_once(two_hubs: list[str], db_url: str) -> None:
    tokens = []
    for n in range(CLAIMERS):
        r = httpx.post(f"{two_hubs[n % 2]}/api/auth/token", data={"username": f"claimer{n}", "password": f.PASSWORD})
        assert r.status_code == 200
        tokens.append(r.json()["access_token"])
    claimed: list[list[str]] = [[] for _ in range(CLAIMERS)]
    errors: list[str] = []

    def claimer(n: int) -> None:
        with httpx.Client(timeout=30) as client:
            turn = n
            while True:
                r = client.post(f"{two_hubs[turn % 2]}/api/tickets/claim",
                                headers={"Authorization": f"Bearer {tokens[n]}"})
                turn += 1
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:100]}")
                    return
                if r.json() is None:
                    return
                claimed[n].append(r.json()["id"])

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    everything = [tid for ids in claimed for tid in ids]
    assert len(everything) == TICKETS
    assert len(set(everything)) == TICKETS  # no ticket held by two advisers
    assert sum(1 for ids in claimed if ids) > 1  # the claimers really competed
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).where(Ticket.status == "queued")) == 0
        assert session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "claimed")) == TICKETS
        owners = dict(session.execute(select(Ticket.id, Ticket.assigned_to)).all())
    engine.dispose()
    by_claimer = {tid: n for n, ids in enumerate(claimed) for tid in ids}
    assert all(owners[tid] is not None for tid in by_claimer)


def test_one_ticket_claimed_by_id_at_once_has_exactly_one_winner(two_hubs: list[str], db_url: str) -> None:
    """Issue 15: twenty advisers press "claim" on the same ticket in the waiting list at once, through
    two hub processes: one gets it, every other hears 409 `taken`."""
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        target = session.scalars(select(Ticket.id).order_by(Ticket.created_at).limit(1)).one()
    engine.dispose()
    tokens = [httpx.post(f"{two_hubs[n % 2]}/api/auth/token",
                         data={"username": f"claimer{n}", "password": f.PASSWORD}).json()["access_token"]
              for n in range(CLAIMERS)]
    results: list[tuple[int, int]] = []
    start = threading.Barrier(CLAIMERS)

    def claim(n: int) -> None:
        start.wait()
        r = httpx.post(f"{two_hubs[n % 2]}/api/tickets/{target}/claim",
                       headers={"Authorization": f"Bearer {tokens[n]}"}, timeout=30)
        results.append((n, r.status_code))
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "taken"

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(CLAIMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(code for _, code in results) == [200] + [409] * (CLAIMERS - 1)
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(TicketEvent)
                              .where(TicketEvent.ticket_id == target, TicketEvent.kind == "claimed")) == 1
    engine.dispose()
