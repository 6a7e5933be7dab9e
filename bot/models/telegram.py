"""Telegram's own bookkeeping: each update once, and which chats are groups or have blocked us.

The conversation itself lives in `Conversation`/`Message` like every other channel's; these tables
only hold what the Telegram adapter needs to keep its promises (exactly-once processing, one notice
per group).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime


class TelegramUpdate(Base):
    """An update as Telegram delivered it, committed before Telegram is told we have it.

    The update id is the key, so a second delivery of the same update is a no-op. The payload is
    dropped once the update has been processed: the message is kept in `message` by then.
    """

    __tablename__ = "telegram_update"
    __table_args__ = (Index("ix_telegram_update_status", "status", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # "received" → "processing" → "done" (or "failed" after repeated errors)
    status: Mapped[str] = mapped_column(String(12), default="received")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramChat(Base):
    """What Luotsi knows of a chat beyond its conversation: its type, the group notice, a block."""

    __tablename__ = "telegram_chat"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_type: Mapped[str] = mapped_column(String(16))
    group_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
