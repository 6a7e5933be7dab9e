"""The phone menu: the provider's webhooks, answered in TwiML.

    POST /api/phone/voice            an incoming call: greeting and the language menu
    POST /api/phone/menu/{step}      the caller's key press (or its time-out) at each step
    POST /api/phone/status           the call's status callback (a hang-up mid-menu)

Language (each option spoken in its own language) → employer or jobseeker → topic → the number of
the city on shift for that queue, or — closed, a holiday, nobody answering — a callback: the calling
number or another one, a time window, and when to expect the call. Every request must carry a
valid provider signature (403 otherwise); every answer is a few small queries, well inside the
provider's time-out.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from bot.api.deps import get_now, get_session, get_settings
from bot.api.errors import error_response
from bot.config import Settings
from bot.locales import render
from bot.models import Conversation, Message, PhoneCall
from bot.services import shifts
from bot.services.callbacks import WINDOWS, BadNumber, check_phone_number, do_request_callback, spoken_date
from bot.services.conversations import access_conversation_by_identity
from integrations.phone.signature import check_signature
from integrations.phone.twiml import Response as TwiML
from integrations.phone.twiml import Voices
from nlu import langid

log = logging.getLogger("integrations.phone")
router = APIRouter(prefix="/api/phone", tags=["phone"])
LANGUAGES = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")  # key 1 … 8
EMPLOYER_TOPICS = {"1": "recruiting_help", "2": "change_security", "3": "employer_other"}
JOBSEEKER_TOPICS = {"1": "register_jobseeker", "2": "jobseeker_other"}
MAX_TRIES = 3
AND = {"fi": "ja", "sv": "och", "en": "and", "ru": "и", "uk": "і", "et": "ja", "ar": "و", "so": "iyo"}  # "between 8 and 12"
REPEAT = "9"
Db = Annotated[Session, Depends(get_session)]
Now = Annotated[datetime, Depends(get_now)]
Config = Annotated[Settings, Depends(get_settings)]


class Forbidden(Exception):
    pass


async def _params(request: Request, settings: Settings) -> dict[str, str]:
    """The form parameters, after the provider's signature over them and the URL is checked."""
    form = await request.form()
    params = [(k, str(v)) for k, v in form.multi_items()]
    url = str(request.url)
    if settings.public_url:
        url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not check_signature(settings.phone_auth_token, url, params, request.headers.get("X-Twilio-Signature")):
        raise Forbidden
    return dict(params)


def _xml(doc: TwiML) -> Response:
    return Response(doc.xml(), media_type="application/xml")


def _forbidden() -> Response:
    return error_response(403, "forbidden", "missing or wrong request signature")


class Menu:
    """The prompts of one call, in its language."""

    def __init__(self, settings: Settings, language: str | None) -> None:
        self.voices = Voices.parse(settings.phone_voices, settings.phone_recordings)
        self.language = language or "en"
        self.doc = TwiML()

    def say(self, key: str, parent: object = None, **values: str) -> None:
        text = render(key, self.language, **values).text
        english = render(key, "en", **values).text
        self.doc.prompt(self.voices, self.language, key, text, english, parent)  # type: ignore[arg-type]

    def menu(self, step: str, key: str, *, num_digits: int | None = 1, finish_on_key: str | None = None,
             timeout: int = 6, **values: str) -> Response:
        """A prompt inside a Gather; silence comes back to the same step without Digits."""
        gather = self.doc.gather(f"/api/phone/menu/{step}", num_digits=num_digits, timeout=timeout,
                                 finish_on_key=finish_on_key)
        self.say(key, gather, **values)
        self.doc.redirect(f"/api/phone/menu/{step}")
        return _xml(self.doc)

    def goodbye(self, key: str = "sys_phone_goodbye", **values: str) -> Response:
        self.say(key, **values)
        self.doc.hangup()
        return _xml(self.doc)


def _language_menu(settings: Settings, greeting: bool) -> Response:
    voices = Voices.parse(settings.phone_voices, settings.phone_recordings)
    doc = TwiML()
    if greeting:
        for lang in ("fi", "sv", "en"):  # the three service languages of the PKS cities
            doc.prompt(voices, lang, "sys_phone_greeting", render("sys_phone_greeting", lang).text,
                       render("sys_phone_greeting", "en").text)
    gather = doc.gather("/api/phone/menu/language", num_digits=1, timeout=6)
    for digit, lang in enumerate(LANGUAGES, start=1):
        text = render("sys_phone_language_option", lang, digit=str(digit)).text
        english = render("sys_phone_language_option", "en", digit=str(digit)).text + f" ({langid.LANGUAGE_NAMES_EN.get(lang, lang)})"
        doc.prompt(voices, lang, "sys_phone_language_option", text, english, gather)
    doc.redirect("/api/phone/menu/language")
    return _xml(doc)


