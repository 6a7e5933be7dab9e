"""The data subject's rights in the console (bot/console/privacy.py): an admin finds a person, sees a
summary without message bodies, downloads the JSON and erases after typing the key again; every step
is audited; other roles, requests without the CSRF field and unconfirmed erasures change nothing.
Rasa is a dead address here; the erasure empties its tracker store in the database all the same. The test admin works
in Finnish (the default), so the page's words are checked through `_` = gettext("fi")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.console.privacy import KEY_ERRORS
from bot.console.words import gettext
from bot.models import AuditEvent, Conversation, MailMessage, Message, Ticket
from tests import factories as f
from tests.test_console import sign_in
from tests.test_privacy import EMAIL, HETU, OTHER_EMAIL, TG_USER, mail_conversation, telegram_chat

_ = gettext("fi")


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings)  # settings.rasa_url is an address where nothing listens
    app.state.outbox = tmp_path / "outbox"
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


@pytest.fixture
def person(db: Session) -> dict[str, str]:
    """Maija's e-mail ticket (her identity code in the mail) and Telegram chat; Pekka's e-mail ticket."""
    mine = mail_conversation(db, EMAIL, f"Hei, henkilötunnukseni on {HETU}.", "<m1@example.fi>")
    telegram_chat(db, TG_USER, f"Minun tunnukseni {HETU}", 5001)
    other = mail_conversation(db, OTHER_EMAIL, "Hei, kysyisin kotoutumiskoulutuksesta.", "<m2@example.fi>")
    db.commit()
    ticket = db.scalars(select(Ticket.id).where(Ticket.conversation_id == mine.id)).one()
    return {"conversation": mine.id, "ticket": ticket, "other": other.id}


def _audit(db: Session) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _messages(db: Session, conversation_id: str) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conversation_id))
               or 0)


def test_admin_exports_and_erases_a_person(client: TestClient, db: Session, person: dict[str, str]) -> None:
    f.adviser(db, "root", role="admin")
    csrf = sign_in(client, "root")
    form = client.get("/console/privacy")
    assert form.status_code == 200
    assert f'<a href="/console/privacy">{_("Personal data")}</a>' in form.text
    assert '<label for="p-kind">' in form.text and '<label for="p-value">' in form.text

    # the summary: counts and ticket ids, never what the person wrote
    found = client.post("/console/privacy/export", data={"csrf": csrf, "kind": "email", "value": EMAIL.upper()})
    assert found.status_code == 200, found.text
    assert person["ticket"] in found.text and HETU not in found.text
    counts = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', found.text))
    assert counts[_("Conversations")] == "1" and counts[_("Tickets")] == "1" and counts[_("Raw e-mails")] == "1"
    assert counts[_("Messages")] == "1"
    assert found.headers["cache-control"] == "no-store"

    # the download: JSON as an attachment whose name holds no personal data
    download = client.post("/console/privacy/export/download", data={"csrf": csrf, "kind": "email", "value": EMAIL})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="luotsi-export-email-') and "example" not in disposition
    data = json.loads(download.content)
    assert data["key"] == {"email": EMAIL}
    assert [c["id"] for c in data["conversations"]] == [person["conversation"]]
    assert HETU in data["mail"][0]["text"]

    # the erasure, confirmed by typing the key again (normalised like the key itself)
    erased = client.post("/console/privacy/erase", data={"csrf": csrf, "kind": "email", "value": EMAIL,
                                                         "confirm": f"  {EMAIL.upper()} "})
    assert erased.status_code == 200, erased.text
    assert f"<h1>{_('Personal data erased')}</h1>" in erased.text
    # Rasa is down here, but its tracker store is the database's: emptied all the same
    assert re.search(re.escape(_("Rasa forgot the conversations")) + r"</th><td>" + re.escape(_("Yes")), erased.text)
    assert _messages(db, person["conversation"]) == 0
    assert db.scalar(select(func.count()).select_from(MailMessage).where(MailMessage.sender == EMAIL)) == 0
    kept = db.get(Ticket, person["ticket"])
    assert kept is not None and kept.contact is None
    assert _messages(db, person["other"]) == 1  # the bystander is untouched

    # each step is audited with the admin, the kind of key and counts — never the key
    entries = _audit(db)
    assert [e.action for e in entries] == ["privacy.export", "privacy.export", "privacy.erase"]
    assert {e.actor for e in entries} == {"root"} and {e.key_kind for e in entries} == {"email"}
    assert entries[-1].counts["rasa_forgotten"] is True and entries[-1].counts["messages"] == 1
    assert all(EMAIL not in json.dumps(e.counts) for e in entries)

    # nothing is found any more
    again = client.post("/console/privacy/export", data={"csrf": csrf, "kind": "email", "value": EMAIL})
    assert _("Nothing was found for this key.") in again.text


def test_admin_finds_by_telegram_user(client: TestClient, db: Session,
                                       person: dict[str, str]) -> None:
    f.adviser(db, "root", role="admin")
    csrf = sign_in(client, "root")
    found = client.post("/console/privacy/export",
                        data={"csrf": csrf, "kind": "telegram_user_id", "value": str(TG_USER)})
    counts = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', found.text))
    assert counts[_("Telegram chats")] == "1" and counts[_("Telegram updates")] == "2"
    assert counts[_("Attachments")] == "1"


@pytest.mark.parametrize("role", ["supervisor", "adviser"])
def test_other_roles_are_refused(client: TestClient, db: Session, person: dict[str, str], role: str) -> None:
    f.adviser(db, "someone", role=role)
    csrf = sign_in(client, "someone")
    assert "/console/privacy" not in client.get("/console").text
    assert client.get("/console/privacy").status_code == 403
    key = {"csrf": csrf, "kind": "email", "value": EMAIL}
    assert client.post("/console/privacy/export", data=key).status_code == 403
    assert client.post("/console/privacy/export/download", data=key).status_code == 403
    assert client.post("/console/privacy/erase", data={**key, "confirm": EMAIL}).status_code == 403
    assert _messages(db, person["conversation"]) == 1 and _audit(db) == []


def test_signed_out_goes_to_sign_in(client: TestClient) -> None:
    r = client.get("/console/privacy")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    r = client.post("/console/privacy/erase", data={"kind": "email", "value": EMAIL, "confirm": EMAIL})
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


def test_without_the_csrf_field_nothing_happens(client: TestClient, db: Session, person: dict[str, str]) -> None:
    f.adviser(db, "root", role="admin")
    sign_in(client, "root")
    key = {"kind": "email", "value": EMAIL}
    assert client.post("/console/privacy/erase", data={**key, "confirm": EMAIL}).status_code == 403
    assert client.post("/console/privacy/erase", data={**key, "confirm": EMAIL, "csrf": "forged"}).status_code == 403
    assert client.post("/console/privacy/export", data=key).status_code == 403
    assert client.post("/console/privacy/export/download", data=key).status_code == 403
    assert _messages(db, person["conversation"]) == 1 and _audit(db) == []


def test_erasure_without_confirmation_erases_nothing(client: TestClient, db: Session,
                                                     person: dict[str, str]) -> None:
    f.adviser(db, "root", role="admin")
    csrf = sign_in(client, "root")
    key = {"csrf": csrf, "kind": "email", "value": EMAIL}
    for confirm, problem in (({}, "confirm_empty"), ({"confirm": ""}, "confirm_empty"),
                             ({"confirm": OTHER_EMAIL}, "confirm_mismatch"),
                             ({"confirm": "not an address"}, "confirm_mismatch")):
        r = client.post("/console/privacy/erase", data={**key, **confirm})
        assert r.status_code == 422
        assert 'role="alert"' in r.text and _(KEY_ERRORS[problem]) in r.text
        assert '<input id="p-confirm"' in r.text  # the confirmation step is offered again
    db.expire_all()
    assert _messages(db, person["conversation"]) == 1
    assert db.get(Conversation, person["conversation"]) is not None and _audit(db) == []


def test_an_unusable_key_is_announced(client: TestClient, db: Session) -> None:
    f.adviser(db, "root", role="admin")
    csrf = sign_in(client, "root")
    for kind, value in (("phone", "call me"), ("email", "no-at-sign"), ("name", "Maija"), ("email", "")):
        r = client.post("/console/privacy/export", data={"csrf": csrf, "kind": kind, "value": value})
        assert r.status_code == 422
        assert 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
        assert f"<title>{_('Error:')}" in r.text
    assert _audit(db) == []
