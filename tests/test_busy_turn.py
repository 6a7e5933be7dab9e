"""The busy answer written as plain statements (`busy_turn`) stores what the ORM path stores.

`busy_turn` skips the unit of work because it is the answer most customers get when everyone
comes at once; the rows it leaves must still be exactly those of the ordinary write of a
customer's message (`_receive` → `do_keep_message`) plus `_store_replies`, and its commit must
wake the conversation's live stream like any other."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render
from bot.messages import InboundMessage
from bot.models import Conversation, Message
from bot.services import events
from bot.services.conversations import _receive, _store_replies, busy_turn, disclosure

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


class Heard:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    def notify(self, keys: frozenset[str]) -> None:
        self.keys |= keys


def _orm_busy(session: Session, message: InboundMessage, now: datetime, reply_status: str) -> None:
    """The busy answer as the ORM path wrote it (the reference)."""
    conversation, inbound, _previous, _hints = _receive(session, message, now, commit=False, thorough=False)
    language = conversation.language or "en"
    if conversation.handler == "human":
        inbound.status = "for_adviser"
    else:
        inbound.status = "kept"
        replies = [render("sys_busy", language)]
        if conversation.created_at == now:
            replies.insert(0, disclosure(language))
        _store_replies(session, conversation, replies, language, now, reply_status)
    session.commit()


def _state(factory: sessionmaker[Session]) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    with factory() as session:
        conversations = [{c: getattr(row, c) for c in ("channel", "external_id", "language", "locale", "handler",
                                                        "created_at", "updated_at")}
                         for row in session.scalars(select(Conversation).order_by(Conversation.external_id))]
        ids = {row.id: row.external_id for row in session.scalars(select(Conversation))}
        messages = [(ids[m.conversation_id], m.sender, m.text, m.language, m.language_confidence, m.status,
                     m.buttons, m.created_at, m.translation, m.outcome)
                    for m in session.scalars(select(Message).order_by(Message.id))]
    return conversations, messages


STEPS = [  # (external id, text, locale, chosen language, minutes after NOW)
    ("web-1", "Miten ilmoittaudun työnhakijaksi?", None, None, 0),  # a new conversation: disclosure first
    ("web-1", "Entä jos olen lomautettu?", "fi-FI", None, 1),  # the same conversation, a locale now
    ("web-1", "How do I register as a jobseeker in Espoo?", None, None, 2),  # switches language
    ("web-1", "👍", None, None, 3),  # nothing to identify: the language stays
    ("web-2", "كيف أسجل كباحث عن عمل؟", "ar", None, 4),
    ("tg-3", "Salaan", None, "so", 5),  # a language picked with a button decides
    ("human-4", "Onko siellä ketään?", None, None, 6),  # an adviser's conversation: kept for them, no reply
]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_busy_answer_stores_what_the_orm_path_stores(database: str, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    results = []
    for variant in ("orm", "plain"):
        url = (f"sqlite:///{tmp_path / f'{variant}.db'}" if database == "sqlite"
               else request.getfixturevalue("pg_url") if variant == "orm" else _another_pg(request))
        migrate(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        heard = Heard()
        events.install_change_events(factory, heard)
        with factory() as session:
            session.add(Conversation(channel="web", external_id="human-4", language="fi", handler="human",
                                     created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(days=1)))
            session.commit()
        for external_id, text, locale, chosen, minutes in STEPS:
            message = InboundMessage(channel="telegram" if external_id.startswith("tg") else "web",
                                     external_id=external_id, text=text, locale=locale, chosen_language=chosen)
            now = NOW + timedelta(minutes=minutes)
            with factory() as session:
                if variant == "orm":
                    _orm_busy(session, message, now, "pending" if chosen else "sent")
                else:
                    turn = busy_turn(session, message, now=now, reply_status="pending" if chosen else "sent")
                    assert turn.replies == () if external_id == "human-4" else turn.replies[-1].text == render(
                        "sys_busy", turn.language).text
        with factory() as session:
            keys = {events.conversation_key(c.id): c.external_id for c in session.scalars(select(Conversation))}
        results.append((_state(factory), {keys[k] for k in heard.keys if k in keys}))
        engine.dispose()
    (orm_state, orm_heard), (plain_state, plain_heard) = results
    assert plain_state == orm_state
    assert plain_heard == orm_heard == {"web-1", "web-2", "tg-3", "human-4"}  # every stream woken
    _conversations, messages = plain_state
    assert [m[5] for m in messages if m[0] == "human-4"] == ["for_adviser"]
    assert [m[2] for m in messages if m[0] == "web-2"][1] == render("sys_ai_disclosure", "ar").text


def _another_pg(request: pytest.FixtureRequest) -> str:
    """A second fresh PostgreSQL database (the `pg_url` fixture gives one per test)."""
    import uuid

    import psycopg

    from tests.conftest import PG_ADMIN

    name = f"luotsi_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