@router.post("/voice", response_class=Response)
async def create_call(request: Request, session: Db, settings: Config, now: Now) -> Response:
    """The incoming-call webhook."""
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    sid = params.get("CallSid", "")[:64]
    if not sid:
        return error_response(400, "bad_request", "CallSid missing")
    call = session.get(PhoneCall, sid)
    if call is None:
        try:
            caller: str | None = check_phone_number(params.get("From", ""))
        except BadNumber:
            caller = None  # anonymous, or a number we could not call back
        conversation = access_conversation_by_identity(session, channel="phone", external_id=caller or f"call:{sid}",
                                                       now=now, locale=None)
        call = PhoneCall(call_sid=sid, conversation_id=conversation.id, caller=caller, step="language", tries=0,
                         created_at=now, updated_at=now)
        session.add(call)
        session.commit()
        log.info("phone.call call=%s known_number=%s", sid[-6:], caller is not None)
    return _language_menu(settings, greeting=True)


@router.post("/menu/{step}", response_class=Response)
async def create_menu_step(step: str, request: Request, session: Db, settings: Config, now: Now) -> Response:
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    call = session.get(PhoneCall, params.get("CallSid", "")[:64])
    if call is None:
        return error_response(404, "not_found", "no such call")
    digits = params.get("Digits")
    call.updated_at = now
    response = _step(session, settings, call, step, digits, params, now)
    session.commit()
    return response


def _step(session: Session, settings: Settings, call: PhoneCall, step: str, digits: str | None,
          params: dict[str, str], now: datetime) -> Response:
    menu = Menu(settings, call.language)
    problem = "sys_phone_no_input" if not digits else "sys_phone_invalid"
    if step == "language":
        if digits and digits.isdigit() and 1 <= int(digits) <= len(LANGUAGES):
            call.language, call.step, call.tries = LANGUAGES[int(digits) - 1], "role", 0
            conversation_language(session, call)
            return Menu(settings, call.language).menu("role", "sys_phone_role_menu")
        call.tries += 1  # silence, 9 or a wrong key: the menu again, the third time goodbye
        if call.tries >= MAX_TRIES:
            return Menu(settings, "en").goodbye()
        return _language_menu(settings, greeting=False)
    if step == "role":
        if digits in ("1", "2"):
            call.role, call.step, call.tries = ("employer" if digits == "1" else "jobseeker"), "topic", 0
            return _topic_menu(menu, call)
        return _again(settings, call, menu, problem, digits, lambda m: m.menu("role", "sys_phone_role_menu"))
    if step == "topic":
        topics = EMPLOYER_TOPICS if call.role == "employer" else JOBSEEKER_TOPICS
        if digits in topics:
            call.topic, call.tries = topics[digits], 0
            return _route(session, settings, call, now)
        return _again(settings, call, menu, problem, digits, lambda m: _topic_menu(m, call))
    if step == "dialled":
        if params.get("DialCallStatus") == "completed":
            call.step = "done"
            return menu.goodbye()
        call.step = "callback"
        menu.say("sys_phone_busy")
        return menu.menu("callback", "sys_phone_callback_offer")
    if step == "callback":
        if digits == "1" and call.caller:
            call.callback_number, call.step, call.tries = call.caller, "window", 0
            return menu.menu("window", "sys_phone_window_menu")
        if digits in ("1", "2"):
            call.step, call.tries = "number", 0
            return menu.menu("number", "sys_phone_enter_number", num_digits=None, finish_on_key="#", timeout=12)
        if digits == "0":
            call.step = "done"
            return menu.goodbye()
        return _again(settings, call, menu, problem, digits, lambda m: m.menu("callback", "sys_phone_callback_offer"))
    if step == "number":
        try:
            call.callback_number = check_phone_number(digits or "")
        except BadNumber:
            call.tries += 1
            if call.tries >= MAX_TRIES:
                return menu.goodbye()
            menu.say("sys_phone_invalid_number" if digits else "sys_phone_no_input")
            return menu.menu("number", "sys_phone_enter_number", num_digits=None, finish_on_key="#", timeout=12)
        call.step, call.tries = "window", 0
        return menu.menu("window", "sys_phone_window_menu")
    if step == "window":
        if digits in ("1", "2"):
            window = "morning" if digits == "1" else "afternoon"
            callback = _request_callback(session, settings, call, window, now, abandoned=False)
            call.step = "done"
            start, end = WINDOWS[window]
            return menu.goodbye("sys_phone_callback_confirmed", date=spoken_date(callback),
                                window=f"{start.hour} {AND.get(menu.language, 'and')} {end.hour}")
        return _again(settings, call, menu, problem, digits, lambda m: m.menu("window", "sys_phone_window_menu"))
    return error_response(404, "not_found", "no such step")


