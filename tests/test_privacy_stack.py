"""One person through every channel of the real stack, with an identity code, a phone number and an
e-mail address in what they write: none of it in any process's log or in Rasa's tracker; then an
admin exports and erases them, and nothing of it is left (issue 13)."""

from __future__ import annotations

import smtplib
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from bot.models import Conversation
from bot.services.rasa import bearer_token
from integrations.phone.signature import compute_signature
from tests import factories as f
from tests.telegram_api import message_update

pytestmark = pytest.mark.rasa

HETU = "030579-987J"
PHONE_TYPED, PHONE = "045 111 2299", "+358451112299"
EMAIL = "privacy.probe.7731@example.fi"
TG_USER = 99117
PLANTED = (HETU, PHONE_TYPED, PHONE, EMAIL)


def _db_text(url: str) -> str:
    engine = create_engine(url)
    parts: list[str] = []
    with engine.connect() as db:
        tables = [row[0] for row in db.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        for table in tables:
            for row in db.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else str(v)
                             for v in row)
    engine.dispose()
    return "\n".join(parts)


def _signed_post(stack, path: str, params: dict[str, str]) -> httpx.Response:  # type: ignore[no-untyped-def]
    url = f"{stack.hub_url}{path}"
    signature = compute_signature(stack.settings.phone_auth_token, url, params.items())
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def _tracker(stack, conversation_id: str) -> str:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{stack.settings.rasa_url}/conversations/{conversation_id}/tracker", timeout=10,
                  headers={"Authorization": f"Bearer {bearer_token(stack.rasa_token)}"})
    assert r.status_code == 200
    return r.text


def test_one_person_in_every_channel_leaves_no_trace_after_erasure(stack, bot_api) -> None:  # type: ignore[no-untyped-def]
    words = f"henkilötunnukseni on {HETU}, puhelin {PHONE_TYPED}, sähköposti {EMAIL}"
    # web chat
    web_id = uuid.uuid4().hex
    r = httpx.post(f"{stack.hub_url}/api/chat", json={"conversation_id": web_id, "text": f"Hei, {words}"}, timeout=30)
    assert r.status_code == 200
    # Telegram
    bot_api.push(message_update(TG_USER, f"Moi, {words}", language_code="fi"))
    bot_api.wait_sent(TG_USER, 1, timeout=30)
    # e-mail
    with smtplib.SMTP(stack.settings.smtp_host, stack.settings.smtp_port, timeout=30) as client:
        client.sendmail(EMAIL, ["jobseekers@luotsi.localhost"],
                        f"From: {EMAIL}\r\nSubject: apua\r\nMessage-ID: <{uuid.uuid4().hex}@example.fi>\r\n\r\n"
                        f"Hei, {words}\r\n".encode())
    # phone: a call from the person's number, hung up in the menu (a callback ticket for an adviser)
    sid = "CA" + uuid.uuid4().hex
    assert _signed_post(stack, "/api/phone/voice", {"CallSid": sid, "From": PHONE, "To": "+358900000000"}).status_code == 200
    assert _signed_post(stack, "/api/phone/status", {"CallSid": sid, "From": PHONE,
                                                      "CallStatus": "completed"}).status_code in (200, 204)
    time.sleep(1.5)  # the mail's acknowledgement and the Telegram outbox finish

    engine = create_engine(stack.settings.database_url)
    with engine.connect() as db:
        ids = {external: cid for cid, external in db.execute(
            select(Conversation.id, Conversation.external_id).where(
                Conversation.external_id.in_([web_id, str(TG_USER)])))}
    engine.dispose()
    assert len(ids) == 2
    stored = _db_text(stack.settings.database_url)
    assert HETU in stored and EMAIL in stored and PHONE in stored  # kept for the advisers
    for conversation_id in ids.values():  # …but never in Rasa's tracker
        tracker = _tracker(stack, conversation_id)
        assert not [value for value in PLANTED if value in tracker]
    for log in stack.log_dir.glob("*.log"):  # …nor in any process's log
        content = log.read_text(errors="replace")
        assert not [value for value in PLANTED if value in content], log.name

    # the admin exports and erases the person by each key
    f.staff_the_stack(stack.settings.database_url, "privacy.admin.stack")
    engine = create_engine(stack.settings.database_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        f.adviser(session, "privacy.root", role="admin")
    engine.dispose()
    token = httpx.post(f"{stack.hub_url}/api/auth/token", timeout=10,
                       data={"username": "privacy.root", "password": f.PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    keys = ({"conversation_id": web_id}, {"telegram_user_id": TG_USER}, {"email": EMAIL}, {"phone": PHONE})
    exported = "".join(httpx.post(f"{stack.hub_url}/api/privacy/export", json=key, headers=auth, timeout=30).text
                       for key in keys)
    assert HETU in exported and EMAIL in exported and PHONE in exported
    for key in keys:
        r = httpx.post(f"{stack.hub_url}/api/privacy/erase", json=key, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
    left = _db_text(stack.settings.database_url)
    assert not [value for value in PLANTED if value in left]
    import json

    for conversation_id in ids.values():  # Rasa has forgotten what they wrote
        events = json.loads(_tracker(stack, conversation_id))["events"]
        assert [e for e in events if e.get("event") == "user"] == [], [e.get("event") for e in events]
