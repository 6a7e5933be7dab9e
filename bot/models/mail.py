"""Raw inbound e-mail, kept with its ticket. The Message-ID makes a retried delivery a no-op; a
mail to several of our mailboxes is kept once per mailbox (each with its own ticket)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base, UTCDateTime


class MailMessage(Base):
    __tablename__ = "mail_message"
    __table_args__ = (UniqueConstraint("message_id", "mailbox", name="uq_mail_message_message_id_mailbox"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(255))
    mailbox: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(998))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id"))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("ticket.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
