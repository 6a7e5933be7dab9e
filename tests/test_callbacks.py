"""Callbacks everywhere: numbers to E.164, due times, the chat's "call me back" in two languages,
and the advisers' callback list and call outcomes in the console and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.console.pages import labeller
from bot.console.words import gettext
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
    parse_windows,
    window_values,
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


@pytest.mark.parametrize("spec", [
    "", "morning=08:00-12:00", "morning=08:00-12:00,evening=16:00-18:00", "morning=12:00-08:00,afternoon=12:00-16:00",
    "morning=8-12,afternoon=12-16", "morning=08:00-25:00,afternoon=12:00-16:00",
    "morning=08:00-12:00,morning=09:00-10:00,afternoon=12:00-16:00",
])
def test_a_wrong_window_setting_stops_the_start(settings: Settings, spec: str) -> None:
    with pytest.raises(ValueError):
        parse_windows(spec)
    with pytest.raises(ValueError):
        create_app(settings.model_copy(update={"callback_windows": spec}))


def test_window_values_name_the_hours_as_the_texts_say_them() -> None:
    assert window_values(parse_windows("morning=08:00-12:00,afternoon=12:00-16:00")) == {
        "morning": "8–12", "morning_start": "8", "morning_end": "12",
        "afternoon": "12–16", "afternoon_start": "12", "afternoon_end": "16"}
    assert window_values(parse_windows("afternoon=12:30-15:00, morning=9:00-11:45"))["morning"] == "9–11:45"


def _turn(hub: TestClient, cid: str, windows: str | None = None, **body: str) -> list[dict]:  # type: ignore[type-arg]
    """The callback flow's step as the hub carries out the assistant's decision."""
    now = datetime.now(timezone.utc)
    context = GuidanceContext(hours=HOURS, home_area="espoo", reopen_days=7)
    if windows is not None:
        context = GuidanceContext(hours=HOURS, home_area="espoo", reopen_days=7, windows=parse_windows(windows))
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


@pytest.mark.parametrize("language", ["en", "fi", "ar"])
def test_configured_windows_show_in_the_chat(hub: TestClient, settings: Settings, language: str) -> None:
    """The advisory's hours are not public: the windows come from the settings, in every language."""
    windows = "morning=09:00-11:00,afternoon=13:00-15:30"
    with _db(settings) as db:
        cid = f.conversation(db, f"cb-config-{language}", language=language).id
    _turn(hub, cid, windows, start="callback", topic="register_jobseeker")
    ask = _turn(hub, cid, windows, text="+358 40 765 4321")[0]
    titles = " ".join(b["title"] for b in ask["buttons"])
    assert ("9–11" in titles or "9 إلى 11" in titles) and "15:30" in titles
    assert "8–12" not in titles and "{" not in titles
    confirmed = _turn(hub, cid, windows, text="afternoon")[0]["text"]
    assert "13" in confirmed and "15:30" in confirmed
    if language == "en":
        assert "in the afternoon, between 13 and 15:30 (Finnish time)" in confirmed
    with _db(settings) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.conversation_id == cid)).one()
        assert ticket.contact is not None and ticket.contact["window_hours"] == "13:00-15:30"
        assert ticket.due_at is not None and ticket.due_at.astimezone(HELSINKI).hour in (13, 14, 15)


def test_a_callback_is_due_at_the_start_of_a_configured_window() -> None:
    windows = parse_windows("morning=09:30-11:00,afternoon=13:00-15:00")
    now = datetime(2026, 12, 2, 7, 0, tzinfo=HELSINKI).astimezone(timezone.utc)
    due = callback_due(now, "morning", HOURS, windows)
    assert due == datetime(2026, 12, 2, 9, 30, tzinfo=HELSINKI).astimezone(timezone.utc)
    late = datetime(2026, 12, 2, 11, 15, tzinfo=HELSINKI).astimezone(timezone.utc)  # today's 9:30–11 is over
    assert callback_due(late, "morning", HOURS, windows) == datetime(2026, 12, 3, 9, 30, tzinfo=HELSINKI).astimezone(timezone.utc)


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
        words = labeller("fi")  # the adviser's working language (Finnish by default)
        assert f'>{words("language", "so")}<' in page and words("topic", "register_jobseeker") in page
        ticket_page = client.get(f"/console/tickets/{early}").text
        assert "+358402222222" in ticket_page  # in full on the ticket
    with TestClient(create_app(settings), follow_redirects=False) as client:
        sign_in(client, "other.city")  # Vantaa has no callbacks shift now: nothing to see
        page = client.get("/console/callbacks").text
        assert early not in page and str(escape(gettext("fi")("No callbacks waiting in your shift's queues."))) in page


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
        assert gettext("fi")("Called — outcome") in page and "+358404444444" in page
        r = client.post(f"/console/tickets/{ticket_id}/call", data={"csrf": csrf, "outcome": "reached"})
        assert r.status_code == 303 and "callback_closed" in r.headers["location"]
    with _db(settings) as db:
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "closed" and ticket.outcome == "callback_done"
