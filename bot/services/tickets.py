"""Tickets in the shared PKS queues: hand-off, claim, reply, transfer, close.

Every state change is a TicketEvent; every view by an adviser is one too (the audit trail).
Claiming is one conditional UPDATE (`… WHERE status = 'queued'`), so two advisers can never hold
the same ticket — also with several hub processes on one PostgreSQL database, where the
candidate is picked with FOR UPDATE SKIP LOCKED so claimers do not queue behind each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    case,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ExecutableReturnsRows

from bot.locales import local_time, render
from bot.messages import OutboundMessage, TicketRef
from bot.models import Adviser, Conversation, Message, Queue, Ticket, TicketEvent
from bot.services import csat, metrics, queue_position, shifts

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
        metrics.count_handoff(reason)
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
        metrics.count_handoff(reason)
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
    and time it opens again; in a live channel followed by the customer's place in the queue and the
    estimated wait (bot/services/queue_position.py)."""
    if shifts.city_on_shift(session, ticket.queue, ticket.channel, now):
        notice = render(f"{texts}_on_shift", language)
    else:
        opens = shifts.next_opening(session, ticket.queue, ticket.channel, now, hours)
        notice = render(f"{texts}_closed", language, opens_at=local_time(opens, language))
    return queue_position.with_place(session, ticket, notice, language, now, hours)


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


def shared_assignment(ticket: Ticket) -> bool:
    """An open recruitment assignment the employer agreed to share across the PKS region: advisers
    of all three cities read it (and add notes, e.g. a candidate), whoever is on shift."""
    intake = ticket.intake if isinstance(ticket.intake, dict) else {}
    return (ticket.status in ("queued", "claimed") and intake.get("type") == "assignment"
            and intake.get("share_across_region") is True)


# `shared_assignment` as SQL: employer intakes about recruiting, open, with the consent in the packet
_SHARED_ASSIGNMENT: ColumnElement[bool] = ((Ticket.reason == "employer_intake") & (Ticket.topic == "recruiting_help")
                      & Ticket.status.in_(("queued", "claimed"))
                      & Ticket.intake["share_across_region"].as_boolean().is_(True))


def visible_tickets(session: Session, adviser: Adviser, now: datetime) -> ColumnElement[bool] | None:
    """The access rule of `access_ticket_by_adviser` as an SQL condition on Ticket, for lists;
    None means no restriction."""
    scope = visible_scope(session, adviser, now)
    if scope is None:
        return None
    return (_scope_clause(scope) | ((Ticket.assigned_to == adviser.id) & Ticket.status.in_(("claimed", "closed")))
            | _SHARED_ASSIGNMENT)


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
    if shared_assignment(ticket):
        return "region"
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
    - An open recruitment assignment the employer agreed to share across the region
      (`shared_assignment`) is readable by advisers of all three cities, who may add notes; only
      the shift claims and answers it.
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
    if for_change and reach == "region":
        raise TicketError("forbidden", "a shared recruitment assignment is handled by the city on shift",
                          status=403)
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


def do_claim_next(session: Session, adviser: Adviser, now: datetime, queue: str | None = None, *,
                  commit: bool = True) -> Ticket | None:
    """Claim the oldest ticket of the highest priority in the adviser's shift queues (in the
    shift's channels), atomically.

    Tickets in a language the adviser serves in come first; tickets flagged for interpreting, and
    tickets in a language nobody in the adviser's city speaks, are served by anyone (interpreter
    mode); a ticket in another language waits for a colleague of the city who speaks it.

    The pick, the held-ticket limit and the claim are one statement (`_claim_next_statement`),
    committed with its audit event: a claim costs the database about what a bare claim loop does.
    With `commit=False` the caller commits (after reading what it shows of the ticket).
    """
    scope: Scope
    scope, spoken = shifts.scope_and_speakers(session, adviser, now)
    if adviser.role in ("supervisor", "admin") and not scope:
        scope = [(code, None) for code in session.scalars(select(Queue.code))]
    if queue is not None:
        scope = [(q, c) for q, c in scope if q == queue]
        if not scope:
            raise TicketError("forbidden", "that queue is not on your shift", status=403)
    if not scope:
        return None
    # a language nobody in the adviser's city speaks never waits for a speaker: anyone serves it
    # through interpreter mode
    speakers = spoken | set(adviser.language_list)
    params = {**_claim_params(adviser, now), "speakers": sorted(speakers)}
    claim, candidate = _claim_next_statement(tuple(scope), _is_postgresql(session))
    for _attempt in range(5):
        ticket: Ticket | None = session.scalars(claim, params).first()
        if ticket is not None:
            _record_take(session, ticket, adviser, now, by=adviser, interpreting=None)
            if commit:
                session.commit()
            return ticket
        session.rollback()
        check_below_limit(session, adviser, adviser)
        # the queues are empty — or, rarely, every candidate was being claimed by a colleague at
        # that instant: only then is another try worth it
        if session.scalars(candidate, params).first() is None:
            session.rollback()
            return None
    session.rollback()
    return None


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# The claim's statements are built once per shape and reused with bound parameters: building a
# statement of this size costs the hub more than the database needs to run it.
_held_ticket = aliased(Ticket, name="held")
_HELD = (select(func.count()).select_from(_held_ticket)
         .where(_held_ticket.assigned_to == bindparam("holder"), _held_ticket.status == "claimed").scalar_subquery())
