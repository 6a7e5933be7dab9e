"""The phone menu in the core: a call's way through the menu and what the caller hears next.

Language → employer or jobseeker → topic → the number of the city on shift for that topic's queue,
or — closed, a holiday, nobody answering — a callback: the calling number or another one, a time
window, and when to expect the call. The phone adapter (integrations/phone/) checks the provider's
signature, reads its form parameters and renders the `CallReply` returned here as TwiML; every
write on the call, its conversation, the transcript and the ticket happens here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import NotFound
from bot.models import Conversation, PhoneCall
from bot.services import metrics, shifts, topics
from bot.services.callbacks import (
    BadNumber,
    Windows,
    check_phone_number,
    clock,
    do_request_callback,
    parse_windows,
    spoken_date,
)
from bot.services.conversations import access_conversation_by_identity, do_keep_message

log = logging.getLogger(__name__)
CHANNEL = "phone"
LANGUAGES = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")  # key 1 … 8
ROLES = {"1": "employer", "2": "jobseeker"}
MENU_TOPICS: dict[str, dict[str, str]] = {
    "employer": {"1": "recruiting_help", "2": "change_security", "3": "employer_other"},
    "jobseeker": {"1": "register_jobseeker", "2": "jobseeker_other"},
}
MAX_TRIES = 3
REPEAT = "9"
AND = {"fi": "ja", "sv": "och", "en": "and", "ru": "и", "uk": "і", "et": "ja", "ar": "و", "so": "iyo"}  # "between 8 and 12"
ENDED = ("completed", "canceled", "no-answer", "busy", "failed")


@dataclass(frozen=True)
class CallContext:
    """What the menu's decisions need from the settings."""

    hours: shifts.OpeningHours
    home_area: str
    reopen_days: int
    number_of: Callable[[str, str], str | None]  # (queue, city) → the number that city answers it on
    windows: Windows  # the callback windows offered (LUOTSI_CALLBACK_WINDOWS)

    @classmethod
    def from_settings(cls, settings: Any) -> CallContext:
        return cls(hours=shifts.OpeningHours.parse(settings.opening_hours), home_area=settings.home_area,
                   reopen_days=settings.reopen_days, number_of=settings.phone_number_of,
                   windows=parse_windows(settings.callback_windows))


# --- what the caller hears next -----------------------------------------------------------------

@dataclass(frozen=True)
class Prompt:
    key: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ask:
    """`before`, then `prompt` as a menu whose answer (or silence) comes back to `step`."""

    language: str | None
    step: str
    prompt: Prompt
    before: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class AskLanguage:
    """The language menu, each option in its own language; first with the greeting."""

    greeting: bool = False


@dataclass(frozen=True)
class Connect:
    """`before`, then the call put through to `number`."""

    language: str | None
    number: str
    before: tuple[Prompt, ...] = ()


@dataclass(frozen=True)
class Goodbye:
    language: str | None
    prompt: Prompt = Prompt("sys_phone_goodbye")


CallReply = Ask | AskLanguage | Connect | Goodbye


GREETED_IN = ("fi", "sv", "en")  # the languages the greeting is spoken in before the language menu


def _ask(call: PhoneCall, step: str, key: str, *before: Prompt) -> Ask:
    return Ask(call.language, step, Prompt(key), before)


def _topic_menu(call: PhoneCall) -> Ask:
    return _ask(call, "topic", "sys_phone_employer_menu" if call.role == "employer" else "sys_phone_jobseeker_menu")


# --- the call's state ---------------------------------------------------------------------------

def do_start_call(session: Session, *, call_sid: str, caller: str, now: datetime) -> PhoneCall:
    """The call of this provider id, created with its conversation on the first webhook. The
    conversation is the calling number's when it is one we could call back."""
    call = session.get(PhoneCall, call_sid)
    if call is not None:
        return call
    try:
        number: str | None = check_phone_number(caller)
    except BadNumber:
        number = None  # anonymous, or a number we could not call back
    conversation = access_conversation_by_identity(session, channel=CHANNEL, external_id=number or f"call:{call_sid}",
                                                   now=now, locale=None)
    call = PhoneCall(call_sid=call_sid, conversation_id=conversation.id, caller=number, step="language", tries=0,
                     created_at=now, updated_at=now)
    session.add(call)
    session.commit()
    metrics.count_call("started")
    log.info("phone.call call=%s known_number=%s", call_sid[-6:], number is not None)
    return call


