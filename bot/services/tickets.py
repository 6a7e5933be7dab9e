"""Tickets in the shared PKS queues: hand-off, claim, reply, transfer, close.

Every state change is a TicketEvent; every view by an adviser is one too (the audit trail).
Claiming is one conditional UPDATE (`… WHERE status = 'queued'`), so two advisers can never hold
the same ticket — also with several hub processes on one PostgreSQL database, where the
candidate is picked with FOR UPDATE SKIP LOCKED so claimers do not queue behind each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, or_, select, update
from sqlalchemy.orm import Session

from bot.locales import local_time, render
from bot.messages import OutboundMessage, TicketRef
from bot.models import Adviser, Conversation, Message, Queue, Ticket, TicketEvent
from bot.services import shifts

# The topic list and the queue choice live in bot/services/topics.py; the names stay importable here.
from bot.services.topics import EMPLOYER_TOPICS as EMPLOYER_TOPICS
from bot.services.topics import PRIORITY_TOPICS as PRIORITY_TOPICS
from bot.services.topics import choose_queue, priority_of

OUTCOMES = ("answered", "referred", "callback_done", "no_response", "duplicate", "spam")
OPEN = ("queued", "claimed")


class TicketError(Exception):
    """A ticket operation that cannot be done; `code` names why (for the API's error body)."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Handoff:
    ticket: Ticket
    notice: OutboundMessage
    created: bool


def handoff_packet(conversation: Conversation) -> dict[str, Any] | None:
    """The results for the adviser's ticket: the self-assessment and the service needs."""
    packet = {k: v for k, v in (("language", conversation.assessment), ("service_needs", conversation.service_needs))
              if v}
    return packet or None


def _event(session: Session, ticket: Ticket, kind: str, now: datetime, adviser: Adviser | None = None,
           **data: Any) -> None:
    session.add(TicketEvent(ticket_id=ticket.id, adviser_id=adviser.id if adviser else None, kind=kind,
                            data=data or None, at=now))


def _summary(session: Session, conversation_id: str) -> str:
    """The customer's last few messages, shortened: enough to see the need at a glance."""
    texts = session.scalars(
        select(Message.text).where(Message.conversation_id == conversation_id, Message.sender == "customer")
        .order_by(Message.id.desc()).limit(3)
    ).all()
    joined = " / ".join(reversed([t if len(t) <= 200 else t[:197] + "…" for t in texts]))
    return joined[:600]


def do_handoff(session: Session, *, conversation_id: str, reason: str, topic: str | None, now: datetime,
               hours: shifts.OpeningHours, home_area: str, reopen_days: int,
               contact: dict[str, Any] | None = None, consent: bool = False, queue: str | None = None,
               priority: int | None = None, commit: bool = True) -> Handoff:
    """Hand the conversation to a human: a new ticket, the open one, or a recently closed one reopened.

    `queue` overrides the choice by topic (a mailbox has its own queue); with `commit=False` the
    caller commits, together with rows of its own (the raw e-mail)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise TicketError("unknown_conversation", "no such conversation", status=404)
    existing = session.scalars(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.created_at.desc()).limit(1)
    ).first()
    created = False
    if existing is not None and existing.status in OPEN:
        ticket = existing
    elif existing is not None and existing.closed_at and now - existing.closed_at < timedelta(days=reopen_days):
        ticket = existing
        ticket.status, ticket.assigned_to, ticket.outcome, ticket.closed_at = "queued", None, None, None
        ticket.assessment = handoff_packet(conversation) or ticket.assessment
        _event(session, ticket, "reopened", now, reason=reason)
    else:
        queue = queue or choose_queue(topic, reason, home_area)
        city = shifts.city_on_shift(session, queue, conversation.channel, now)
        language = conversation.language or "und"
        speakers = shifts.on_shift_languages(session, queue, city)
        ticket = Ticket(
            conversation_id=conversation_id, channel=conversation.channel, queue=queue, status="queued",
            priority=priority if priority is not None else priority_of(topic),
            language=language, city_on_shift=city,
            needs_interpreter=bool(city) and language not in speakers, reason=reason, topic=topic,
            summary=_summary(session, conversation_id), contact=contact or {"channel": conversation.channel},
            consent=consent, assessment=handoff_packet(conversation), created_at=now,
        )
        session.add(ticket)
        session.flush()
        _event(session, ticket, "created", now, queue=queue, city_on_shift=city, reason=reason)
        created = True
    conversation.handler = "human"
    if commit:
        session.commit()
    else:
        session.flush()
    notice = when_answered(session, ticket, "sys_handoff", conversation.language, now, hours)
    return Handoff(ticket=ticket, notice=notice, created=created)


def when_answered(session: Session, ticket: Ticket, texts: str, language: str | None, now: datetime,
                   hours: shifts.OpeningHours) -> OutboundMessage:
    """`<texts>_on_shift` while the ticket's queue is staffed, else `<texts>_closed` with the weekday
    and time it opens again."""
    if shifts.city_on_shift(session, ticket.queue, ticket.channel, now):
        return render(f"{texts}_on_shift", language)
    opens = shifts.next_opening(session, ticket.queue, ticket.channel, now, hours)
    return render(f"{texts}_closed", language, opens_at=local_time(opens, language))


def ticket_ref(ticket: Ticket) -> TicketRef:
    return TicketRef(id=ticket.id, queue=ticket.queue, status=ticket.status)


Scope = list[tuple[str, str | None]]  # (queue, channel); channel None: every channel


def visible_scope(session: Session, adviser: Adviser, now: datetime) -> Scope | None:
    """The (queue, channel) pairs of the adviser's current shift; None means every ticket
    (supervisors and admins)."""
    if adviser.role in ("supervisor", "admin"):
        return None
    return shifts.scope_of_adviser(session, adviser, now)


def in_scope(ticket: Ticket, scope: Scope | None) -> bool:
    return scope is None or any(ticket.queue == q and (c is None or ticket.channel == c) for q, c in scope)


def _scope_clause(scope: Scope) -> ColumnElement[bool]:
    if not scope:
        return false()
    return or_(*((Ticket.queue == q) if c is None else ((Ticket.queue == q) & (Ticket.channel == c))
                 for q, c in scope))


def holds(ticket: Ticket, adviser: Adviser) -> bool:
    """Whether the adviser holds the ticket right now (claimed by them, not closed)."""
    return ticket.status == "claimed" and ticket.assigned_to == adviser.id


def visible_tickets(session: Session, adviser: Adviser, now: datetime) -> ColumnElement[bool] | None:
    """The access rule of `access_ticket_by_adviser` as an SQL condition on Ticket, for lists;
    None means no restriction."""
    scope = visible_scope(session, adviser, now)
    if scope is None:
        return None
    return (_scope_clause(scope) | ((Ticket.assigned_to == adviser.id) & Ticket.status.in_(("claimed", "closed"))))


def _reach(session: Session, ticket: Ticket, adviser: Adviser, now: datetime) -> str | None:
    """Why the adviser may see the ticket: "all", "holder", "shift", "last_holder" — or None."""
    if adviser.role in ("supervisor", "admin"):
        return "all"
    if holds(ticket, adviser):
        return "holder"
    if in_scope(ticket, shifts.scope_of_adviser(session, adviser, now)):
        return "shift"
    if ticket.status == "closed" and ticket.assigned_to == adviser.id:
        return "last_holder"
    return None


def access_ticket_by_adviser(session: Session, ticket_id: str, adviser: Adviser, now: datetime,
                             *, for_change: bool = False) -> Ticket:
    """The one gate to a ticket (the API, the console and file downloads all pass it).

    - Supervisors and admins reach every ticket.
    - An adviser reaches the tickets of their current shift: the queues their city staffs now, in
      the shift's channel only (a shift without a channel covers every channel) — any status, so
      that whoever staffs the queue sees its history.
    - An adviser reaches the tickets they hold now (claimed by them), wherever those are.
    - A closed ticket whose last holder was the adviser stays readable to them, read-only, and
      only as it was when it closed: `transcript_until` gives the cut-off, so messages and files
      that arrive later (the customer writing again, a new ticket in the same conversation) are
      not shown to them. When the ticket is reopened, transferred or claimed by someone else,
      that access ends.
    Nothing else: holding a ticket once gives no lasting access. Unreachable tickets answer 404
    (their existence is not confirmed). With `for_change`, an adviser may not act on a ticket a
    colleague holds (403) nor on a closed ticket they only read back (409); the services check
    the rest (reply, close and transfer need the adviser to hold the ticket).
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketError("not_found", "no such ticket", status=404)
    reach = _reach(session, ticket, adviser, now)
    if reach is None:
        raise TicketError("not_found", "no such ticket", status=404)
    if for_change and reach == "last_holder":
        raise TicketError("closed", "the ticket is closed", status=409)
    if for_change and adviser.role == "adviser" and ticket.status == "claimed" and not holds(ticket, adviser):
        raise TicketError("forbidden", "this ticket is held by another adviser", status=403)
    return ticket


def transcript_until(session: Session, ticket: Ticket, adviser: Adviser, now: datetime) -> datetime | None:
    """How far the adviser may read the ticket's conversation: None for all of it; the moment it
    closed for a closed ticket the adviser only reads back as its last holder."""
    return ticket.closed_at if _reach(session, ticket, adviser, now) == "last_holder" else None


def check_holds(ticket: Ticket, adviser: Adviser, doing: str) -> None:
    """Advisers act on a ticket only while they hold it; supervisors and admins on any."""
    if adviser.role == "adviser" and not holds(ticket, adviser):
        raise TicketError("not_claimed", f"claim the ticket before {doing} it", status=409)


def do_record_view(session: Session, ticket: Ticket, adviser: Adviser, now: datetime) -> None:
    _event(session, ticket, "viewed", now, adviser)
    session.commit()


def do_claim_next(session: Session, adviser: Adviser, now: datetime, queue: str | None = None) -> Ticket | None:
    """Claim the oldest ticket of the highest priority in the adviser's shift queues (in the
    shift's channels), atomically.

    Tickets in a language the adviser serves in come first; tickets flagged for interpreting, and
    tickets in a language nobody in the adviser's city speaks, are served by anyone (interpreter
    mode); a ticket in another language waits for a colleague of the city who speaks it.
    """
    scope: Scope = shifts.scope_of_adviser(session, adviser, now)
    if adviser.role in ("supervisor", "admin") and not scope:
        scope = [(code, None) for code in session.scalars(select(Queue.code))]
    if queue is not None:
        scope = [(q, c) for q, c in scope if q == queue]
        if not scope:
            raise TicketError("forbidden", "that queue is not on your shift", status=403)
    if not scope:
        return None
    open_count = _held(session, adviser)
    if open_count >= adviser.max_open_tickets:
        raise TicketError("limit_reached", f"you already hold {open_count} open tickets", status=409)
    languages = adviser.language_list
    # a language nobody in the adviser's city speaks never waits for a speaker: anyone serves it
    # through interpreter mode
    speakers = shifts.on_shift_languages(session, "", adviser.city) | set(languages)
    speaks = case((Ticket.language.in_(languages), 1), else_=0)
    for _attempt in range(5):
        candidate = (
            select(Ticket.id)
            .where(Ticket.status == "queued", _scope_clause(scope),
                   Ticket.language.in_(languages) | Ticket.needs_interpreter.is_(True)
                   | Ticket.language.is_(None) | (Ticket.language == "und") | Ticket.language.notin_(speakers))
            .order_by(Ticket.priority.desc(), speaks.desc(), Ticket.created_at, Ticket.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        ticket_id = session.scalars(candidate).first()
        if ticket_id is None:
            session.rollback()
            return None
        values, _interpreting = _claim_values(session, ticket_id, adviser, now)
        claimed = session.execute(
            update(Ticket).where(Ticket.id == ticket_id, Ticket.status == "queued").values(**values)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            _event(session, ticket, "claimed", now, adviser)
            session.commit()
            session.refresh(ticket)
            return ticket
        session.rollback()  # someone else was faster; try the next one
    return None


def _held(session: Session, adviser: Adviser) -> int:
    """How many tickets the adviser holds open now."""
    return session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.assigned_to == adviser.id, Ticket.status == "claimed")
    ) or 0


def _claim_values(session: Session, ticket_id: str, holder: Adviser, now: datetime) -> tuple[dict[str, Any], bool]:
    """The columns a claim sets, and whether the holder serves the ticket in interpreter mode (they
    do not speak its language)."""
    language = session.scalar(select(Ticket.language).where(Ticket.id == ticket_id))
    interpreting = bool(language) and language != "und" and language not in holder.language_list
    values: dict[str, Any] = {"status": "claimed", "assigned_to": holder.id, "claimed_at": now}
    if interpreting:
        values["needs_interpreter"] = True
    return values, interpreting


def _take(session: Session, ticket_id: str, holder: Adviser, now: datetime, *, by: Adviser,
          from_status: tuple[str, ...]) -> Ticket:
    """Give the ticket to `holder` in one conditional UPDATE: of two advisers taking the same
    ticket at once exactly one wins; the other hears 409 `taken`. A holder who does not speak the
    ticket's language serves it in interpreter mode (machine translation, marked)."""
    open_count = _held(session, holder)
    if open_count >= holder.max_open_tickets:
        session.rollback()
        raise TicketError("limit_reached", f"{'you' if holder.id == by.id else 'they'} already hold {open_count} "
                          "open tickets", status=409)
    values, interpreting = _claim_values(session, ticket_id, holder, now)
    taken = session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.status.in_(from_status))
                            .values(**values))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise TicketError("taken", "the ticket was taken or closed meanwhile", status=409)
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    if holder.id == by.id:
        _event(session, ticket, "claimed", now, holder, interpreting=interpreting)
    else:
        _event(session, ticket, "assigned", now, by, to=holder.id, interpreting=interpreting)
    session.commit()
    session.refresh(ticket)
    return ticket


