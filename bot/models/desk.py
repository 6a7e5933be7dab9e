"""The shared PKS advisory: queues, shifts, advisers, tickets and their history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, desc, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime

CITIES = ("helsinki", "espoo", "vantaa")  # Kauniainen belongs to the Espoo area
ROLES = ("adviser", "supervisor", "admin")
CHANNELS = ("web", "telegram", "email", "phone")


class Queue(Base):
    __tablename__ = "queue"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # None for a queue shared by the PKS cities; a city for that area's own jobseeker advice
    area: Mapped[str | None] = mapped_column(String(16))
    response_target_minutes: Mapped[int] = mapped_column(Integer, default=60)


class Shift(Base):
    """Which city staffs which queue (and channel) from when to when, stored in UTC."""

    __tablename__ = "shift"
    __table_args__ = (Index("ix_shift_queue_time", "queue", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(ForeignKey("queue.code"))
    channel: Mapped[str | None] = mapped_column(String(16))  # None: every channel
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Adviser(Base):
    __tablename__ = "adviser"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(16))
    languages: Mapped[str] = mapped_column(String(120), default="fi")  # "fi,sv,en"
    # the language the adviser reads and writes in: customer messages are translated into it
    working_language: Mapped[str] = mapped_column(String(8), default="fi", server_default="fi")
    max_open_tickets: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def language_list(self) -> list[str]:
        return [c for c in self.languages.split(",") if c]


class AuthToken(Base):
    """A bearer token (API) or a cookie session (console); only its hash is stored."""

    __tablename__ = "auth_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # "bearer" or "session"
    csrf: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def new_ticket_id() -> str:
    return uuid.uuid4().hex[:12]


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_queue_status", "queue", "status", "priority", "created_at"),
        Index("ix_ticket_conversation", "conversation_id"),
        Index("ix_ticket_holder", "assigned_to", "status"),  # each claim counts what the adviser holds
        # the waiting tickets in claim order: claim-next reads the first one in scope instead of
        # sorting the whole queue (bot/services/quick_claim.py)
        Index("ix_ticket_waiting", desc("priority"), "created_at", "id",
              postgresql_where=text("status = 'queued'"), sqlite_where=text("status = 'queued'")),
    )

    id: Mapped[str] = mapped_column(String(12), primary_key=True, default=new_ticket_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"))
    channel: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(ForeignKey("queue.code"))
    status: Mapped[str] = mapped_column(String(8), default="queued")  # queued | claimed | closed
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first
    language: Mapped[str | None] = mapped_column(String(8))
    city_on_shift: Mapped[str | None] = mapped_column(String(16))
    needs_interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # an employer's structured intake (bot/services/employer.py): a recruitment assignment or a
    # change-security notice, as checked; None for every other ticket
    intake: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a callback: when the call is due (the start of the chosen window) and how many calls failed
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # customer satisfaction after closing (issue 18): asked once, answered at most once (1–5, an
    # optional comment); None while not asked / not answered
    csat_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TicketEvent(Base):
    """Every change of a ticket, and every view of it (the audit trail)."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    kind: Mapped[str] = mapped_column(String(24))  # created, claimed, replied, transferred, closed, reopened, viewed
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketNote(Base):
    """An adviser's internal note on a ticket: for colleagues, never sent to the customer."""

    __tablename__ = "ticket_note"
    __table_args__ = (Index("ix_ticket_note_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedReply(Base):
    """A reply an adviser keeps for reuse: their own (owner set) or shared with every adviser by a
    supervisor (owner None). `language` is the language it is written in."""

    __tablename__ = "saved_reply"
    __table_args__ = (Index("ix_saved_reply_owner", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
