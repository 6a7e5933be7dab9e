"""The phone menu: form-encoded webhooks shaped like the provider's, signed (or not), answered in TwiML.

The returned XML is parsed and checked: the language of each prompt, the number dialled for the
city on shift, the callback path when the advisory is closed, and "opens again at" around a public
holiday and the changes to and from summer time (the clock is the `get_now` dependency).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.api.deps import get_now
from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.locales import render
from bot.models import Shift, Ticket
from bot.services.callbacks import DEFAULT_WINDOWS, parse_windows, window_values
from integrations.phone.signature import compute_signature

TOKEN = "phone-auth-token-123"
HELSINKI = ZoneInfo("Europe/Helsinki")
CALLER = "+358401234567"
DEFAULT_HOURS = window_values(parse_windows(DEFAULT_WINDOWS))
NUMBERS = "employer_advisory.helsinki=+358911111111,employer_advisory.vantaa=+358933333333,jobseeker_espoo.espoo=+358922222222"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 2, 10, 0, tzinfo=HELSINKI).astimezone(timezone.utc))  # a Wednesday, open


@pytest.fixture
def phone_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"phone_auth_token": TOKEN, "phone_numbers": NUMBERS})


@pytest.fixture
def phone(phone_settings: Settings, clock: Clock) -> Iterator[TestClient]:
    app = create_app(phone_settings)
    app.dependency_overrides[get_now] = lambda: clock.now
    with TestClient(app) as client:
        yield client


def _db(settings: Settings) -> Session:
    return make_sessionmaker(make_engine(settings.database_url))()


def _shift(settings: Settings, city: str, queue: str, start: datetime, hours: float = 8) -> None:
    with _db(settings) as db:
        db.add(Shift(city=city, queue=queue, channel=None, starts_at=start, ends_at=start + timedelta(hours=hours)))
        db.commit()


def post(client: TestClient, path: str, params: dict[str, str], *, token: str | None = TOKEN,
         signed: dict[str, str] | None = None) -> ET.Element:
    """A provider's webhook call; returns the parsed TwiML."""
    response = send(client, path, params, token=token, signed=signed)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.content)


