"""A phone call's way through the menu, keyed by the provider's call id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime


class PhoneCall(Base):
    __tablename__ = "phone_call"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"))
    # the caller's number in E.164 when the network gave one we can call back, else None
    caller: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    role: Mapped[str | None] = mapped_column(String(16))  # employer | jobseeker
    topic: Mapped[str | None] = mapped_column(String(64))
    # where the caller is: language, role, topic, connecting, callback, number, window, done
    step: Mapped[str] = mapped_column(String(16), default="language")
    callback_number: Mapped[str | None] = mapped_column(String(32))
    tries: Mapped[int] = mapped_column(default=0)  # time-outs and wrong keys at the current step
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("ticket.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
