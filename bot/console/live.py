"""What the console's live updates compare: a small stamp of the list or of one ticket, read from
the database (so every hub process sees the same). No ticket data leaves through the stream."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Message, Ticket, TicketEvent, TicketNote


def list_stamp(session: Session) -> tuple[Any, ...]:
    """Changes when a ticket arrives, changes hands or closes, or a waiting customer writes."""
    last_change = session.scalar(select(func.max(TicketEvent.id)).where(TicketEvent.kind != "viewed"))
    waiting = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "queued"))
    last_message = session.scalar(select(func.max(Message.id)).where(
        Message.sender == "customer",
        Message.conversation_id.in_(select(Ticket.conversation_id).where(Ticket.status == "queued"))))
    return last_change, waiting, last_message


def ticket_stamp(session: Session, ticket: Ticket) -> tuple[Any, ...]:
    """Changes with a new message in the conversation, a note, or a change of status or holder."""
    last_message = session.scalar(select(func.max(Message.id)).where(Message.conversation_id == ticket.conversation_id))
    last_note = session.scalar(select(func.max(TicketNote.id)).where(TicketNote.ticket_id == ticket.id))
    return last_message, last_note, ticket.status, ticket.assigned_to, ticket.queue


def token(stamp: tuple[Any, ...]) -> str:
    """A stamp as the page carries it (`data-stamp`), so the stream can tell a page that is already
    out of date when it connects."""
    return hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]
