"""ORM models. The schema itself is owned by the Alembic migrations in bot/migrations."""

from bot.models.base import Base
from bot.models.conversation import Conversation, Message
from bot.models.desk import AuthToken, Adviser, Queue, Shift, Ticket, TicketEvent
from bot.models.mail import MailMessage

__all__ = ["Adviser", "AuthToken", "Base", "Conversation", "MailMessage", "Message", "Queue", "Shift", "Ticket", "TicketEvent"]
