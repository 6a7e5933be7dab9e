"""The adviser's working list: the tickets they may see, filtered, searched, sorted and paged, each
with a preview of the customer's last message and the time it has waited in opening hours.

One query for the page (the access rule of `tickets.visible_tickets` plus the filters), one for
the count and one for the previews of the rows shown; nothing is cut silently — the page says how
many there are in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from bot.models import Adviser, Conversation, Message, Queue, Ticket
from bot.models.desk import CHANNELS, CITIES
from bot.services import shifts
from bot.services import tickets as svc

STATUSES = ("queued", "claimed", "closed", "open", "all")
SORTS = ("waited", "newest", "priority", "language", "queue")
PER_PAGE = 50
PREVIEW_CHARS = 140


@dataclass(frozen=True)
class Filters:
    status: str = "queued"
    queue: str | None = None
    language: str | None = None
    channel: str | None = None
    city: str | None = None
    search: str | None = None
    sort: str = "waited"
    page: int = 1

    @classmethod
    def read(cls, params: dict[str, str]) -> Filters:
        """From query parameters; anything unknown falls back to the default, never an error
        (a stale bookmark still opens the list)."""
        def pick(name: str, allowed: tuple[str, ...] | None = None, size: int = 40) -> str | None:
            value = (params.get(name) or "").strip()[:size]
            if not value or (allowed is not None and value not in allowed):
                return None
            return value
        try:
            page = max(1, min(int(params.get("page") or 1), 10_000))
        except ValueError:
            page = 1
        return cls(status=pick("status", STATUSES) or "queued", queue=pick("queue"), language=pick("language", size=8),
                   channel=pick("channel", CHANNELS), city=pick("city", CITIES), search=pick("q", size=100),
                   sort=pick("sort", SORTS) or "waited", page=page)

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters as query parameters (for links: the next page, another sort)."""
        values = {"status": self.status, "queue": self.queue, "language": self.language, "channel": self.channel,
                  "city": self.city, "q": self.search, "sort": self.sort, "page": self.page}
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "", 1) or k == "status"}


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    preview: str
    waited_seconds: int  # in opening hours, since the ticket arrived
    late: bool
    holder: str | None
    # the adviser may claim it now: waiting, in a queue and channel of their shift (supervisors:
    # any). A shared recruitment assignment is listed to every city but claimed by the one on shift.
    claimable: bool = False


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int
    filters: Filters
    languages: list[str] = field(default_factory=list)  # the languages present, for the filter


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(session: Session, adviser: Adviser, now: datetime, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    visible = svc.visible_tickets(session, adviser, now)
    if visible is not None:
        conditions.append(visible)
    if filters.status == "open":
        conditions.append(Ticket.status.in_(svc.OPEN))
    elif filters.status != "all":
        conditions.append(Ticket.status == filters.status)
    for column, value in ((Ticket.queue, filters.queue), (Ticket.language, filters.language),
                          (Ticket.channel, filters.channel), (Ticket.city_on_shift, filters.city)):
        if value:
            conditions.append(column == value)
    if filters.search:
        pattern = _like(filters.search)
        in_messages = select(Message.conversation_id).where(Message.text.ilike(pattern, escape="\\"))
        conditions.append(or_(Ticket.id.ilike(pattern, escape="\\"), Ticket.summary.ilike(pattern, escape="\\"),
                              Ticket.conversation_id.in_(in_messages)))
    return conditions


def _ordered(query: Select[Ticket], sort: str) -> Select[Ticket]:
    if sort == "newest":
        return query.order_by(Ticket.created_at.desc(), Ticket.id)
    if sort == "language":
        return query.order_by(Ticket.language, Ticket.priority.desc(), Ticket.created_at)
    if sort == "queue":
        return query.order_by(Ticket.queue, Ticket.priority.desc(), Ticket.created_at)
    if sort == "priority":
        return query.order_by(Ticket.priority.desc(), Ticket.created_at, Ticket.id)
    return query.order_by(Ticket.created_at, Ticket.id)  # "waited": the longest wait first


def previews(session: Session, conversation_ids: list[str]) -> dict[str, str]:
    """The last customer message of each conversation, cut to a line."""
    if not conversation_ids:
        return {}
    last = (select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids),
                                               Message.sender == "customer")
            .group_by(Message.conversation_id))
    out: dict[str, str] = {}
    for conversation_id, text in session.execute(select(Message.conversation_id, Message.text)
                                                 .where(Message.id.in_(last))):
        line = " ".join(text.split())
        out[conversation_id] = line if len(line) <= PREVIEW_CHARS else line[:PREVIEW_CHARS - 1].rstrip() + "…"
    return out


def ticket_page(session: Session, adviser: Adviser, now: datetime, filters: Filters, *, offset: int,
                limit: int) -> tuple[list[Ticket], int]:
    """One page of the tickets the adviser may see under `filters`, and how many match in all."""
    conditions = _conditions(session, adviser, now, filters)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    tickets = list(session.scalars(_ordered(select(Ticket).where(*conditions), filters.sort)
                                   .offset(offset).limit(limit)))
    return tickets, total


def worklist(session: Session, adviser: Adviser, now: datetime, filters: Filters,
             hours: shifts.OpeningHours) -> Page:
    total = session.scalar(select(func.count()).select_from(Ticket)
                           .where(*_conditions(session, adviser, now, filters))) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(filters.page, pages)
    tickets, total = ticket_page(session, adviser, now, filters, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    texts = previews(session, [t.conversation_id for t in tickets])
    targets = dict(session.execute(select(Queue.code, Queue.response_target_minutes)).all())
    holders = dict(session.execute(select(Adviser.id, Adviser.username).where(
        Adviser.id.in_({t.assigned_to for t in tickets if t.assigned_to}))).all())
    scope = shifts.scope_of_adviser(session, adviser, now)
    leads = adviser.role in ("supervisor", "admin")
    rows = []
    for t in tickets:
        waited = shifts.open_seconds(t.created_at, t.claimed_at if t.status != "queued" and t.claimed_at else now,
                                     hours)
        rows.append(Row(ticket=t, preview=texts.get(t.conversation_id, t.summary or ""), waited_seconds=waited,
                        late=t.status == "queued" and waited > targets.get(t.queue, 60) * 60,
                        holder=holders.get(t.assigned_to) if t.assigned_to else None,
                        claimable=t.status == "queued" and (leads or svc.in_scope(t, scope))))
    unfiltered = _conditions(session, adviser, now, Filters(status=filters.status))
    languages = sorted(x for x in session.scalars(select(Ticket.language).where(*unfiltered).distinct()) if x)
    return Page(rows=rows, total=total, page=page, pages=pages, filters=filters, languages=languages)


def earlier_tickets(session: Session, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """The same customer's other tickets, newest first: the same conversation key (chat, Telegram
    chat, e-mail sender) or the same e-mail address or phone number in the contact."""
    conversation = session.get(Conversation, ticket.conversation_id)
    same: list[ColumnElement[bool]] = []
    if conversation is not None:
        same.append(Ticket.conversation_id.in_(select(Conversation.id).where(
            Conversation.channel == conversation.channel, Conversation.external_id == conversation.external_id)))
    contact = ticket.contact or {}
    keys = [str(contact[k]) for k in ("email", "phone") if contact.get(k)]
    if keys:
        # JSON is text on both databases; the match is exact on the quoted value.
        same.extend(cast(Ticket.contact, Text).like(_like(f'"{key}"'), escape="\\") for key in keys)
    if not same:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.id != ticket.id, or_(*same))
                                .order_by(Ticket.created_at.desc()).limit(limit)))