_LANGUAGES: BindParameter[list[str]] = bindparam("languages", expanding=True)  # the claiming adviser's
_SPEAKERS: BindParameter[list[str]] = bindparam("speakers", expanding=True)  # spoken by someone of their city
_RECORD = insert(cast(Table, TicketEvent.__table__))  # a plain INSERT: a unit of work adds nothing to one row


def _claim_params(holder: Adviser, now: datetime) -> dict[str, Any]:
    return {"holder": holder.id, "now": now, "max_open": holder.max_open_tickets, "languages": holder.language_list}


def _claim_update(which: ColumnElement[bool], from_status: tuple[str, ...]) -> ExecutableReturnsRows:
    """Give the row `which` picks to the holder, guarded by its status and the holder's limit, and
    return it as it is now (RETURNING). `needs_interpreter` follows the row's own language inside
    the UPDATE (the rule of `_interpreting`), so nothing has to read the ticket first.

    The guards sit in the UPDATE itself, so of two advisers taking one ticket exactly one wins, on
    PostgreSQL (row lock, status re-checked) and on SQLite (one writer at a time) alike."""
    interpreting = Ticket.language.is_not(None) & (Ticket.language != "und") & Ticket.language.notin_(_LANGUAGES)
    table = cast(Table, Ticket.__table__)
    claim = (
        update(table)
        .where(which, Ticket.status.in_(from_status), _HELD < bindparam("max_open", type_=Integer))
        .values(status="claimed", assigned_to=bindparam("holder", type_=Integer),
                claimed_at=bindparam("now", type_=Ticket.claimed_at.type),
                needs_interpreter=case((interpreting, True), else_=Ticket.needs_interpreter))
        .returning(*table.c)
    )
    # a plain UPDATE … RETURNING loaded as tickets: the ORM's bulk-UPDATE machinery costs the hub
    # more than the database spends on the claim
    return select(Ticket).from_statement(claim).execution_options(populate_existing=True)


@lru_cache(maxsize=256)
def _claim_next_statement(scope: tuple[tuple[str, str | None], ...], postgresql: bool) -> tuple[ExecutableReturnsRows, Select[Any]]:
    """Claim-next for one shift scope: the UPDATE, and the candidate query it picks with (on
    PostgreSQL with FOR UPDATE SKIP LOCKED, so concurrent claimers skip each other's candidates
    instead of queueing behind them)."""
    speaks = case((Ticket.language.in_(_LANGUAGES), 1), else_=0)
    candidate = (
        select(Ticket.id)
        .where(Ticket.status == "queued", _scope_clause(list(scope)),
               Ticket.language.in_(_LANGUAGES) | Ticket.needs_interpreter.is_(True)
               | Ticket.language.is_(None) | (Ticket.language == "und") | Ticket.language.notin_(_SPEAKERS))
        .order_by(Ticket.priority.desc(), speaks.desc(), Ticket.created_at, Ticket.id)
        .limit(1)
    )
    pick = candidate.with_for_update(skip_locked=True) if postgresql else candidate
    return _claim_update(Ticket.id == pick.scalar_subquery(), ("queued",)), candidate


@lru_cache(maxsize=4)
def _claim_by_id_statement(from_status: tuple[str, ...]) -> ExecutableReturnsRows:
    return _claim_update(Ticket.id == bindparam("ticket_id"), from_status)


def _held(session: Session, adviser: Adviser) -> int:
    """How many tickets the adviser holds open now."""
    return session.scalar(select(_HELD), {"holder": adviser.id}) or 0


