"""Callbacks: "call me back" from the phone menu, the web chat or Telegram, and the advisers' calls.

A callback is a ticket in the `callbacks` queue with the number (E.164, validated with
`phonenumbers`), the chosen window and its due time; advisers record each call's outcome, and after
three failed calls the ticket closes with a note and, where the customer has a channel, a message.

The windows (morning, afternoon) are configuration (`LUOTSI_CALLBACK_WINDOWS`): the joint advisory's
hours are not public. Every text that names a window takes its hours from `window_values`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.locales import render
from bot.models import Adviser, Conversation, Message, Ticket, TicketEvent
from bot.services import shifts
from bot.services.tickets import TicketError, do_handoff

QUEUE = "callbacks"
Windows = Mapping[str, tuple[time, time]]
WINDOW_NAMES = ("morning", "afternoon")  # the chat's button payloads; keys 1 and 2 in the phone menu
DEFAULT_WINDOWS = "morning=08:00-12:00,afternoon=12:00-16:00"
CALL_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")
MAX_FAILED_CALLS = 3


class BadNumber(ValueError):
    """Not a phone number we can call."""


def _span(text: str) -> tuple[time, time]:
    """"08:00-12:00" → (08:00, 12:00); a ValueError for anything else."""
    found = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text.strip())
    if not found:
        raise ValueError(f"{text!r}: expected HH:MM-HH:MM")
    start_h, start_m, end_h, end_m = (int(g) for g in found.groups())
    start, end = time(start_h, start_m), time(end_h, end_m)  # a ValueError for 25:00 or 8:75
    if not start < end:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


def parse_windows(spec: str) -> dict[str, tuple[time, time]]:
    """`LUOTSI_CALLBACK_WINDOWS` ("morning=08:00-12:00,afternoon=12:00-16:00") as {name: (start, end)};
    a ValueError for anything else, so a wrong setting stops the start, not a customer's turn."""
    windows: dict[str, tuple[time, time]] = {}
    for item in spec.split(","):
        name, _, span = (part.strip() for part in item.partition("="))
        if name not in WINDOW_NAMES or name in windows:
            raise ValueError(f"callback window {item.strip()!r}: expected e.g. morning=08:00-12:00")
        windows[name] = _span(span)
    if set(windows) != set(WINDOW_NAMES):
        raise ValueError(f"callback windows must name {' and '.join(WINDOW_NAMES)}")
    return windows


# The default windows, for callers that pass none of their own (an adviser's retry of a ticket that
# predates the stored span); the chat and the phone menu pass the configured ones. Never changed.
WINDOWS: Windows = MappingProxyType(parse_windows(DEFAULT_WINDOWS))


def clock(at: time) -> str:
    """A time as the texts say it: "8", "12", "8:30"."""
    return f"{at.hour}" if at.minute == 0 else f"{at.hour}:{at.minute:02d}"


def window_values(windows: Windows) -> dict[str, str]:
    """The placeholders of the texts that name the windows: {morning} "8–12", {morning_start} "8",
    {morning_end} "12", and the same for the afternoon."""
    values: dict[str, str] = {}
    for name in WINDOW_NAMES:
        start, end = windows[name]
        values.update({name: f"{clock(start)}–{clock(end)}", f"{name}_start": clock(start),
                       f"{name}_end": clock(end)})
    return values


