"""Small factories for the desk tests: advisers, shifts covering now, conversations with tickets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from bot.models import Adviser, Conversation, Message, Shift
from bot.services.auth import do_create_adviser

PASSWORD = "correct-horse-battery"


def now() -> datetime:
    return datetime.now(timezone.utc)


def adviser(session: Session, username: str, *, city: str = "espoo", role: str = "adviser",
            languages: str = "fi,sv,en", max_open: int = 5) -> Adviser:
    return do_create_adviser(session, username=username, role=role, city=city, languages=languages,
                             password=PASSWORD, now=now(), max_open_tickets=max_open)


def shift(session: Session, city: str, queue: str, *, hours: float = 4.0, channel: str | None = None) -> Shift:
    s = Shift(city=city, queue=queue, channel=channel, starts_at=now() - timedelta(hours=1),
              ends_at=now() + timedelta(hours=hours))
    session.add(s)
    session.commit()
    return s


def conversation(session: Session, external_id: str, *, language: str = "fi", text: str = "tarvitsen apua",
                 channel: str = "web") -> Conversation:
    c = Conversation(channel=channel, external_id=external_id, language=language, created_at=now(), updated_at=now())
    session.add(c)
    session.flush()
    session.add(Message(conversation_id=c.id, sender="customer", text=text, language=language,
                        status="answered", created_at=now()))
    session.commit()
    return c


def staff_the_stack(database_url: str, username: str, *, languages: str = "fi,sv,en") -> None:
    """A shift covering now for every queue (once), and an Espoo adviser, in a running stack's database."""
    from sqlalchemy import select

    from bot.db import make_engine, make_sessionmaker
    from bot.models import Adviser, Queue

    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        covered = session.scalars(select(Shift).where(Shift.city == "espoo", Shift.starts_at <= now(),
                                                      Shift.ends_at > now())).first()
        if covered is None:
            for code in session.scalars(select(Queue.code)).all():
                shift(session, "espoo", code)
        if session.scalars(select(Adviser).where(Adviser.username == username)).first() is None:
            adviser(session, username, languages=languages, max_open=50)
    engine.dispose()


def disclosures() -> set[str]:
    """The AI disclosure in every language: the first answer of a conversation ends with it."""
    from bot.locales import catalogues, render

    return {render("sys_ai_disclosure", language).text for language in catalogues()}


def answers(replies: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """A turn's replies without the AI disclosure (checked on its own where it matters)."""
    said = disclosures()
    return [r for r in replies if r.get("text") not in said]


def plant_tracker(database_url: str, sender_ids: list[str], events: int = 3) -> None:
    """Rows in Rasa's tracker store (its SQLTrackerStore table `events`), as Rasa writes them."""
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, insert

    from bot.config import Settings
    from bot.services.rasa_store import tracker_store_url

    table = Table("events", MetaData(), Column("id", Integer, primary_key=True, autoincrement=True),
                  Column("sender_id", String(255), nullable=False, index=True),
                  Column("type_name", String(255), nullable=False), Column("timestamp", Float),
                  Column("intent_name", String(255)), Column("action_name", String(255)), Column("data", Text))
    engine = create_engine(tracker_store_url(Settings(database_url=database_url)))
    table.metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(insert(table), [{"sender_id": sender, "type_name": "user", "timestamp": float(i),
                                   "data": '{"text": "hetu 010190-123A"}'}
                                  for sender in sender_ids for i in range(events)])
    engine.dispose()


def tracker_senders(database_url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    from bot.config import Settings
    from bot.services.rasa_store import tracker_store_url

    engine = create_engine(tracker_store_url(Settings(database_url=database_url)))
    with engine.connect() as c:
        found = {row[0] for row in c.execute(text("SELECT DISTINCT sender_id FROM events"))}
    engine.dispose()
    return found