def check_below_limit(session: Session, holder: Adviser, by: Adviser) -> None:
    """The holder may take one more ticket: they hold fewer than their `max_open_tickets`."""
    open_count = _held(session, holder)
    if open_count >= holder.max_open_tickets:
        session.rollback()
        raise TicketError("limit_reached", f"{'you' if holder.id == by.id else 'they'} already hold {open_count} "
                          "open tickets", status=409)


def _interpreting(language: str | None, holder: Adviser) -> bool:
    """Whether the holder serves a ticket in `language` in interpreter mode (they do not speak it)."""
    return bool(language) and language != "und" and language not in holder.language_list


def _record_take(session: Session, ticket: Ticket, holder: Adviser, now: datetime, *, by: Adviser,
                 interpreting: bool | None) -> None:
    """The claim's audit event (`assigned` when someone else hands the ticket over), in the
    claim's transaction."""
    data: dict[str, Any] = {} if interpreting is None else {"interpreting": interpreting}
    if holder.id != by.id:
        data = {"to": holder.id, **data}
    session.execute(_RECORD, {"ticket_id": ticket.id, "adviser_id": by.id, "data": data or None, "at": now,
                              "kind": "claimed" if holder.id == by.id else "assigned"})
    if holder.id == by.id:  # an adviser's own claim ends the wait (a supervisor's assignment is not counted)
        metrics.observe_claim(ticket.queue, ticket.created_at, now)


def _take(session: Session, ticket_id: str, holder: Adviser, now: datetime, *, by: Adviser,
          from_status: tuple[str, ...], commit: bool = True) -> Ticket:
    """Give the ticket to `holder` in one conditional UPDATE: of two advisers taking the same
    ticket at once exactly one wins; the other hears 409 `taken`. A holder who does not speak the
    ticket's language serves it in interpreter mode (machine translation, marked)."""
    ticket: Ticket | None = session.scalars(_claim_by_id_statement(from_status),
                                            {**_claim_params(holder, now), "ticket_id": ticket_id}).first()
    if ticket is None:
        session.rollback()
        check_below_limit(session, holder, by)
        raise TicketError("taken", "the ticket was taken or closed meanwhile", status=409)
    _record_take(session, ticket, holder, now, by=by, interpreting=_interpreting(ticket.language, holder))
    if commit:
        session.commit()
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


def do_claim(session: Session, ticket_id: str, adviser: Adviser, now: datetime, *, commit: bool = True) -> Ticket:
    """Claim this ticket (the waiting list's choice, e.g. the Somali-speaking adviser picking the
    Somali ticket). Only a queued ticket the adviser can reach; in a language they do not speak it
    is served through interpreter mode rather than left waiting for a speaker. With `commit=False`
    the caller commits."""
    ticket = access_ticket_by_adviser(session, ticket_id, adviser, now)
    if shared_assignment(ticket) and _reach(session, ticket, adviser, now) == "region":
        raise TicketError("forbidden", "a shared recruitment assignment is handled by the city on shift",
                          status=403)
    if ticket.status != "queued":
        raise TicketError("taken", "the ticket is not waiting any more", status=409)
    return _take(session, ticket.id, adviser, now, by=adviser, from_status=("queued",), commit=commit)


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
    metrics.count_reply(ticket.channel)
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
             now: datetime) -> tuple[Ticket, list[Message]]:
    """Close the ticket and give the conversation back to the assistant; returns the messages for
    the customer (for the caller to deliver in channels that push): the notice that says so and,
    for a customer who was served, the satisfaction question (bot/services/csat.py), asked in this
    same transaction and never twice for one ticket."""
    if outcome not in OUTCOMES:
        raise TicketError("unknown_outcome", f"outcome must be one of {', '.join(OUTCOMES)}", status=422)
    if ticket.status == "closed":
        raise TicketError("closed", "the ticket is already closed", status=409)
    check_holds(ticket, adviser, "closing")
    ticket.status, ticket.outcome, ticket.closed_at = "closed", outcome, now
    conversation = session.get(Conversation, ticket.conversation_id)
    notices: list[Message] = []
    if conversation is not None:
        conversation.handler = "bot"
        notice = Message(conversation_id=conversation.id, sender="system",
                         text=render("sys_ticket_closed", conversation.language).text,
                         language=conversation.language, status="sent", created_at=now)
        session.add(notice)
        notices.append(notice)
    _event(session, ticket, "closed", now, adviser, outcome=outcome)
    asked = csat.do_ask(session, ticket, conversation, outcome, now) if conversation is not None else None
    if asked is not None:
        notices.append(asked)
    session.commit()
    return ticket, notices


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
