"""The record of acts on personal data as a whole (a person's data exported or erased, a retention
purge): who, when, what kind of key and how many rows — never the key or the data itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # "privacy.export", "privacy.erase" or "retention.purge"
    action: Mapped[str] = mapped_column(String(32))
    # the admin who did it (None for the daily purge); the username survives the account's removal
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    # which kind of key found the person: conversation_id, email, phone or telegram_user_id
    key_kind: Mapped[str | None] = mapped_column(String(24))
    # rows found, exported, deleted or anonymised, by kind; whether Rasa forgot the trackers
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
