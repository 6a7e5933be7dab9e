"""The data subject's rights through the HTTP API (bot/api/privacy.py, bot/services/privacy.py): one
person with a web chat, an e-mail ticket, a phone callback and a Telegram chat, each holding a
planted identity code, phone number or e-mail address; export finds all of it, erasure leaves
nothing findable in any table, Rasa forgets the conversations, and the audit entry records the act
without the data. Only admins may do either."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
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
from tests.rasa_tracker_stub import RasaRecord, rasa_stub

HETU = "131052-308T"  # the identity code of the tax administration's examples
PHONE = "+358401234567"
PHONE_AS_TYPED = "040 123 4567"
EMAIL = "maija.meikalainen@example.fi"
TG_USER = 770001234
WEB_ID = "web-person-1"
# someone else, whose data must stay untouched
OTHER_PHONE = "+358501112233"
OTHER_EMAIL = "pekka@example.fi"
OTHER_TG = 880005678
PLANTED = (HETU, PHONE, "401234567", EMAIL, str(TG_USER), WEB_ID)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Stack:
    client: TestClient
    rasa: RasaRecord
    outbox: Path

    def session(self) -> Session:
        return self.client.app.state.sessionmaker()  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[Stack]:
    """The hub on both databases, with a Rasa stand-in that records forgotten trackers."""
    if request.param == "postgresql":
        settings.database_url = request.getfixturevalue("pg_url")
    with rasa_stub() as (url, record):
        settings = settings.model_copy(update={"rasa_url": url, "rasa_token": "tracker-secret"})
        app = create_app(settings)
        app.state.outbox = tmp_path / "outbox"
        with TestClient(app) as client:
            yield Stack(client, record, tmp_path / "outbox")


def token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def admin(stack: Stack) -> dict[str, str]:
    with stack.session() as db:
        f.adviser(db, "privacy.admin", role="admin")
    return token(stack.client, "privacy.admin")


# --- the person ---------------------------------------------------------------------------------

def ticket(db: Session, conversation: Conversation, *, channel: str, contact: dict[str, object], reason: str,
           summary: str | None = None, status: str = "queued") -> Ticket:
    t = Ticket(conversation_id=conversation.id, channel=channel, queue="jobseeker_espoo", status=status,
               reason=reason, summary=summary, contact=contact, language="fi", created_at=_now(),
               closed_at=_now() if status == "closed" else None)
    db.add(t)
    db.flush()
    db.add(TicketEvent(ticket_id=t.id, kind="created", data={"queue": t.queue}, at=_now()))
    return t


def mail_conversation(db: Session, sender: str, words: str, message_id: str) -> Conversation:
    conv = f.conversation(db, f"{sender}#jobseekers@luotsi.localhost#{message_id}", channel="email",
                          text=f"Työnhaku\n\n{words}")
    t = ticket(db, conv, channel="email", reason="email", summary=words[:60],
               contact={"channel": "email", "email": sender, "name": "Maija", "mailbox": "jobseekers@luotsi.localhost"})
    raw = (f"From: Maija <{sender}>\r\nTo: jobseekers@luotsi.localhost\r\nSubject: =?utf-8?q?Ty=C3=B6nhaku?=\r\n"
           f"Message-ID: {message_id}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{words}\r\n").encode()
    db.add(MailMessage(message_id=message_id, mailbox="jobseekers@luotsi.localhost", sender=sender,
                       subject="Työnhaku", raw=raw, conversation_id=conv.id, ticket_id=t.id, received_at=_now()))
    db.add(TicketEvent(ticket_id=t.id, kind="note", data={"text": f"asked for {sender}"}, at=_now()))
    return conv


def phone_callback(db: Session, number: str, call_sid: str) -> Conversation:
    conv = f.conversation(db, number, channel="phone", text="(menu: jobseeker, unemployment benefit)")
    t = ticket(db, conv, channel="phone", reason="callback",
               contact={"channel": "phone", "phone": number, "window": "morning", "abandoned": False})
    db.add(PhoneCall(call_sid=call_sid, conversation_id=conv.id, caller=number, callback_number=number,
                     language="fi", step="done", tries=0, ticket_id=t.id, created_at=_now(), updated_at=_now()))
    return conv


def telegram_chat(db: Session, user_id: int, words: str, update_id: int) -> Conversation:
    conv = f.conversation(db, str(user_id), channel="telegram", text=words)
    message = db.scalars(select(Message).where(Message.conversation_id == conv.id)).one()
    db.add(Attachment(conversation_id=conv.id, message_id=message.id, filename=f"id-{words[-11:]}.jpg",
                      content_type="image/jpeg", size=11, data=words[-11:].encode(), created_at=_now()))
    db.add(TelegramChat(chat_id=user_id, chat_type="private"))
    db.add(TelegramUpdate(update_id=update_id, chat_id=user_id, status="done", payload=None, attempts=1,
                          received_at=_now(), processed_at=_now()))
    db.add(TelegramUpdate(update_id=update_id + 1, chat_id=user_id, status="received", attempts=0, received_at=_now(),
                          payload={"update_id": update_id + 1, "message": {
                              "message_id": 9, "from": {"id": user_id, "first_name": "Maija"},
                              "chat": {"id": user_id, "type": "private"}, "text": words}}))
    return conv


def plant(stack: Stack) -> dict[str, str]:
    """The person (and a bystander); {channel: our conversation id} of the person's conversations."""
    r = stack.client.post("/api/chat", json={"conversation_id": WEB_ID, "locale": "fi",
                                             "text": f"Henkilötunnukseni on {HETU}, soittakaa {PHONE_AS_TYPED}"})
    assert r.status_code == 200, r.text
    with stack.session() as db:
        web = db.scalars(select(Conversation).where(Conversation.external_id == WEB_ID)).one()
        ticket(db, web, channel="web", reason="callback",
               contact={"channel": "web", "phone": PHONE, "window": "afternoon", "abandoned": False})
        email = mail_conversation(db, EMAIL, f"Hei, henkilötunnukseni on {HETU}.", "<m1@example.fi>")
        phone = phone_callback(db, PHONE, "CA0001")
        tg = telegram_chat(db, TG_USER, f"Minun tunnukseni {HETU}", 5001)
        # the bystander
        f.conversation(db, "web-other", text="Kysyisin palkkatuesta")
        mail_conversation(db, OTHER_EMAIL, "Hei, kysyisin kotoutumiskoulutuksesta.", "<m2@example.fi>")
        phone_callback(db, OTHER_PHONE, "CA0002")
        telegram_chat(db, OTHER_TG, "Tervetuloa 010101-123N", 6001)
        db.commit()
        ids = {"web": web.id, "email": email.id, "phone": phone.id, "telegram": tg.id}
    stack.outbox.mkdir(parents=True, exist_ok=True)
    (stack.outbox / "20261203T100000-aaaa.eml").write_text(
        f"From: jobseekers@luotsi.localhost\r\nTo: {EMAIL}\r\nSubject: Re: Työnhaku\r\n\r\nHei Maija\r\n")
    (stack.outbox / "20261203T100001-bbbb.eml").write_text(
        f"From: jobseekers@luotsi.localhost\r\nTo: {OTHER_EMAIL}\r\nSubject: Re: koulutus\r\n\r\nHei Pekka\r\n")
    return ids