def access_call_by_sid(session: Session, call_sid: str) -> PhoneCall:
    call = session.get(PhoneCall, call_sid)
    if call is None:
        raise NotFound("not_found", "no such call")
    return call


def do_answer_call_step(session: Session, *, call_sid: str, step: str, digits: str | None,
                        dial_status: str | None, now: datetime, context: CallContext) -> CallReply:
    """The caller's key press (or silence, `digits` None) at `step`: the call moves on, and the
    reply says what the caller hears next. `dial_status` is the outcome of a put-through call."""
    call = access_call_by_sid(session, call_sid)
    answer = _STEPS.get(step)
    if answer is None:
        raise NotFound("not_found", "no such step")
    call.updated_at = now
    reply = answer(session, call, digits, dial_status, now, context)
    session.commit()
    metrics.count_call_step(step, call.step, ended=isinstance(reply, Goodbye))
    return reply


def do_end_call(session: Session, *, call_sid: str, status: str | None, now: datetime, context: CallContext) -> None:
    """The call ended: a caller who hung up in the menu, with a number we can call, gets a callback
    ticket marked as abandoned."""
    call = session.get(PhoneCall, call_sid)
    if call is None or status not in ENDED or call.step in ("done", "connecting", "abandoned") or not call.caller:
        return
    local = now.astimezone(shifts.HELSINKI).time()
    windows = context.windows
    window = "afternoon" if windows["morning"][1] <= local < windows["afternoon"][1] else "morning"
    call.callback_number = call.callback_number or call.caller
    _request_callback(session, call, window, now, context, abandoned=True)
    call.step = "abandoned"
    session.commit()
    metrics.count_call("abandoned")


def do_set_call_language(session: Session, call: PhoneCall, language: str) -> None:
    """The caller's language is the conversation's (the adviser's ticket and any later contact)."""
    call.language = language
    conversation = session.get(Conversation, call.conversation_id)
    if conversation is not None:
        conversation.language = language


def do_note_menu_path(session: Session, call: PhoneCall, now: datetime) -> None:
    """The caller's choices, as a line in the transcript the adviser reads."""
    conversation = session.get(Conversation, call.conversation_id)
    if conversation is not None:  # the same write of a customer's message as every channel's
        do_keep_message(session, conversation, f"📞 {call.language} · {call.role} · {call.topic}", now=now,
                        chosen=call.language)


def _again(call: PhoneCall, digits: str | None, ask: Ask) -> CallReply:
    """A time-out or a wrong key: say so and ask again ("9" repeats without a remark), until
    MAX_TRIES; then goodbye (and, with a known number, the status callback makes a callback)."""
    call.tries += 1
    if call.tries >= MAX_TRIES:
        return Goodbye(call.language)
    if digits == REPEAT:
        return ask
    return Ask(ask.language, ask.step, ask.prompt, (Prompt("sys_phone_no_input" if not digits else "sys_phone_invalid"),
                                                    *ask.before))


def _language(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
              context: CallContext) -> CallReply:
    if digits and digits.isdigit() and 1 <= int(digits) <= len(LANGUAGES):
        do_set_call_language(session, call, LANGUAGES[int(digits) - 1])
        call.step, call.tries = "role", 0
        if call.language not in GREETED_IN:
            # the greeting, with its "an automated service, not a person" (EU AI Act art. 50), was
            # spoken in Finnish, Swedish and English only: now in the caller's own language too
            return _ask(call, "role", "sys_phone_role_menu", Prompt("sys_phone_greeting"))
        return _ask(call, "role", "sys_phone_role_menu")
    call.tries += 1  # silence, 9 or a wrong key: the menu again, the third time goodbye
    if call.tries >= MAX_TRIES:
        return Goodbye("en")
    return AskLanguage(greeting=False)


def _role(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
          context: CallContext) -> CallReply:
    if digits in ROLES:
        call.role, call.step, call.tries = ROLES[digits], "topic", 0
        return _topic_menu(call)
    return _again(call, digits, _ask(call, "role", "sys_phone_role_menu"))


