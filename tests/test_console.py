"""The adviser console over HTTP: sign-in, CSRF, expired sessions, escaping, roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.console.pages import LOGIN_ERRORS
from bot.console.words import gettext
from bot.models import AuthToken, Ticket, TicketEvent
from bot.services.shifts import OpeningHours
from bot.services.tickets import do_handoff
from tests import factories as f

fi = gettext("fi")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as c:
        yield c


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str) -> str:
    page = client.get("/console/login")
    r = client.post("/console/login", data={"username": username, "password": f.PASSWORD, "csrf": _csrf(page.text)})
    assert r.status_code == 303, r.text
    return _csrf(client.get("/console").text)


def _ticket(db: Session, text: str, language: str = "fi") -> Ticket:
    conv = f.conversation(db, f"c-{abs(hash(text))}", language=language, text=text)
    return do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=f.now(),
                      hours=OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7).ticket


def test_sign_in_claim_reply_close(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, "tarvitsen apua")
    csrf = sign_in(client, "anna")
    r = client.post("/console/claim", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/console/tickets/{ticket.id}"
    page = client.get(f"/console/tickets/{ticket.id}")
    assert page.status_code == 200 and "tarvitsen apua" in page.text
    r = client.post(f"/console/tickets/{ticket.id}/reply", data={"csrf": csrf, "text": "Hei!"})
    assert r.status_code == 303
    unconfirmed = client.post(f"/console/tickets/{ticket.id}/close", data={"csrf": csrf, "outcome": "answered"})
    assert unconfirmed.status_code == 303 and "flash=confirm_close" in unconfirmed.headers["location"]
    db.expire_all()
    assert db.get(Ticket, ticket.id).status == "claimed"  # type: ignore[union-attr]  # not closed without the tick
    r = client.post(f"/console/tickets/{ticket.id}/close", data={"csrf": csrf, "outcome": "answered", "confirm": "yes"})
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Ticket, ticket.id).status == "closed"  # type: ignore[union-attr]
    # the audit trail has who viewed and who changed the ticket
    kinds = {e.kind for e in db.query(TicketEvent).filter_by(ticket_id=ticket.id)}
    assert {"created", "claimed", "viewed", "replied", "closed"} <= kinds


def test_customer_text_is_escaped(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    sign_in(client, "anna")
    page = client.get(f"/console/tickets/{ticket.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "default-src 'self'" in client.get(f"/console/tickets/{ticket.id}").headers["content-security-policy"]


def test_csrf_missing_or_wrong_is_refused(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, "apua")
    sign_in(client, "anna")
    assert client.post("/console/claim", data={}).status_code == 403
    assert client.post("/console/claim", data={"csrf": "forged"}).status_code == 403
    assert client.post(f"/console/tickets/{ticket.id}/close", data={"outcome": "answered"}).status_code == 403
    db.expire_all()
    assert db.get(Ticket, ticket.id).status == "queued"  # type: ignore[union-attr]
    # the login form has its own CSRF check
    r = client.post("/console/login", data={"username": "anna", "password": f.PASSWORD, "csrf": "nope"})
    assert r.status_code == 403


def test_expired_session_goes_back_to_sign_in(client: TestClient, db: Session) -> None:
    f.adviser(db, "anna")
    sign_in(client, "anna")
    db.execute(update(AuthToken).values(expires_at=f.now() - timedelta(minutes=1)))
    db.commit()
    r = client.get("/console")
    assert r.status_code == 303 and r.headers["location"] == "/console/login?expired=1"
    assert str(escape(fi(LOGIN_ERRORS["expired"]))) in client.get("/console/login?expired=1").text


def test_wrong_password_and_roles(client: TestClient, db: Session) -> None:
    f.adviser(db, "anna")
    page = client.get("/console/login")
    r = client.post("/console/login", data={"username": "anna", "password": "wrong-one-here", "csrf": _csrf(page.text)})
    assert r.status_code == 401 and fi(LOGIN_ERRORS["wrong"]) in r.text
    sign_in(client, "anna")
    assert client.get("/console/supervisor").status_code == 403
    assert client.get("/console/tickets/nonexistent").status_code == 404


def test_supervisor_pages_and_shift_editing(client: TestClient, db: Session) -> None:
    f.shift(db, "vantaa", "employer_advisory")
    f.adviser(db, "boss", role="supervisor", city="helsinki")
    _ticket(db, "hjälp", language="sv")
    csrf = sign_in(client, "boss")
    page = client.get("/console/supervisor")
    assert page.status_code == 200 and "Vantaa" in page.text and fi("Waiting by city and language") in page.text
    r = client.post("/console/shifts", data={"csrf": csrf, "city": "helsinki", "queue": "callbacks", "channel": "phone",
                                             "starts_at": "2030-01-02T08:00", "ends_at": "2030-01-02T12:00"})
    assert r.headers["location"].endswith("flash=shift_added")
    r = client.post("/console/shifts", data={"csrf": csrf, "city": "turku", "queue": "callbacks", "channel": "",
                                             "starts_at": "2030-01-02T08:00", "ends_at": "2030-01-02T12:00"})
    assert r.headers["location"].endswith("flash=bad_shift")
    # a crafted notice cannot put text on the page
    assert "Call 040 123" not in client.get("/console?flash=Call 040 123").text


@pytest.mark.parametrize("form", [{}, {"csrf": "forged"}], ids=["no-csrf", "wrong-csrf"])
def test_signing_out_ends_the_session_even_without_its_csrf_field(client: TestClient, db: Session,
                                                                  form: dict[str, str]) -> None:
    f.adviser(db, "anna")
    sign_in(client, "anna")
    session_cookie = client.cookies["luotsi_session"]
    r = client.post("/console/logout", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    client.cookies.set("luotsi_session", session_cookie)  # a copy of the cookie kept elsewhere
    r = client.get("/console")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert db.query(AuthToken).filter_by(kind="session").count() == 0


def test_an_adviser_acts_only_on_tickets_they_hold_and_sees_only_their_shifts_channel(
        client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo", channel="web")
    f.adviser(db, "anna")
    queued = _ticket(db, "jonossa odottava")
    conv = f.conversation(db, "console-mail", text="sähköpostilla tullut", channel="email")
    by_mail = do_handoff(db, conversation_id=conv.id, reason="email", topic=None, now=f.now(),
                         hours=OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7).ticket
    csrf = sign_in(client, "anna")
    assert queued.id in client.get("/console").text and by_mail.id not in client.get("/console").text
    assert client.get(f"/console/tickets/{by_mail.id}").status_code == 404
    page = client.get(f"/console/tickets/{queued.id}").text
    assert 'action="/console/tickets/' + queued.id + '/transfer"' not in page  # claim it first
    r = client.post(f"/console/tickets/{queued.id}/transfer", data={"csrf": csrf, "queue": "employer_advisory"})
    assert r.headers["location"].endswith("flash=not_claimed")
    db.expire_all()
    assert db.get(Ticket, queued.id).queue == "jobseeker_espoo"  # type: ignore[union-attr]


def test_the_waiting_list_speaks_in_words_and_claims_the_chosen_ticket(client: TestClient, db: Session) -> None:
    """Issue 15: queues, languages, topics and channels in words (no 'jobseeker_espoo', no bare 'so'),
    and a claim button per waiting ticket; a ticket taken meanwhile says so."""
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna", languages="fi,so")
    f.adviser(db, "bert", languages="fi")
    _ticket(db, "apua")
    somali = _ticket(db, "waxaan rabaa la-taliye", language="so")
    csrf = sign_in(client, "anna")
    page = client.get("/console").text
    assert all(fi(words) in page for words in ("Somali", "Web chat", "Asked for a person"))
    assert fi("Jobseekers, {area}", area="Espoo") in page  # the console speaks the adviser's language
    assert ">jobseeker_espoo<" not in page and ">so<" not in page
    r = client.post(f"/console/tickets/{somali.id}/claim", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/console/tickets/{somali.id}"
    ticket_page = client.get(f"/console/tickets/{somali.id}").text
    assert fi("Somali") in ticket_page and "{'" not in ticket_page  # the contact is not a Python dict
    client.cookies.clear()
    csrf_b = sign_in(client, "bert")
    taken = client.post(f"/console/tickets/{somali.id}/claim", data={"csrf": csrf_b})
    assert taken.status_code == 303 and "flash=" in taken.headers["location"]
    assert "flash=taken" in taken.headers["location"] or "flash=not_found" in taken.headers["location"]
    assert client.post(f"/console/tickets/{somali.id}/claim", data={"csrf": "forged"}).status_code == 403