def check_phone_number(text: str, region: str = "FI") -> str:
    """The number in E.164 ("+358401234567"); Finnish numbers may be written without +358."""
    candidate = "".join(c for c in text if c.isdigit() or c == "+")
    if not 5 <= len(candidate.lstrip("+")) <= 15:
        raise BadNumber(text)
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(text) from exc
    if not phonenumbers.is_valid_number(number):
        raise BadNumber(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_number(e164: str | None) -> str:
    """"+358401234567" → "+35840 *** **67": enough to tell two callbacks apart in a list."""
    if not e164:
        return "–"
    digits = e164[-2:]
    return f"{e164[:6]} *** **{digits}" if len(e164) > 8 else "***"


def callback_due(now: datetime, window: str, hours: shifts.OpeningHours, windows: Windows | None = None) -> datetime:
    """The start of the next `window` on an opening day (Finnish time, holidays skipped) that has
    not ended yet; today if it is still possible."""
    start, end = (windows or WINDOWS)[window]
    local = now.astimezone(shifts.HELSINKI)
    for day in shifts.opening_days(local.date(), hours):
        closes = datetime.combine(day, end, shifts.HELSINKI)
        if closes > now:
            return max(datetime.combine(day, start, shifts.HELSINKI), local).astimezone(now.tzinfo)
    return now


def spoken_date(when: datetime) -> str:
    """A date as the phone voice and the chat say it: 04.01.2027."""
    return when.astimezone(shifts.HELSINKI).strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Callback:
    ticket: Ticket
    due: datetime


def do_request_callback(session: Session, *, conversation_id: str, phone: str, window: str, topic: str | None,
                        now: datetime, hours: shifts.OpeningHours, home_area: str, reopen_days: int,
                        abandoned: bool = False, windows: Windows | None = None) -> Callback:
    """A callback ticket (or the conversation's open ticket, now with the number and window). The
    window's hours are stored with it, so a retry keeps the hours the customer was told."""
    windows = windows or WINDOWS
    if window not in windows:
        raise TicketError("unknown_window", f"window must be one of {', '.join(windows)}", status=422)
    due = callback_due(now, window, hours, windows)
    handoff = do_handoff(session, conversation_id=conversation_id, reason="callback", topic=topic, now=now,
                         hours=hours, home_area=home_area, reopen_days=reopen_days, queue=QUEUE, commit=False)
    ticket = handoff.ticket
    if handoff.created:
        # the adviser answers by phone: meanwhile the assistant keeps answering in the chat
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.handler = "bot"
    contact: dict[str, Any] = dict(ticket.contact or {})
    start, end = windows[window]
    contact.update(phone=phone, window=window, window_hours=f"{start:%H:%M}-{end:%H:%M}", abandoned=abandoned)
    ticket.contact = contact
    ticket.due_at = due
    if ticket.queue != QUEUE and ticket.status == "queued":
        ticket.queue = QUEUE
    session.add(TicketEvent(ticket_id=ticket.id, kind="callback_requested",
                            data={"window": window, "abandoned": abandoned}, at=now))
    session.commit()
    return Callback(ticket=ticket, due=due)


def do_record_call(session: Session, ticket: Ticket, adviser: Adviser, outcome: str, now: datetime,
                   hours: shifts.OpeningHours) -> tuple[Ticket, Message | None]:
    """An adviser called: "reached" closes the ticket as done; a failed call counts, and the third
    closes it with a note and returns the message for the customer's channel."""
    if outcome not in CALL_OUTCOMES:
        raise TicketError("unknown_outcome", f"outcome must be one of {', '.join(CALL_OUTCOMES)}", status=422)
    if ticket.status != "claimed" or ticket.assigned_to != adviser.id:
        raise TicketError("not_claimed", "claim the ticket before recording a call", status=409)
    session.add(TicketEvent(ticket_id=ticket.id, adviser_id=adviser.id, kind="called",
                            data={"outcome": outcome, "attempt": ticket.attempts + 1}, at=now))
    conversation = session.get(Conversation, ticket.conversation_id)
    notice = None
    ticket.attempts += 1
    if outcome == "reached":
        ticket.status, ticket.outcome, ticket.closed_at = "closed", "callback_done", now
    elif outcome == "wrong_number" or ticket.attempts >= MAX_FAILED_CALLS:
        ticket.status, ticket.outcome, ticket.closed_at = "closed", "no_response", now
        session.add(TicketEvent(ticket_id=ticket.id, adviser_id=adviser.id, kind="note",
                                data={"text": f"closed after {ticket.attempts} failed call(s): {outcome}"},
                                at=now))
        if conversation is not None and conversation.channel != "phone":
            notice = Message(conversation_id=conversation.id, sender="system",
                             text=render("sys_callback_failed", conversation.language).text,
                             language=conversation.language, status="sent", created_at=now)
            session.add(notice)
    else:
        # back to the queue for the next try, in the same window on the next opening day
        ticket.status, ticket.assigned_to, ticket.claimed_at = "queued", None, None
        window, windows = _ticket_window(ticket)
        tomorrow = datetime.combine(now.astimezone(shifts.HELSINKI).date() + timedelta(days=1), time(0),
                                    shifts.HELSINKI)
        ticket.due_at = callback_due(tomorrow, window, hours, windows)
    if ticket.status == "closed" and conversation is not None:
        conversation.handler = "bot"
    session.commit()
    return ticket, notice


def _ticket_window(ticket: Ticket) -> tuple[str, Windows]:
    """The ticket's window, with the hours stored with it (those in force for an older ticket)."""
    contact = ticket.contact or {}
    window = str(contact.get("window") or "morning")
    if window not in WINDOW_NAMES:
        window = "morning"
    try:
        return window, {**WINDOWS, window: _span(str(contact["window_hours"]))}
    except (KeyError, ValueError):
        return window, WINDOWS


def callbacks_by_due(session: Session, limit: int = 200) -> list[Ticket]:
    return list(session.scalars(
        select(Ticket).where(Ticket.queue == QUEUE, Ticket.status.in_(("queued", "claimed")))
        .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.created_at).limit(limit)))