def _text(value: object) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def everything(stack: Stack) -> str:
    """Every row of every table (and the outbox), as one text to search for planted values."""
    parts = []
    with stack.session() as db:
        tables = [row[0] for row in db.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table'" if db.bind.dialect.name == "sqlite"  # type: ignore[union-attr]
            else "SELECT tablename FROM pg_tables WHERE schemaname='public'"))]
        for table in tables:
            for row in db.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(_text(v) for v in row)
    parts.extend(p.read_text() for p in stack.outbox.glob("*.eml"))
    return "\n".join(parts)


# --- export ---------------------------------------------------------------------------------------

def test_export_finds_the_person_by_every_key(stack: Stack) -> None:
    ids = plant(stack)
    headers = admin(stack)

    def export(**key: object) -> dict:  # type: ignore[type-arg]
        r = stack.client.post("/api/privacy/export", json=key, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    web = export(conversation_id=WEB_ID)
    assert [c["id"] for c in web["conversations"]] == [ids["web"]]
    assert HETU in web["conversations"][0]["messages"][0]["text"]  # the original, as the customer wrote it
    assert web["tickets"][0]["contact"]["phone"] == PHONE
    assert export(conversation_id=ids["web"])["conversations"][0]["id"] == ids["web"]  # our id works too

    by_mail = export(email=EMAIL.upper())  # addresses compare case-insensitively
    assert [c["id"] for c in by_mail["conversations"]] == [ids["email"]]
    assert by_mail["mail"][0]["sender"] == EMAIL and HETU in by_mail["mail"][0]["text"]
    assert by_mail["tickets"][0]["contact"]["email"] == EMAIL
    assert [e["kind"] for e in by_mail["tickets"][0]["events"]] == ["created", "note"]

    by_phone = export(phone=PHONE_AS_TYPED)  # normalised to E.164
    assert {c["id"] for c in by_phone["conversations"]} == {ids["web"], ids["phone"]}
    assert [(c["call_sid"], c["caller"]) for c in by_phone["phone_calls"]] == [("CA0001", PHONE)]

    by_telegram = export(telegram_user_id=TG_USER)
    assert [c["id"] for c in by_telegram["conversations"]] == [ids["telegram"]]
    assert [a["filename"] for a in by_telegram["attachments"]] == [f"id-{HETU}.jpg"]
    assert "data" not in by_telegram["attachments"][0]
    assert [c["chat_id"] for c in by_telegram["telegram"]["chats"]] == [TG_USER]
    assert [u["update_id"] for u in by_telegram["telegram"]["updates"]] == [5001, 5002]
    assert export(telegram_user_id=str(TG_USER))["conversations"] == by_telegram["conversations"]

    everyone = json.dumps([web, by_mail, by_phone, by_telegram])
    for theirs in (OTHER_EMAIL, OTHER_PHONE, str(OTHER_TG), "010101-123N", "web-other"):
        assert theirs not in everyone  # nobody else's data
    with stack.session() as db:
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.export")).all()
    assert [a.key_kind for a in audit] == ["conversation_id", "conversation_id", "email", "phone",
                                           "telegram_user_id", "telegram_user_id"]
    assert audit[2].actor == "privacy.admin" and audit[2].counts["mail"] == 1


# --- erasure --------------------------------------------------------------------------------------

def test_erase_leaves_nothing_findable_and_rasa_forgets(stack: Stack) -> None:
    ids = plant(stack)
    database_url = stack.client.app.state.settings.database_url  # type: ignore[attr-defined]
    f.plant_tracker(database_url, [*ids.values(), "a-bystanders-conversation"])
    headers = admin(stack)
    assert all(value in everything(stack) for value in (HETU, PHONE, EMAIL, str(TG_USER)))

    results = []
    for key in ({"conversation_id": WEB_ID}, {"email": EMAIL}, {"phone": PHONE}, {"telegram_user_id": TG_USER}):
        r = stack.client.post("/api/privacy/erase", json=key, headers=headers)
        assert r.status_code == 200, r.text
        results.append(r.json())
    web, mail, phone, tg = results
    assert web["rasa_forgotten"] is True and web["tickets_anonymised"] == 1 and web["messages"] >= 1
    assert mail["mail"] == 1 and mail["outbox_files"] == 1 and mail["ticket_events_cleared"] == 2
    assert phone["phone_calls"] == 1
    assert tg["attachments"] == 1 and tg["telegram_updates"] == 2 and tg["telegram_chats"] == 1
    assert tg["conversations"] == 1  # no ticket: deleted outright

    left = everything(stack)
    for value in PLANTED:
        assert value not in left, value
    for theirs in (OTHER_EMAIL, OTHER_PHONE, str(OTHER_TG), "010101-123N", "Kysyisin palkkatuesta"):
        assert theirs in left, theirs  # the bystander keeps everything
    # Rasa's tracker store no longer holds any of the person's conversations; the bystander's stays
    assert f.tracker_senders(database_url) == {"a-bystanders-conversation"}

    with stack.session() as db:
        for conversation_id in ids.values():
            assert not db.scalars(select(Message).where(Message.conversation_id == conversation_id)).all()
        shells = db.scalars(select(Conversation).where(Conversation.id.in_(ids.values()))).all()
        assert {c.external_id for c in shells} == {f"erased:{c.id}" for c in shells}  # kept for their tickets
        tickets = db.scalars(select(Ticket).where(Ticket.conversation_id.in_(ids.values()))).all()
        assert len(tickets) == 3 and all(t.contact is None and t.summary is None for t in tickets)
        audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erase").order_by(AuditEvent.id)).all()
    assert [a.key_kind for a in audit] == ["conversation_id", "email", "phone", "telegram_user_id"]
    assert all(a.actor == "privacy.admin" and a.at is not None and a.counts["rasa_forgotten"] is True for a in audit)
    assert audit[1].counts["mail"] == 1

    again = stack.client.post("/api/privacy/export", json={"email": EMAIL}, headers=headers).json()
    assert again["conversations"] == [] and again["tickets"] == [] and again["mail"] == []


def test_erase_completes_when_rasa_is_down(settings: Settings, client: TestClient) -> None:
    """The `client` fixture's Rasa is a dead address: Rasa's tracker store is emptied all the same."""
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "root", role="admin")
        conversation = telegram_chat(db, TG_USER, f"tunnus {HETU}", 7001)
        db.commit()
    f.plant_tracker(settings.database_url, [conversation.id])
    r = client.post("/api/privacy/erase", json={"telegram_user_id": TG_USER}, headers=token(client, "root"))
    assert r.status_code == 200, r.text
    assert r.json()["rasa_forgotten"] is True and r.json()["conversations"] == 1
    assert f.tracker_senders(settings.database_url) == set()


