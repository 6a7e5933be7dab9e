"""Retention (bot/services/retention.py) through `luotsi purge` and the daily run of `luotsi run`
(bot/cli.py): old data of every kind is deleted, fresh data and open tickets stay, Rasa forgets
the purged conversations, the output holds counts and no personal data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cli import DailyPurge
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import (
    Attachment,
    AuditEvent,
    Conversation,
    MailMessage,
    Message,
    PhoneCall,
    TelegramChat,
    TelegramUpdate,
    Ticket,
    TicketEvent,
)
from tests import factories as f

NOW = datetime.now(timezone.utc)
HETU = "131052-308T"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, settings: Settings) -> str:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else settings.database_url
    migrate(url)
    return str(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def conversation(db: Session, name: str, *, age: float, channel: str = "web", external_id: str | None = None) -> str:
    c = Conversation(channel=channel, external_id=external_id or name, language="fi", created_at=ago(age),
                     updated_at=ago(age))
    db.add(c)
    db.flush()
    db.add(Message(conversation_id=c.id, sender="customer", text=f"{name}: tunnukseni {HETU}", language="fi",
                   status="answered", created_at=ago(age)))
    db.flush()
    return c.id


def ticket(db: Session, conversation_id: str, *, status: str, closed_age: float | None = None, age: float = 1) -> str:
    t = Ticket(conversation_id=conversation_id, channel="web", queue="jobseeker_espoo", status=status,
               reason="asked_for_human", contact={"channel": "web", "phone": "+358401234567"}, created_at=ago(age),
               closed_at=ago(closed_age) if closed_age is not None else None)
    db.add(t)
    db.flush()
    db.add(TicketEvent(ticket_id=t.id, kind="created", at=ago(age)))
    return t.id


def mail(db: Session, conversation_id: str, ticket_id: str | None, *, age: float, mid: str) -> None:
    db.add(MailMessage(message_id=mid, mailbox="jobseekers@luotsi.localhost", sender="maija@example.fi",
                       subject="Työnhaku", raw=b"From: maija@example.fi\r\n\r\nHei", conversation_id=conversation_id,
                       ticket_id=ticket_id, received_at=ago(age)))


def attachment(db: Session, conversation_id: str, *, age: float, name: str) -> None:
    message_id = db.scalars(select(Message.id).where(Message.conversation_id == conversation_id)).first()
    db.add(Attachment(conversation_id=conversation_id, message_id=message_id, filename=name, content_type="image/jpeg",
                      size=3, data=b"jpg", created_at=ago(age)))


def call(db: Session, conversation_id: str, *, age: float, sid: str) -> None:
    db.add(PhoneCall(call_sid=sid, conversation_id=conversation_id, caller="+358401234567", step="done", tries=0,
                     created_at=ago(age), updated_at=ago(age)))


def update(db: Session, update_id: int, *, age: float, status: str) -> None:
    db.add(TelegramUpdate(update_id=update_id, chat_id=555, status=status, attempts=1, received_at=ago(age),
                          payload=None if status == "done" else {"update_id": update_id}))


def plant(db: Session) -> dict[str, str]:
    """Old and fresh data of every kind; {name: conversation id}."""
    ids = {
        "old_chat": conversation(db, "old_chat", age=100),
        "fresh_chat": conversation(db, "fresh_chat", age=10),
        "old_closed": conversation(db, "old_closed", age=420),
        "fresh_closed": conversation(db, "fresh_closed", age=30),
        "old_open": conversation(db, "old_open", age=500),
        "old_telegram": conversation(db, "old_telegram", age=100, channel="telegram", external_id="555"),
    }
    ticket(db, ids["old_closed"], status="closed", closed_age=400, age=410)
    ticket(db, ids["fresh_closed"], status="closed", closed_age=20, age=30)
    open_ticket = ticket(db, ids["old_open"], status="queued", age=500)
    mail(db, ids["old_open"], open_ticket, age=100, mid="<old@example.fi>")
    mail(db, ids["old_open"], open_ticket, age=10, mid="<fresh@example.fi>")
    attachment(db, ids["old_open"], age=400, name="old.jpg")
    attachment(db, ids["fresh_chat"], age=10, name="fresh.jpg")
    call(db, ids["old_open"], age=100, sid="CA-old")
    call(db, ids["fresh_chat"], age=10, sid="CA-fresh")
    db.add(TelegramChat(chat_id=555, chat_type="private"))
    update(db, 1, age=40, status="done")
    update(db, 2, age=40, status="received")  # not processed yet: work in progress, kept
    update(db, 3, age=5, status="done")
    db.add(AuditEvent(action="privacy.erase", actor="admin", key_kind="email", counts={}, at=ago(800)))
    db.add(AuditEvent(action="privacy.erase", actor="admin", key_kind="phone", counts={}, at=ago(100)))
    db.commit()
    return ids


def luotsi(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LUOTSI_DATABASE_URL": db_url, **env})


def test_purge_deletes_old_data_and_keeps_fresh_data(db_url: str, db: Session) -> None:
    ids = plant(db)
    f.plant_tracker(db_url, list(ids.values()))  # Rasa's tracker store holds every conversation
    out = luotsi(db_url, "purge", LUOTSI_RASA_URL="http://127.0.0.1:9")  # Rasa itself is not needed
    assert out.returncode == 0, out.stderr
    assert "conversations 3" in out.stdout and "tickets 1" in out.stdout and "rasa_forgotten 3" in out.stdout
    for personal in (HETU, "+358401234567", "maija@example.fi", "old_chat"):
        assert personal not in out.stdout + out.stderr

    db.expire_all()
    left = set(db.scalars(select(Conversation.id)))
    # without a ticket past 90 days; the old closed ticket's conversation once its ticket is gone
    assert left == {ids["fresh_chat"], ids["fresh_closed"], ids["old_open"]}
    # the purged conversations are gone from Rasa's tracker store, the kept ones stay
    assert f.tracker_senders(db_url) == {ids["fresh_chat"], ids["fresh_closed"], ids["old_open"]}
    assert {t.conversation_id for t in db.scalars(select(Ticket))} == {ids["fresh_closed"], ids["old_open"]}
    assert db.scalar(select(func.count()).select_from(TicketEvent)) == 2
    assert not db.scalars(select(Message).where(Message.conversation_id.not_in(left))).all()
    assert [m.message_id for m in db.scalars(select(MailMessage))] == ["<fresh@example.fi>"]
    assert [a.filename for a in db.scalars(select(Attachment))] == ["fresh.jpg"]
    assert [c.call_sid for c in db.scalars(select(PhoneCall))] == ["CA-fresh"]
    assert sorted(u.update_id for u in db.scalars(select(TelegramUpdate))) == [2, 3]
    assert not db.scalars(select(TelegramChat)).all()  # its conversation was purged
    audit = db.scalars(select(AuditEvent).order_by(AuditEvent.at)).all()
    assert [a.action for a in audit] == ["privacy.erase", "retention.purge"]  # the 800-day-old entry is gone
    purge = audit[-1]
    assert purge.actor == "retention" and purge.key_kind is None
    assert purge.counts["conversations"] == 3 and purge.counts["rasa_forgotten"] == 3

    again = luotsi(db_url, "purge")  # nothing left to purge
    assert again.returncode == 0 and "conversations 0" in again.stdout


def test_retention_periods_come_from_the_settings(db_url: str, db: Session, dead_rasa_url: str) -> None:
    ids = plant(db)
    out = luotsi(db_url, "purge", LUOTSI_RASA_URL=dead_rasa_url, LUOTSI_RETENTION_CONVERSATION_DAYS="5",
                 LUOTSI_RETENTION_TICKET_DAYS="10", LUOTSI_RETENTION_MAIL_DAYS="5")
    assert out.returncode == 0, out.stderr
    assert "rasa_forgotten 5" in out.stdout  # Rasa is down; its tracker store is emptied all the same
    db.expire_all()
    assert set(db.scalars(select(Conversation.id))) == {ids["old_open"]}  # an open ticket is never purged
    assert not db.scalars(select(MailMessage)).all()


def test_the_daily_run_purges_once_a_day(db_url: str, db: Session, dead_rasa_url: str) -> None:
    """`luotsi run`'s daily purge: the first check purges, later checks within the day do not (the last
    run is read from the audit trail, so a restarted `luotsi run` does not purge again either)."""
    ids = plant(db)
    settings = Settings(database_url=db_url, rasa_url=dead_rasa_url)
    daily = DailyPurge(settings, rasa_token=None, first_check=0.0, check_every=0.05)
    daily.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.expire_all()
            if db.get(Conversation, ids["old_chat"]) is None:
                break
            time.sleep(0.05)
        time.sleep(0.3)  # several more checks
    finally:
        daily.stop()
        daily.join(timeout=10)
    assert not daily.is_alive()
    db.expire_all()
    assert db.get(Conversation, ids["old_chat"]) is None and db.get(Conversation, ids["fresh_chat"]) is not None
    runs = db.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purge")).all()
    assert len(runs) == 1