def send(client: TestClient, path: str, params: dict[str, str], *, token: str | None = TOKEN,
         signed: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    headers = {}
    if token is not None:
        headers["X-Twilio-Signature"] = compute_signature(token, f"http://testserver{path}",
                                                          (signed if signed is not None else params).items())
    return client.post(path, data=params, headers=headers)


def call(client: TestClient, sid: str = "CA0001", caller: str = CALLER) -> ET.Element:
    return post(client, "/api/phone/voice", {"CallSid": sid, "From": caller, "To": "+358950000000",
                                             "CallStatus": "ringing", "AccountSid": "AC123"})


def press(client: TestClient, step: str, digits: str | None, sid: str = "CA0001", **extra: str) -> ET.Element:
    params = {"CallSid": sid, **extra}
    if digits is not None:
        params["Digits"] = digits
    return post(client, f"/api/phone/menu/{step}", params)


def says(doc: ET.Element) -> list[tuple[str, str]]:
    return [(el.get("language", ""), el.text or "") for el in doc.iter("Say")]


def test_unsigned_or_altered_requests_are_refused(phone: TestClient) -> None:
    params = {"CallSid": "CA9", "From": CALLER}
    assert send(phone, "/api/phone/voice", params, token=None).status_code == 403
    assert send(phone, "/api/phone/voice", params, token="someone-elses-token").status_code == 403
    altered = send(phone, "/api/phone/voice", {**params, "From": "+358409999999"}, signed=params)
    assert altered.status_code == 403
    assert send(phone, "/api/phone/status", {"CallSid": "CA9", "CallStatus": "completed"}, token=None).status_code == 403
    assert send(phone, "/api/phone/voice", params).status_code == 200


def test_without_an_auth_token_every_webhook_is_refused(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert send(client, "/api/phone/voice", {"CallSid": "CA1"}, token="").status_code == 403


def test_the_language_menu_speaks_each_option_in_its_own_language(phone: TestClient) -> None:
    doc = call(phone)
    greeting = says(doc)[:3]
    assert [lang for lang, _ in greeting] == ["fi-FI", "sv-SE", "en-GB"]
    gather = doc.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1" and gather.get("action") == "/api/phone/menu/language"
    options = [(el.get("language"), el.text or "") for el in gather.iter("Say")]
    expected_voice = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-GB", "ru": "ru-RU", "uk": "uk-UA", "ar": "arb"}
    for digit, (lang, (voice, text)) in enumerate(zip(("fi", "sv", "en", "ru", "uk", "et", "ar", "so"), options), 1):
        if lang in expected_voice:
            assert voice == expected_voice[lang]
            assert text == render("sys_phone_language_option", lang, digit=str(digit)).text
        else:  # no voice for Estonian or Somali here: the English prompt, naming the language
            assert voice == "en-GB" and text == render("sys_phone_language_option_other", "en", digit=str(digit),
                                                        language_name={"et": "Estonian", "so": "Somali"}[lang]).text
    # a language the advisers do not speak is offered with the interpreter, never as if served in it
    interpreter = {"ru": "переводчик", "uk": "перекладач", "et": "tõlgi", "ar": "مترجم", "so": "turjubaan"}
    for lang, word in interpreter.items():
        assert word in render("sys_phone_language_option", lang, digit="4").text.lower(), lang
    assert "interpreter" in options[5][1] and "Estonian" in options[5][1]
    assert doc.find("Redirect") is not None  # silence comes back to the menu


# Espoo in each language: the phone line puts jobseekers through to Espoo–Kauniainen's services
ESPOO = {"fi": "Espoon", "sv": "Esbo", "en": "Espoo", "ru": "Эспоо", "uk": "Еспоо", "et": "Espoo", "ar": "إسبو",
         "so": "Espoo"}


@pytest.mark.parametrize("lang", list(ESPOO))
def test_jobseekers_hear_that_they_reach_their_own_citys_service(lang: str) -> None:
    """The joint advisory is for employers (docs/facts.md jobseekers-own-area): the greeting says
    who reaches what, and the jobseeker menu names Espoo's service and the callers it is not for."""
    greeting = render("sys_phone_greeting", lang).text
    menu = render("sys_phone_jobseeker_menu", lang).text
    assert ESPOO[lang] in greeting and ESPOO[lang] in menu, lang
    assert render("sys_phone_greeting", "en").text.count("reach") == 2
    assert "Employers reach the joint employer advisory" in render("sys_phone_greeting", "en").text
    assert "If you live in Helsinki or Vantaa" in render("sys_phone_jobseeker_menu", "en").text


def test_recordings_stand_in_for_languages_without_a_voice(phone_settings: Settings, clock: Clock) -> None:
    settings = phone_settings.model_copy(update={"phone_recordings": "so=https://city.example/phone/so/{key}.mp3"})
    app = create_app(settings)
    with TestClient(app) as client:
        doc = call(client)
    plays = [el.text for el in doc.iter("Play")]
    assert plays == ["https://city.example/phone/so/sys_phone_language_option.mp3"]


def test_an_employer_call_goes_to_the_city_on_shift(phone: TestClient, phone_settings: Settings, clock: Clock) -> None:
    _shift(phone_settings, "vantaa", "employer_advisory", clock.now - timedelta(hours=2))
    call(phone)
    role = press(phone, "language", "7")  # Arabic
    # the greeting (an automated service, not a person) was spoken in fi, sv and en: now in Arabic
    assert says(role)[:2] == [("arb", render("sys_phone_greeting", "ar").text),
                              ("arb", render("sys_phone_role_menu", "ar").text)]
    topics = press(phone, "role", "1")
    assert says(topics)[0][1] == render("sys_phone_employer_menu", "ar").text
    dial = press(phone, "topic", "2")  # layoffs and change security
    assert says(dial)[0][1] == render("sys_phone_connecting", "ar").text
    number = dial.find("Dial/Number")
    assert number is not None and number.text == "+358933333333"  # Vantaa is on shift
    assert dial.find("Dial").get("action") == "/api/phone/menu/dialled"  # type: ignore[union-attr]
    done = press(phone, "dialled", None, DialCallStatus="completed")
    assert done.find("Hangup") is not None


def test_nobody_answering_leads_to_a_callback(phone: TestClient, phone_settings: Settings, clock: Clock) -> None:
    _shift(phone_settings, "espoo", "jobseeker_espoo", clock.now - timedelta(hours=1))
    call(phone, sid="CA0002")
    press(phone, "language", "1", sid="CA0002")
    press(phone, "role", "2", sid="CA0002")
    dial = press(phone, "topic", "1", sid="CA0002")
    assert dial.find("Dial/Number").text == "+358922222222"  # type: ignore[union-attr]
    offer = press(phone, "dialled", None, sid="CA0002", DialCallStatus="no-answer")
    texts = [t for _, t in says(offer)]
    assert texts[0] == render("sys_phone_busy", "fi").text
    assert texts[1] == render("sys_phone_callback_offer", "fi").text


def _closed_call(phone: TestClient, sid: str) -> ET.Element:
    call(phone, sid=sid)
    press(phone, "language", "3", sid=sid)  # English
    press(phone, "role", "1", sid=sid)
    return press(phone, "topic", "1", sid=sid)


@pytest.mark.parametrize(("local_now", "opens"), [
    # Friday evening → Monday morning
    (datetime(2026, 12, 4, 17, 30), "07.12.2026 08:00"),
    # Christmas: 24–26 December are holidays (and 27th a Sunday) → Monday the 28th
    (datetime(2026, 12, 23, 16, 30), "28.12.2026 08:00"),
    # Independence Day Sunday 6.12.2026 is closed anyway; Epiphany Wednesday 6.1.2027 → Thursday
    (datetime(2027, 1, 6, 9, 0), "07.01.2027 08:00"),
    # to summer time on Easter Sunday 28.3.2027 (03:00 → 04:00); Good Friday and Easter Monday are
    # holidays: Friday evening → Tuesday 08:00 EEST
    (datetime(2027, 3, 26, 18, 0), "30.03.2027 08:00"),
    # from summer time (Sunday 25.10.2026 04:00 → 03:00): Friday evening → Monday 08:00 EET
    (datetime(2026, 10, 23, 18, 0), "26.10.2026 08:00"),
])
def test_closed_advisory_says_when_it_opens_and_offers_a_callback(phone: TestClient, clock: Clock,
                                                                 local_now: datetime, opens: str) -> None:
    clock.now = local_now.replace(tzinfo=HELSINKI).astimezone(timezone.utc)
    doc = _closed_call(phone, "CA" + opens.replace(".", "").replace(" ", "").replace(":", ""))
    texts = [t for _, t in says(doc)]
    assert texts[0] == render("sys_phone_closed", "en", opens_at=opens).text
    assert texts[1] == render("sys_phone_callback_offer", "en").text
    assert doc.find("Dial") is None


def test_callback_at_the_calling_number_across_the_summer_time_change(phone: TestClient, phone_settings: Settings,
                                                                     clock: Clock) -> None:
    clock.now = datetime(2027, 3, 26, 18, 0, tzinfo=HELSINKI).astimezone(timezone.utc)
    _closed_call(phone, "CA0100")
    window = press(phone, "callback", "1", sid="CA0100")
    assert says(window)[0][1] == render("sys_phone_window_menu", "en", **DEFAULT_HOURS).text
    assert "between 8 and 12, press 1" in says(window)[0][1] and "between 12 and 16, press 2" in says(window)[0][1]
    confirmed = press(phone, "window", "1", sid="CA0100")
    assert says(confirmed)[0][1] == render("sys_phone_callback_confirmed", "en", date="30.03.2027",
                                           window="8 and 12").text
    assert confirmed.find("Hangup") is not None
    with _db(phone_settings) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.queue == "callbacks")).one()
        assert ticket.channel == "phone" and ticket.language == "en" and ticket.topic == "recruiting_help"
        assert ticket.contact is not None and ticket.contact["phone"] == CALLER and ticket.contact["window"] == "morning"
        assert ticket.due_at == datetime(2027, 3, 30, 5, 0, tzinfo=timezone.utc)  # Tuesday 08:00 EEST


