"""A claim costs the hub one transaction and a fixed handful of statements (issue 16: claims at the
speed of the database), counted through the adviser API on SQLite and PostgreSQL; and the guards
that now sit inside the claim's single UPDATE still answer as they did.

The statement count is the regression guard for throughput: every extra round trip on the claim
path showed up directly in `make bench-desk` (13 statements in two transactions before)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import Engine, event, func, select

from bot.app import create_app
from bot.config import Settings
from bot.models import Ticket, TicketEvent
from bot.services import shifts
from bot.services.tickets import do_handoff
from tests import factories as f

# SQLite: auth, the shift scope with the city's languages, the claim (UPDATE … RETURNING), its audit
# event, and the transcript with its files' descriptions. PostgreSQL: all of it in one statement
# (bot/services/quick_claim.py; tests/test_quick_claim.py holds it to the same rules).
STATEMENTS_PER_CLAIM = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, settings: Settings) -> Iterator[TestClient]:
    if request.param == "postgresql":
        settings.database_url = request.getfixturevalue("pg_url")
    with TestClient(create_app(settings)) as c:
        yield c


@dataclass
class Seen:
    statements: int = 0
    checkouts: int = 0


@contextmanager
def counting(engine: Engine) -> Iterator[Seen]:
    seen = Seen()

    def statement(*_: Any) -> None:
        seen.statements += 1

    def checkout(*_: Any) -> None:
        seen.checkouts += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def _quick(outcome: str) -> float:
    return REGISTRY.get_sample_value("luotsi_quick_claims_total", {"outcome": outcome}) or 0.0


def _handoff(hub: TestClient, conversation_id: str) -> str:
    """The ticket the hub makes when the assistant hands the conversation over (as in test_desk)."""
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        return do_handoff(db, conversation_id=conversation_id, reason="asked_for_human", topic=None,
                          now=datetime.now(timezone.utc), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                          home_area="espoo", reopen_days=7).ticket.id


def _waiting_tickets(hub: TestClient, count: int) -> list[str]:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        conversations = [f.conversation(db, f"speed{n}").id for n in range(count)]
    return [_handoff(hub, c) for c in conversations]


def _sign_in(hub: TestClient, username: str) -> dict[str, str]:
    r = hub.post("/api/auth/token", data={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_claim_is_one_transaction_of_a_few_statements(hub: TestClient) -> None:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "swift", max_open=50)
    _waiting_tickets(hub, 12)
    auth = _sign_in(hub, "swift")
    assert hub.post("/api/tickets/claim", headers=auth).status_code == 200  # compiled statements are cached
    before = _quick("claimed")
    with counting(hub.app.state.engine) as seen:  # type: ignore[attr-defined]
        for _ in range(5):
            r = hub.post("/api/tickets/claim", headers=auth)
            assert r.status_code == 200 and r.json()["status"] == "claimed"
            assert [m["text"] for m in r.json()["transcript"]] == ["tarvitsen apua"]
    if hub.app.state.quick_claims is None:  # type: ignore[attr-defined]
        assert seen.checkouts == 5  # one connection, one transaction per claim
        assert seen.statements <= 5 * STATEMENTS_PER_CLAIM
    else:  # PostgreSQL: one statement each on the event loop's own connections, none through the engine
        assert (seen.checkouts, seen.statements) == (0, 0)
        assert _quick("claimed") - before == 5
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "claimed")) == 6


def test_claiming_a_chosen_ticket_at_the_limit_is_refused_and_it_keeps_waiting(hub: TestClient) -> None:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "full", max_open=1)
    first, second = _waiting_tickets(hub, 2)
    auth = _sign_in(hub, "full")
    assert hub.post(f"/api/tickets/{first}/claim", headers=auth).status_code == 200
    r = hub.post(f"/api/tickets/{second}/claim", headers=auth)
    assert r.status_code == 409 and r.json()["error"]["code"] == "limit_reached"
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, second)
        assert ticket is not None and ticket.status == "queued" and ticket.assigned_to is None
        assert db.scalar(select(func.count()).select_from(TicketEvent)
                         .where(TicketEvent.ticket_id == second, TicketEvent.kind == "claimed")) == 0


def test_a_claimed_ticket_in_a_language_the_holder_does_not_speak_is_flagged_for_interpreting(hub: TestClient) -> None:
    """The flag is set by the claim's UPDATE from the row's own language (nothing reads it first)."""
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "finnish", languages="fi")
        somali = f.conversation(db, "so1", language="so", text="waxaan u baahanahay caawimaad")
    ticket_id = _handoff(hub, somali.id)
    auth = _sign_in(hub, "finnish")
    r = hub.post(f"/api/tickets/{ticket_id}/claim", headers=auth)
    assert r.status_code == 200 and r.json()["needs_interpreter"] is True
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        claimed = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id,
                                                       TicketEvent.kind == "claimed")).one()
        assert claimed.data == {"interpreting": True}

