"""Callbacks everywhere: numbers to E.164, due times, the chat's "call me back" in two languages,
and the advisers' callback list and call outcomes in the console and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render
from bot.models import Conversation, Message, Ticket, TicketEvent
from bot.services import shifts
from bot.services.callbacks import (
    BadNumber,
    callback_due,
    check_phone_number,
    do_request_callback,
    mask_number,
)
from bot.services.guidance import GuidanceContext, do_guidance_turn
from tests import factories as f
from tests.test_console import sign_in

HELSINKI = ZoneInfo("Europe/Helsinki")
HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")


@pytest.mark.parametrize(("typed", "e164"), [
    ("040 123 4567", "+358401234567"), ("+358 40 123 4567", "+358401234567"), ("0401234567", "+358401234567"),
    ("(09) 8162 1000", "+358981621000"), ("+46 70 123 45 67", "+46701234567"), ("0046 70-123 45 67", "+46701234567"),
    ("+252 61 5123456", "+252615123456"), ("١٢٣", None), ("123", None), ("call me maybe", None),
    ("+358 40 123 4567 8888 9999", None), ("050 123 4567", "+358501234567"),
])
def test_numbers_are_checked_and_normalised_to_e164(typed: str, e164: str | None) -> None:
    if e164 is None:
        with pytest.raises(BadNumber):
            check_phone_number(typed)
    else:
        assert check_phone_number(typed) == e164


def test_masked_numbers_keep_only_enough_to_tell_them_apart() -> None:
    assert mask_number("+358401234567") == "+35840 *** **67"
    assert "1234" not in mask_number("+358401234567")


@pytest.mark.parametrize(("local_now", "window", "due_local"), [
    (datetime(2026, 12, 2, 9, 30), "morning", datetime(2026, 12, 2, 9, 30)),  # still inside today's window
    (datetime(2026, 12, 2, 7, 0), "morning", datetime(2026, 12, 2, 8, 0)),
    (datetime(2026, 12, 2, 12, 30), "morning", datetime(2026, 12, 3, 8, 0)),  # today's morning is over
    (datetime(2026, 12, 4, 17, 0), "afternoon", datetime(2026, 12, 7, 12, 0)),  # Friday evening → Monday
    (datetime(2026, 12, 23, 17, 0), "morning", datetime(2026, 12, 28, 8, 0)),  # Christmas holidays
])
def test_callback_due_times(local_now: datetime, window: str, due_local: datetime) -> None:
    now = local_now.replace(tzinfo=HELSINKI).astimezone(timezone.utc)
    assert callback_due(now, window, HOURS) == due_local.replace(tzinfo=HELSINKI).astimezone(timezone.utc)


@pytest.fixture
def hub(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _db(settings: Settings) -> Session:
    migrate(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url))()


def _turn(hub: TestClient, cid: str, **body: str) -> list[dict]:  # type: ignore[type-arg]
    """The callback flow's step as the hub carries out the assistant's decision."""
    now = datetime.now(timezone.utc)
    context = GuidanceContext(hours=HOURS, home_area="espoo", reopen_days=7)
    with hub.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        step = do_guidance_turn(session, cid, now=now, context=context, **body)
    return [{"text": m.text, "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons]}
            for m in step.messages]


@pytest.mark.parametrize(("language", "bad", "good", "window_answer", "window"), [
    ("fi", "soita huomenna", "040 123 4567", "iltapäivä", "afternoon"),
    ("ar", "رقمي هو ٠٤٠", "+358 50 765 4321", "morning", "morning"),  # the button's payload
])
def test_a_chat_callback_request(hub: TestClient, settings: Settings, language: str, bad: str, good: str,
                                 window_answer: str, window: str) -> None:
    with _db(settings) as db:
        cid = f.conversation(db, f"cb-{language}", language=language).id
    assert _turn(hub, cid, start="callback", topic="pay_subsidy")[0]["text"] == render("sys_callback_ask_number", language).text
    assert _turn(hub, cid, text=bad)[0]["text"] == render("sys_callback_invalid_number", language).text
    ask = _turn(hub, cid, text=good)[0]
    assert ask["text"] == render("sys_callback_ask_window", language).text
    assert [b["payload"] for b in ask["buttons"]] == ["morning", "afternoon"]
    confirmed = _turn(hub, cid, text=window_answer)[0]["text"]
    number = check_phone_number(good)
    assert number in confirmed and render(f"sys_callback_window_{window}", language).text in confirmed
    with _db(settings) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.conversation_id == cid)).one()
        assert ticket.queue == "callbacks" and ticket.reason == "callback" and ticket.topic == "pay_subsidy"
        assert ticket.contact is not None and ticket.contact["phone"] == number and ticket.contact["window"] == window
        assert ticket.due_at is not None
        assert db.get(Conversation, cid).handler == "bot"  # type: ignore[union-attr]  # the assistant keeps answering


def _callback(settings: Settings, external_id: str, phone: str, window: str, local_now: datetime,
              language: str = "en") -> str:
    with _db(settings) as db:
        cid = f.conversation(db, external_id, language=language).id
        result = do_request_callback(db, conversation_id=cid, phone=phone, window=window, topic="register_jobseeker",
                                     now=local_now.replace(tzinfo=HELSINKI).astimezone(timezone.utc), hours=HOURS,
                                     home_area="espoo", reopen_days=7)
        return result.ticket.id


def test_the_console_lists_callbacks_by_due_time_with_masked_numbers(settings: Settings) -> None:
    late = _callback(settings, "cb-late", "+358401111111", "afternoon", datetime(2026, 12, 2, 9, 0))
    early = _callback(settings, "cb-early", "+358402222222", "morning", datetime(2026, 12, 2, 9, 0), "so")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        with _db(settings) as db:
            f.shift(db, "espoo", "callbacks")
            f.adviser(db, "cb.adviser")
            f.adviser(db, "other.city", city="vantaa")
        sign_in(client, "cb.adviser")
        page = client.get("/console/callbacks").text
        assert page.index(early) < page.index(late)
        assert "+35840 *** **22" in page and "+358402222222" not in page and "+358401111111" not in page
        assert ">so<" in page and "register_jobseeker" in page
        ticket_page = client.get(f"/console/tickets/{early}").text
        assert "+358402222222" in ticket_page  # in full on the ticket
    with TestClient(create_app(settings), follow_redirects=False) as client:
        sign_in(client, "other.city")  # Vantaa has no callbacks shift now: nothing to see
        page = client.get("/console/callbacks").text
        assert early not in page and "No callbacks waiting" in page


def test_three_failed_calls_close_the_callback_and_tell_the_customer(settings: Settings) -> None:
    ticket_id = _callback(settings, "cb-fail", "+358403333333", "morning", datetime(2026, 12, 2, 9, 0), "fi")
    with _db(settings) as db:
        f.shift(db, "espoo", "callbacks")
        f.adviser(db, "caller", max_open=5)
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/auth/token", data={"username": "caller", "password": f.PASSWORD}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        listed = client.get("/api/tickets", params={"queue": "callbacks"}, headers=auth).json()["tickets"]
        assert listed[0]["contact"]["phone"] == "+35840 *** **33"  # masked in lists
        assert client.get(f"/api/tickets/{ticket_id}", headers=auth).json()["contact"]["phone"] == "+358403333333"
        for attempt in (1, 2, 3):
            assert client.post("/api/tickets/claim", headers=auth).json()["id"] == ticket_id
            r = client.post(f"/api/tickets/{ticket_id}/call", headers=auth, json={"outcome": "no_answer"})
            assert r.status_code == 200 and r.json()["attempts"] == attempt
            assert r.json()["status"] == ("closed" if attempt == 3 else "queued")
        assert client.post(f"/api/tickets/{ticket_id}/call", headers=auth, json={"outcome": "maybe"}).status_code == 422
    with _db(settings) as db:
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.outcome == "no_response"
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
        assert kinds.count("called") == 3 and "note" in kinds
        notice = db.scalars(select(Message).where(Message.conversation_id == ticket.conversation_id,
                                                  Message.sender == "system")).one()
        assert notice.text == render("sys_callback_failed", "fi").text


def test_a_reached_customer_closes_the_callback(settings: Settings) -> None:
    ticket_id = _callback(settings, "cb-ok", "+358404444444", "morning", datetime(2026, 12, 2, 9, 0))
    with _db(settings) as db:
        f.shift(db, "espoo", "callbacks")
        f.adviser(db, "caller2")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        csrf = sign_in(client, "caller2")
        client.post("/console/claim", data={"csrf": csrf})
        page = client.get(f"/console/tickets/{ticket_id}").text
        assert "Called — outcome" in page and "+358404444444" in page
        r = client.post(f"/console/tickets/{ticket_id}/call", data={"csrf": csrf, "outcome": "reached"})
        assert r.status_code == 303 and "callback_closed" in r.headers["location"]
    with _db(settings) as db:
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "closed" and ticket.outcome == "callback_done"