def test_erase_says_so_when_rasas_store_cannot_be_reached(settings: Settings, client: TestClient,
                                                          tmp_path: Path) -> None:
    """A tracker store that cannot be opened: the database erasure stands, the answer and the audit
    entry say that Rasa's store was not emptied."""
    from bot.services.rasa_store import TrackerForgetter

    (tmp_path / "elsewhere-rasa.db").mkdir()  # where the tracker store would be: a folder, not a database
    broken = Settings(database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    client.app.state.forget = TrackerForgetter(broken)  # type: ignore[attr-defined]
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "root", role="admin")
        telegram_chat(db, TG_USER, f"tunnus {HETU}", 7001)
        db.commit()
    r = client.post("/api/privacy/erase", json={"telegram_user_id": TG_USER}, headers=token(client, "root"))
    assert r.status_code == 200, r.text
    assert r.json()["rasa_forgotten"] is False and r.json()["conversations"] == 1
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        assert not db.scalars(select(Message)).all()
        entry = db.scalars(select(AuditEvent)).one()
    assert entry.counts["rasa_forgotten"] is False and HETU not in json.dumps(entry.counts)


# --- who may, and what ----------------------------------------------------------------------------

def test_only_admins_and_exactly_one_valid_key(client: TestClient) -> None:
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "a.adviser")
        f.adviser(db, "a.supervisor", role="supervisor")
        f.adviser(db, "a.admin", role="admin")
    for path in ("/api/privacy/export", "/api/privacy/erase"):
        r = client.post(path, json={"email": EMAIL})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = client.post(path, json={"email": EMAIL}, headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401
        for who in ("a.adviser", "a.supervisor"):
            r = client.post(path, json={"email": EMAIL}, headers=token(client, who))
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    headers = token(client, "a.admin")
    cases = [
        ({}, "exactly_one_key", "got: none"),
        ({"email": EMAIL, "phone": PHONE}, "exactly_one_key", "got: email, phone"),
        ({"email": "not an address"}, "invalid_field", "email"),
        ({"phone": "12"}, "invalid_field", "phone"),
        ({"telegram_user_id": "abc"}, "invalid_field", "telegram_user_id"),
        ({"telegram_user_id": -(2**64)}, "invalid_field", "telegram_user_id"),  # was a 500 (OverflowError)
        ({"telegram_user_id": str(2**63)}, "invalid_field", "telegram_user_id"),
        ({"conversation_id": "x" * 300}, "invalid_field", "conversation_id"),
        ({"name": "Maija"}, "invalid_field", "name"),
    ]
    for body, code, named in cases:
        r = client.post("/api/privacy/erase", json=body, headers=headers)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == code and named in r.json()["error"]["message"], (body, r.text)
    schema = client.get("/openapi.json").json()["paths"]["/api/privacy/erase"]["post"]["responses"]
    assert {"200", "401", "403", "422"} <= set(schema)


def test_an_unknown_person_exports_empty_and_erases_nothing(client: TestClient) -> None:
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "b.admin", role="admin")
    headers = token(client, "b.admin")
    r = client.post("/api/privacy/export", json={"phone": "+358 50 999 8877"}, headers=headers)
    assert r.status_code == 200 and r.json()["conversations"] == [] and r.json()["key"] == {"phone": "+358509998877"}
    r = client.post("/api/privacy/erase", json={"conversation_id": "nobody"}, headers=headers)
    assert r.status_code == 200 and r.json()["conversations"] == 0 and r.json()["messages"] == 0


