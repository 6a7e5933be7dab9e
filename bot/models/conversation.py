"""A conversation is keyed by its channel identity; Rasa only ever sees our own id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, UTCDateTime


def new_id() -> str:
    return uuid.uuid4().hex


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_conversation_identity"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    locale: Mapped[str | None] = mapped_column(String(35))
    # "bot" while the assistant answers; "human" while an adviser owns the conversation.
    handler: Mapped[str] = mapped_column(String(8), default="bot")
    # a guided conversation in progress (self-assessment or service-need mapping), and the last
    # results of each; the results go into the hand-off packet (bot/services/guidance.py)
    guidance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    service_needs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", lazy="raise"
    )


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_conversation", "conversation_id", "id"),
        # the Telegram outbox looks for "pending" replies several times a second
        Index("ix_message_status", "status"),
        Index("ix_message_outcome_created", "outcome", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    # "customer", "bot", "adviser" or "system"
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    translation: Mapped[str | None] = mapped_column(Text)
    translation_language: Mapped[str | None] = mapped_column(String(8))
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # inbound: "received" → "answered", or "kept" when the assistant could not answer;
    # outbound: "sent"; "pending" while a channel worker still has to push it (Telegram);
    # "undelivered" when the channel refused it (an e-mail bounce, a Telegram user who blocked us)
    status: Mapped[str] = mapped_column(String(16), default="received")
    # the channel's own id for an outgoing message (an e-mail's Message-ID), to match bounces
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a customer's message: what the assistant made of it (issue 18's unanswered questions) —
    # "answered", "fallback", "clarify", "handoff", "guided"; None for other messages and before 0015
    outcome: Mapped[str | None] = mapped_column(String(16))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