def waiting_notice(session: Session, conversation_id: str, language: str | None, now: datetime,
                   hours: shifts.OpeningHours) -> OutboundMessage | None:
    """What a customer hears when they write while their ticket waits for an adviser: the message is
    kept, and when an adviser will answer (soon, or the weekday and time the advisory opens). None
    once an adviser holds the ticket (they answer themselves) or when no ticket waits."""
    ticket = waiting_ticket(session, conversation_id)
    if ticket is None:
        return None
    return when_answered(session, ticket, "sys_waiting", language, now, hours)


def waiting_ticket(session: Session, conversation_id: str) -> Ticket | None:
    """The conversation's ticket that waits for an adviser (queued), if any."""
    return session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status == "queued")
                           .order_by(Ticket.created_at.desc()).limit(1)).first()


def do_claim(session: Session, ticket_id: str, adviser: Adviser, now: datetime) -> Ticket:
    """Claim this ticket (the waiting list's choice, e.g. the Somali-speaking adviser picking the
    Somali ticket). Only a queued ticket the adviser can reach; in a language they do not speak it
    is served through interpreter mode rather than left waiting for a speaker."""
    ticket = access_ticket_by_adviser(session, ticket_id, adviser, now)
    if ticket.status != "queued":
        raise TicketError("taken", "the ticket is not waiting any more", status=409)
    return _take(session, ticket.id, adviser, now, by=adviser, from_status=("queued",))