def test_old_timestamps_do_not_matter_for_erasure(client: TestClient) -> None:
    """An erasure takes everything, whatever its age (retention is a separate rule)."""
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "c.admin", role="admin")
        conv = mail_conversation(db, EMAIL, f"vanha viesti {HETU}", "<old@example.fi>")
        conv.created_at = conv.updated_at = _now() - timedelta(days=1000)
        db.commit()
    r = client.post("/api/privacy/erase", json={"email": EMAIL}, headers=token(client, "c.admin"))
    assert r.status_code == 200 and r.json()["mail"] == 1


def test_internal_notes_are_exported_and_erased_with_the_person(client: TestClient) -> None:
    from bot.models import TicketNote
    from bot.services.replies import do_add_note
    from bot.services.shifts import OpeningHours
    from bot.services.tickets import do_handoff

    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        admin_user = f.adviser(db, "n.admin", role="admin")
        conv = f.conversation(db, "noted-person", text="tarvitsen apua")
        ticket = do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=_now(),
                            hours=OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7).ticket
        do_add_note(db, ticket, admin_user, "Asiakkaalla uniapnea, soita iltapäivällä", _now())
        conversation_id = conv.id
    headers = token(client, "n.admin")
    exported = client.post("/api/privacy/export", json={"conversation_id": conversation_id}, headers=headers).json()
    assert [n["text"] for n in exported["tickets"][0]["notes"]] == ["Asiakkaalla uniapnea, soita iltapäivällä"]
    assert client.post("/api/privacy/erase", json={"conversation_id": conversation_id}, headers=headers).status_code == 200
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        assert db.scalars(select(TicketNote)).first() is None