def test_the_callback_windows_are_configuration(phone_settings: Settings, clock: Clock) -> None:
    """The advisory's hours are not public: other windows in the settings are what the caller
    hears in the menu and in the confirmation, and when the call is due."""
    settings = phone_settings.model_copy(update={"callback_windows": "morning=09:00-11:00,afternoon=13:00-15:30"})
    app = create_app(settings)
    app.dependency_overrides[get_now] = lambda: clock.now
    clock.now = datetime(2026, 12, 4, 17, 30, tzinfo=HELSINKI).astimezone(timezone.utc)  # Friday evening
    with TestClient(app) as client:
        call(client, sid="CA0110")
        press(client, "language", "1", sid="CA0110")  # Finnish
        press(client, "role", "1", sid="CA0110")
        press(client, "topic", "1", sid="CA0110")
        menu = says(press(client, "callback", "1", sid="CA0110"))[0][1]
        assert "kello 9 ja 11 välillä, paina 1" in menu and "kello 13 ja 15:30 välillä, paina 2" in menu
        assert "8" not in menu and "16" not in menu
        confirmed = says(press(client, "window", "1", sid="CA0110"))[0][1]
        assert confirmed == render("sys_phone_callback_confirmed", "fi", date="07.12.2026", window="9 ja 11").text
    with _db(settings) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.queue == "callbacks")).one()
        assert ticket.contact is not None and ticket.contact["window_hours"] == "09:00-11:00"
        assert ticket.due_at == datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc)  # Monday 09:00 EET