def _topic(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
           context: CallContext) -> CallReply:
    menu = MENU_TOPICS["employer" if call.role == "employer" else "jobseeker"]
    if digits in menu:
        call.topic, call.tries = menu[digits], 0
        return _route(session, call, now, context)
    return _again(call, digits, _topic_menu(call))


def _route(session: Session, call: PhoneCall, now: datetime, context: CallContext) -> CallReply:
    """To the city on shift for the topic's queue, or — nobody on shift or no number for that
    city — the callback offer."""
    queue = topics.choose_queue(call.topic, CHANNEL, context.home_area)
    do_note_menu_path(session, call, now)
    city = shifts.city_on_shift(session, queue, CHANNEL, now)
    number = context.number_of(queue, city) if city else None
    if city and number:
        call.step = "connecting"
        log.info("phone.dial call=%s queue=%s city=%s", call.call_sid[-6:], queue, city)
        return Connect(call.language, number, (Prompt("sys_phone_connecting"),))
    call.step = "callback"
    opens = shifts.next_opening(session, queue, CHANNEL, now, context.hours)
    log.info("phone.closed call=%s queue=%s", call.call_sid[-6:], queue)
    closed = Prompt("sys_phone_closed", {"opens_at": opens.astimezone(shifts.HELSINKI).strftime("%d.%m.%Y %H:%M")})
    return _ask(call, "callback", "sys_phone_callback_offer", closed)


def _dialled(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
             context: CallContext) -> CallReply:
    if dial_status == "completed":
        call.step = "done"
        return Goodbye(call.language)
    call.step = "callback"
    return _ask(call, "callback", "sys_phone_callback_offer", Prompt("sys_phone_busy"))


def _ask_number(call: PhoneCall, *before: Prompt) -> Ask:
    return _ask(call, "number", "sys_phone_enter_number", *before)


def _callback(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
              context: CallContext) -> CallReply:
    if digits == "1" and call.caller:
        call.callback_number, call.step, call.tries = call.caller, "window", 0
        return _ask(call, "window", "sys_phone_window_menu")
    if digits in ("1", "2"):
        call.step, call.tries = "number", 0
        return _ask_number(call)
    if digits == "0":
        call.step = "done"
        return Goodbye(call.language)
    return _again(call, digits, _ask(call, "callback", "sys_phone_callback_offer"))


def _number(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
            context: CallContext) -> CallReply:
    try:
        call.callback_number = check_phone_number(digits or "")
    except BadNumber:
        call.tries += 1
        if call.tries >= MAX_TRIES:
            return Goodbye(call.language)
        return _ask_number(call, Prompt("sys_phone_invalid_number" if digits else "sys_phone_no_input"))
    call.step, call.tries = "window", 0
    return _ask(call, "window", "sys_phone_window_menu")


def _window(session: Session, call: PhoneCall, digits: str | None, dial_status: str | None, now: datetime,
            context: CallContext) -> CallReply:
    if digits in ("1", "2"):
        window = "morning" if digits == "1" else "afternoon"
        due = _request_callback(session, call, window, now, context, abandoned=False)
        call.step = "done"
        start, end = context.windows[window]
        spoken = f"{clock(start)} {AND.get(call.language or 'en', 'and')} {clock(end)}"
        return Goodbye(call.language, Prompt("sys_phone_callback_confirmed", {"date": spoken_date(due), "window": spoken}))
    return _again(call, digits, _ask(call, "window", "sys_phone_window_menu"))


def _request_callback(session: Session, call: PhoneCall, window: str, now: datetime, context: CallContext,
                      *, abandoned: bool) -> datetime:
    result = do_request_callback(
        session, conversation_id=call.conversation_id, phone=call.callback_number or call.caller or "",
        window=window, topic=call.topic, now=now, hours=context.hours, home_area=context.home_area,
        reopen_days=context.reopen_days, abandoned=abandoned, windows=context.windows)
    call.ticket_id = result.ticket.id
    log.info("phone.callback call=%s ticket=%s abandoned=%s", call.call_sid[-6:], result.ticket.id, abandoned)
    return result.due


_Step = Callable[[Session, PhoneCall, str | None, str | None, datetime, CallContext], CallReply]
_STEPS: dict[str, _Step] = {"language": _language, "role": _role, "topic": _topic, "dialled": _dialled,
                            "callback": _callback, "number": _number, "window": _window}