def do_assign(session: Session, ticket_id: str, supervisor: Adviser, to: str, now: datetime) -> Ticket:
    """A supervisor hands a waiting or held ticket to a named colleague (`to`: their username)."""
    if supervisor.role not in ("supervisor", "admin"):
        raise TicketError("forbidden", "only supervisors assign tickets", status=403)
    ticket = access_ticket_by_adviser(session, ticket_id, supervisor, now)
    colleague = session.scalars(select(Adviser).where(Adviser.username == to)).first()
    if colleague is None or not colleague.active:
        raise TicketError("unknown_adviser", "no such active adviser", status=422)
    if ticket.status == "closed":
        raise TicketError("closed", "a closed ticket cannot be assigned", status=409)
    if ticket.assigned_to == colleague.id:
        return ticket
    return _take(session, ticket.id, colleague, now, by=supervisor, from_status=("queued", "claimed"))


def do_reply(session: Session, ticket: Ticket, adviser: Adviser, text: str, now: datetime) -> Message:
    if ticket.status != "claimed" or ticket.assigned_to != adviser.id:
        raise TicketError("not_claimed", "claim the ticket before replying", status=409)
    conversation = session.get(Conversation, ticket.conversation_id)
    assert conversation is not None
    message = Message(conversation_id=ticket.conversation_id, sender="adviser", text=text,
                      language=None, status="sent", created_at=now)
    session.add(message)
    session.flush()
    _event(session, ticket, "replied", now, adviser, message_id=message.id)
    session.commit()
    return message