def conversation_language(session: Session, call: PhoneCall) -> None:
    conversation = session.get(Conversation, call.conversation_id)
    if conversation is not None:
        conversation.language = call.language


def _again(settings: Settings, call: PhoneCall, menu: Menu, problem: str, digits: str | None,
           ask: object) -> Response:
    """A time-out or a wrong key: say so and ask again ("9" repeats without a remark), until
    MAX_TRIES; then goodbye (and, with a known number, the status callback makes a callback)."""
    call.tries += 1
    if call.tries >= MAX_TRIES:
        return menu.goodbye()
    if digits != REPEAT:
        menu.say(problem)
    return ask(menu)  # type: ignore[operator, no-any-return]


def _topic_menu(menu: Menu, call: PhoneCall) -> Response:
    key = "sys_phone_employer_menu" if call.role == "employer" else "sys_phone_jobseeker_menu"
    return menu.menu("topic", key)


def _queue(settings: Settings, call: PhoneCall) -> str:
    return "employer_advisory" if call.role == "employer" else f"jobseeker_{settings.home_area}"


def _route(session: Session, settings: Settings, call: PhoneCall, now: datetime) -> Response:
    """To the city on shift, or — nobody on shift or no number for that city — the callback offer."""
    queue = _queue(settings, call)
    _note_menu_path(session, call, now)
    city = shifts.city_on_shift(session, queue, "phone", now)
    number = settings.phone_number_of(queue, city) if city else None
    menu = Menu(settings, call.language)
    if city and number:
        call.step = "connecting"
        menu.say("sys_phone_connecting")
        menu.doc.dial(number, action="/api/phone/menu/dialled")
        log.info("phone.dial call=%s queue=%s city=%s", call.call_sid[-6:], queue, city)
        return _xml(menu.doc)
    call.step = "callback"
    opens = shifts.next_opening(session, queue, "phone", now, shifts.OpeningHours.parse(settings.opening_hours))
    menu.say("sys_phone_closed", opens_at=opens.astimezone(shifts.HELSINKI).strftime("%d.%m.%Y %H:%M"))
    log.info("phone.closed call=%s queue=%s", call.call_sid[-6:], queue)
    return menu.menu("callback", "sys_phone_callback_offer")


def _note_menu_path(session: Session, call: PhoneCall, now: datetime) -> None:
    """The caller's choices, as a line in the transcript the adviser reads."""
    session.add(Message(conversation_id=call.conversation_id, sender="customer", language=call.language,
                        text=f"📞 {call.language} · {call.role} · {call.topic}", status="received", created_at=now))


def _request_callback(session: Session, settings: Settings, call: PhoneCall, window: str, now: datetime,
                      *, abandoned: bool) -> datetime:
    result = do_request_callback(
        session, conversation_id=call.conversation_id, phone=call.callback_number or call.caller or "",
        window=window, topic=call.topic, now=now, hours=shifts.OpeningHours.parse(settings.opening_hours),
        home_area=settings.home_area, reopen_days=settings.reopen_days, abandoned=abandoned)
    call.ticket_id = result.ticket.id
    log.info("phone.callback call=%s ticket=%s abandoned=%s", call.call_sid[-6:], result.ticket.id, abandoned)
    return result.due


@router.post("/status", response_class=Response)
async def create_status(request: Request, session: Db, settings: Config, now: Now) -> Response:
    """The call ended: a caller who hung up in the menu, with a number we can call, gets a callback
    ticket marked as abandoned."""
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    call = session.get(PhoneCall, params.get("CallSid", "")[:64])
    ended = params.get("CallStatus") in ("completed", "canceled", "no-answer", "busy", "failed")
    if call is not None and ended and call.step not in ("done", "connecting", "abandoned") and call.caller:
        local = now.astimezone(shifts.HELSINKI).time()
        window = "afternoon" if WINDOWS["morning"][1] <= local < WINDOWS["afternoon"][1] else "morning"
        call.callback_number = call.callback_number or call.caller
        _request_callback(session, settings, call, window, now, abandoned=True)
        call.step = "abandoned"
        session.commit()
    return Response(status_code=204)


