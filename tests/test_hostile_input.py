"""Hostile text on the ways in that are not one channel's: the adviser's reply, and delivery that fails.

Each case was a 500 (or a reply left "sent" while nothing went out) found by the security probe of
issue 13. The desk cases run against SQLite and PostgreSQL: PostgreSQL refuses NUL where SQLite
stores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.models import Message, Ticket, TicketEvent
from bot.services import shifts
from bot.services.tickets import do_handoff
from tests import factories as f


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, settings: Settings) -> Iterator[TestClient]:
    if request.param == "postgresql":
        settings.database_url = request.getfixturevalue("pg_url")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def _claimed_ticket(hub: TestClient, channel: str = "web") -> tuple[str, dict[str, str]]:
    """A ticket claimed by an adviser, and the adviser's Authorization header."""
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", "employer_advisory")
        f.adviser(db, "espoo.a")
        conversation = f.conversation(db, f"hostile-{channel}", channel=channel)
        handoff = do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic="pay_subsidy",
                             now=datetime.now(timezone.utc), hours=shifts.OpeningHours.parse("mon-sun 00:00-23:59"),
                             home_area="espoo", reopen_days=7, contact={"email": "maija@example.com"})
        ticket_id = handoff.ticket.id
    token = hub.post("/api/auth/token", data={"username": "espoo.a", "password": f.PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert hub.post("/api/tickets/claim", headers=auth).json()["id"] == ticket_id
    return ticket_id, auth


def _adviser_messages(hub: TestClient) -> list[tuple[str, str]]:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        return [(m.text, m.status) for m in db.scalars(select(Message).where(Message.sender == "adviser"))]


@pytest.mark.parametrize(("body", "code"), [(b'{"text": "Hei \\udc00"}', None),
                                            (b'{"text": "Hei \\u0000 Maija"}', "control_characters")])
def test_an_unstorable_adviser_reply_is_a_clear_422_never_a_500(hub: TestClient, body: bytes, code: str | None) -> None:
    """A lone surrogate is refused by the request's validation; NUL reached PostgreSQL's commit (500)."""
    ticket_id, auth = _claimed_ticket(hub)
    r = hub.post(f"/api/tickets/{ticket_id}/reply", content=body,
                 headers={**auth, "content-type": "application/json"})
    assert r.status_code == 422, r.text  # on SQLite too: the reply route checks the characters
    assert set(r.json()["error"]) == {"code", "message"}
    assert code is None or r.json()["error"]["code"] == code
    assert _adviser_messages(hub) == []
    ok = hub.post(f"/api/tickets/{ticket_id}/reply", json={"text": "Hei Maija, soitan tänään."}, headers=auth)
    assert ok.status_code == 200  # the session is usable after the refusal


def test_text_the_database_cannot_store_is_a_422_other_database_errors_stay_500() -> None:
    from sqlalchemy.exc import OperationalError, StatementError

    from bot.api.errors import unstorable_text

    try:
        "\udc00".encode()
    except UnicodeEncodeError as exc:
        surrogate = exc
    assert unstorable_text(StatementError("x", "INSERT", {}, surrogate)) == "invalid_characters"  # type: ignore[arg-type]
    assert unstorable_text(surrogate) == "invalid_characters"
    assert unstorable_text(OperationalError("INSERT", {}, Exception("database is locked"))) is None
    assert unstorable_text(ValueError("x")) is None


def test_a_deliverer_that_breaks_leaves_the_reply_undelivered_not_sent(hub: TestClient) -> None:
    """Only DeliveryFailed was caught: any other error left the reply "sent" and answered 500."""
    ticket_id, auth = _claimed_ticket(hub, channel="email")

    def broken(session: object, ticket: Ticket, message: Message) -> str | None:
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    hub.app.state.deliverers = {**hub.app.state.deliverers, "email": broken}  # type: ignore[attr-defined]
    r = hub.post(f"/api/tickets/{ticket_id}/reply", json={"text": "Hei Maija, soitan tänään."}, headers=auth)
    assert r.status_code == 200
    assert _adviser_messages(hub) == [("Hei Maija, soitan tänään.", "undelivered")]
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = [e.kind for e in db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))]
    assert "undelivered" in kinds