def do_transfer(session: Session, ticket: Ticket, adviser: Adviser, queue: str, now: datetime) -> Ticket:
    if ticket.status == "closed":
        raise TicketError("closed", "a closed ticket cannot be transferred", status=409)
    check_holds(ticket, adviser, "transferring")
    if session.get(Queue, queue) is None:
        raise TicketError("unknown_queue", f"no queue {queue!r}", status=422)
    old = ticket.queue
    ticket.queue, ticket.status, ticket.assigned_to, ticket.claimed_at = queue, "queued", None, None
    ticket.city_on_shift = shifts.city_on_shift(session, queue, ticket.channel, now)
    _event(session, ticket, "transferred", now, adviser, from_queue=old, to_queue=queue)
    session.commit()
    return ticket


def do_close(session: Session, ticket: Ticket, adviser: Adviser, outcome: str,
             now: datetime) -> tuple[Ticket, Message | None]:
    """Close the ticket and give the conversation back to the assistant; returns the notice that
    tells the customer so (for the caller to deliver in channels that push), if one was made."""
    if outcome not in OUTCOMES:
        raise TicketError("unknown_outcome", f"outcome must be one of {', '.join(OUTCOMES)}", status=422)
    if ticket.status == "closed":
        raise TicketError("closed", "the ticket is already closed", status=409)
    check_holds(ticket, adviser, "closing")
    ticket.status, ticket.outcome, ticket.closed_at = "closed", outcome, now
    conversation = session.get(Conversation, ticket.conversation_id)
    notice = None
    if conversation is not None:
        conversation.handler = "bot"
        notice = Message(conversation_id=conversation.id, sender="system",
                         text=render("sys_ticket_closed", conversation.language).text,
                         language=conversation.language, status="sent", created_at=now)
        session.add(notice)
    _event(session, ticket, "closed", now, adviser, outcome=outcome)
    session.commit()
    return ticket, notice


def queue_depths(session: Session, now: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Queue.code, Queue.name, Queue.response_target_minutes, func.count(Ticket.id), func.min(Ticket.created_at))
        .outerjoin(Ticket, (Ticket.queue == Queue.code) & (Ticket.status == "queued"))
        .group_by(Queue.code, Queue.name, Queue.response_target_minutes)
        .order_by(Queue.code)
    ).all()
    out = []
    for code, name, target, depth, oldest in rows:
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        wait = int((now - oldest).total_seconds()) if oldest else 0
        out.append({"queue": code, "name": name, "depth": depth, "oldest_wait_seconds": wait,
                    "response_target_minutes": target,
                    "city_on_shift": shifts.city_on_shift(session, code, "web", now)})
    return out
