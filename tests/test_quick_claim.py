"""Claim-next in one statement (bot/services/quick_claim.py) follows the full path's rules.

The full path (`tickets.do_claim_next`, one query per rule) is the definition; the quick statement
writes the same rules in SQL. On random desks — queues, shifts for some channels or all, advisers
of three cities with their own languages and limits, tickets in many languages and priorities,
some flagged for interpreting, some with files — every step asks the full path which ticket it
would give (and rolls back), then lets the quick statement claim, and requires the same ticket, or
nothing only where the full path would refuse or a supervisor's shift-less scope applies. The
ticket it returns must read exactly as the full path's ticket view shows it.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.api.tickets import _quick_public, to_public
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Adviser, Attachment, Conversation, Message, Queue, Shift, Ticket, TicketEvent
from bot.services import shifts
from bot.services import tickets as svc
from bot.services.auth import do_issue_token
from bot.services.events import DESK
from bot.services.quick_claim import QuickClaims
from tests import factories as f

LANGUAGES = ["fi", "sv", "en", "ru", "uk", "et", "ar", "so", "fa", "und", None]
CITIES = ["espoo", "helsinki", "vantaa"]
CHANNELS = ["web", "telegram", "email", "phone"]


class Published:
    def __init__(self) -> None:
        self.keys: list[frozenset[str]] = []

    def notify(self, keys: frozenset[str]) -> None:
        self.keys.append(keys)


def _desk(db: Session, rng: random.Random, now: datetime) -> list[tuple[Adviser, str]]:
    queues = sorted(db.scalars(select(Queue.code)))
    staffed = rng.sample(queues, k=3)  # most tickets wait in these; most shifts are for them
    for city in CITIES:
        for queue in rng.sample(staffed, k=rng.choice([0, 2, 3])) + rng.sample(queues, k=1):
            db.add(Shift(city=city, queue=queue, channel=rng.choice([None, None, None, *CHANNELS]),
                         starts_at=now - timedelta(hours=1),
                         ends_at=now + timedelta(hours=rng.choice([-0.5, 4, 4, 4]))))
    advisers = []
    for n in range(6):
        spoken = rng.sample(["fi", "sv", "en", "ru", "so", "ar"], k=rng.randint(1, 3))
        a = f.adviser(db, f"a{n}-{uuid.uuid4().hex[:6]}", city=rng.choice(CITIES), languages=",".join(spoken),
                      role=rng.choice(["adviser"] * 5 + ["supervisor"]), max_open=rng.randint(2, 15))
        token, _ = do_issue_token(db, a, kind="bearer", now=now, lifetime=timedelta(hours=1))
        advisers.append((a, token))
    for n in range(50):
        language = rng.choice(LANGUAGES)
        conv = Conversation(channel=rng.choice(CHANNELS), external_id=uuid.uuid4().hex, language=language,
                            created_at=now, updated_at=now)
        db.add(conv)
        db.flush()
        for m in range(rng.randint(0, 3)):
            message = Message(conversation_id=conv.id, sender=rng.choice(["customer", "assistant"]),
                              text=f"viesti {n}.{m}", language=language, status="answered",
                              translation=rng.choice([None, f"message {n}.{m}"]),
                              translation_language=rng.choice([None, "fi", "en"]),
                              created_at=now - timedelta(minutes=60 - m))
            db.add(message)
            db.flush()
            for k in range(rng.choice([0, 0, 0, 1, 2])):
                db.add(Attachment(conversation_id=conv.id, message_id=message.id, filename=f"liite{k}.pdf",
                                  content_type="application/pdf", size=100 + k, data=b"%PDF", created_at=now))
        db.add(Ticket(conversation_id=conv.id, channel=conv.channel, queue=rng.choice(staffed if rng.random() < 0.8 else queues), language=language,
                      priority=rng.choice([0, 0, 0, 1, 2]), needs_interpreter=rng.random() < 0.15,
                      reason="asked_for_human", summary=rng.choice([None, "tiivistelmä"]),
                      contact=rng.choice([None, {"email": "x@example.fi"}]),
                      created_at=now - timedelta(minutes=rng.randint(0, 500), seconds=n)))
    db.commit()
    return advisers


def _expected(db: Session, adviser: Adviser, now: datetime, queue: str | None) -> tuple[str, Any]:
    """What the full path answers, without keeping it."""
    try:
        ticket = svc.do_claim_next(db, db.get(Adviser, adviser.id), now, queue=queue, commit=False)  # type: ignore[arg-type]
    except svc.TicketError as exc:
        db.rollback()
        return "refused", exc.code
    db.rollback()
    return ("ticket", ticket.id) if ticket is not None else ("nothing", None)


def _shiftless_lead(db: Session, adviser: Adviser, now: datetime) -> bool:
    """A supervisor or admin whose city staffs nothing now claims from every queue (full path only)."""
    return adviser.role in ("supervisor", "admin") and not shifts.scope_of_adviser(db, adviser, now)


@pytest.mark.parametrize("seed", range(6))
def test_the_quick_claim_takes_the_ticket_the_full_path_would(pg_url: str, seed: int) -> None:
    migrate(pg_url)
    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    published = Published()
    quick = QuickClaims(pg_url, published)
    outcomes: dict[str, int] = {"ticket": 0, "nothing": 0, "refused": 0, "shiftless": 0}

    async def steps() -> None:
        await quick.open()
        try:
            with factory() as db:
                advisers = _desk(db, rng, now)
                queues = sorted(db.scalars(select(Queue.code)))
                for _step in range(80):
                    adviser, token = rng.choice(advisers)
                    queue = rng.choice([None, None, None, rng.choice(queues)])
                    kind, expected = _expected(db, adviser, now, queue)
                    outcomes[kind] += 1
                    claimed = await quick.claim_next(token, now, queue)
                    if kind == "ticket" and claimed is None and _shiftless_lead(db, adviser, now):
                        outcomes["shiftless"] += 1  # every queue: the full path's case, by design
                    elif kind == "ticket":
                        assert claimed is not None, f"step {_step}: the full path gives {expected}, the quick one nothing"
                        assert claimed.ticket["id"] == expected
                        shown = to_public(db, db.get(Ticket, expected), transcript=True)  # type: ignore[arg-type]
                        assert _quick_public(claimed).model_dump() == shown.model_dump()
                        db.expire_all()
                    else:
                        assert claimed is None, f"step {_step}: the full path says {kind} {expected}"
        finally:
            await quick.aclose()

    asyncio.run(steps())
    engine.dispose()

    assert outcomes["ticket"] - outcomes["shiftless"] >= 10  # random desks: each must still claim a fair number
    assert len(published.keys) == outcomes["ticket"] - outcomes["shiftless"] and all(k == frozenset({DESK}) for k in published.keys)


def test_each_quick_claim_is_held_and_recorded_once(pg_url: str) -> None:
    """Twenty advisers claim at once on the quick path: every ticket once, each with one event."""
    migrate(pg_url)
    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    now = datetime.now(timezone.utc)
    with factory() as db:
        f.shift(db, "espoo", "jobseeker_espoo")
        tokens = []
        for n in range(20):
            a = f.adviser(db, f"q{n}", max_open=1000)
            tokens.append(do_issue_token(db, a, kind="bearer", now=now, lifetime=timedelta(hours=1))[0])
        for n in range(150):
            conv = f.conversation(db, f"c{n}")
            db.add(Ticket(conversation_id=conv.id, channel="web", queue="jobseeker_espoo", language="fi",
                          reason="asked_for_human", created_at=now - timedelta(seconds=n)))
        db.commit()
    quick = QuickClaims(pg_url, Published(), size=4)

    async def claimer(token: str) -> list[str]:
        got = []
        while (claimed := await quick.claim_next(token, now)) is not None:
            got.append(claimed.ticket["id"])
        return got

    async def run() -> list[list[str]]:
        await quick.open()
        try:
            return await asyncio.gather(*(claimer(t) for t in tokens))
        finally:
            await quick.aclose()

    claimed = [t for got in asyncio.run(run()) for t in got]
    with factory() as db:
        assert len(claimed) == len(set(claimed)) == 150
        assert db.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "claimed")) == 150
        events = db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "claimed")).all()
        assert sorted(events) == sorted(claimed)
    engine.dispose()


def test_without_the_database_the_quick_claim_steps_aside(pg_url: str) -> None:
    """No connection within the wait: None (the full path then answers 503), quickly, nothing claimed."""
    quick = QuickClaims("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", Published(), wait_seconds=0.3)

    async def run() -> Any:
        await quick.open()
        try:
            return await quick.claim_next("whatever", datetime.now(timezone.utc))
        finally:
            await quick.aclose()

    assert asyncio.run(run()) is None