def test_another_number_is_keyed_in_and_checked(phone: TestClient, phone_settings: Settings, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 4, 17, 30, tzinfo=HELSINKI).astimezone(timezone.utc)
    _closed_call(phone, "CA0200")
    ask = press(phone, "callback", "2", sid="CA0200")
    gather = ask.find("Gather")
    assert gather is not None and gather.get("finishOnKey") == "#" and gather.get("numDigits") is None
    bad = press(phone, "number", "123", sid="CA0200")
    assert says(bad)[0][1] == render("sys_phone_invalid_number", "en").text
    press(phone, "number", "0501234567", sid="CA0200")
    press(phone, "window", "2", sid="CA0200")
    with _db(phone_settings) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.queue == "callbacks")).one()
        assert ticket.contact["phone"] == "+358501234567" and ticket.contact["window"] == "afternoon"  # type: ignore[index]
        assert ticket.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)  # Monday 12:00 EET


def test_time_outs_repeat_the_menu_then_say_goodbye(phone: TestClient) -> None:
    call(phone, sid="CA0300")
    press(phone, "language", "2", sid="CA0300")  # Swedish
    first = press(phone, "role", None, sid="CA0300")
    assert [t for _, t in says(first)][:2] == [render("sys_phone_no_input", "sv").text,
                                               render("sys_phone_role_menu", "sv").text]
    repeat = press(phone, "role", "9", sid="CA0300")
    assert [t for _, t in says(repeat)] == [render("sys_phone_role_menu", "sv").text]
    last = press(phone, "role", "7", sid="CA0300")
    assert last.find("Hangup") is not None


def test_a_caller_who_hangs_up_mid_menu_gets_an_abandoned_callback(phone: TestClient, phone_settings: Settings) -> None:
    call(phone, sid="CA0400")
    press(phone, "language", "8", sid="CA0400")  # Somali
    response = send(phone, "/api/phone/status", {"CallSid": "CA0400", "CallStatus": "completed"})
    assert response.status_code == 204
    # an anonymous caller who hangs up leaves nothing to call back
    call(phone, sid="CA0401", caller="anonymous")
    send(phone, "/api/phone/status", {"CallSid": "CA0401", "CallStatus": "completed"})
    with _db(phone_settings) as db:
        tickets = db.scalars(select(Ticket).where(Ticket.queue == "callbacks")).all()
        assert len(tickets) == 1
        assert tickets[0].language == "so" and tickets[0].contact["abandoned"] is True  # type: ignore[index]


def test_unknown_call_or_step_is_a_clear_4xx(phone: TestClient) -> None:
    unknown = send(phone, "/api/phone/menu/role", {"CallSid": "nope", "Digits": "1"})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": {"code": "not_found", "message": "no such call"}}
    call(phone, sid="CA0500")
    dance = send(phone, "/api/phone/menu/dance", {"CallSid": "CA0500", "Digits": "1"})
    assert dance.status_code == 404 and dance.json()["error"]["message"] == "no such step"
    assert send(phone, "/api/phone/voice", {"From": CALLER}).status_code == 400


def test_wrong_keys_in_the_language_menu_end_the_call_the_third_time(phone: TestClient) -> None:
    call(phone, sid="CA0600")
    assert press(phone, "language", "0", sid="CA0600").find("Gather") is not None
    assert press(phone, "language", None, sid="CA0600").find("Gather") is not None
    assert press(phone, "language", "#", sid="CA0600").find("Hangup") is not None
