"""ORM models. The schema itself is owned by the Alembic migrations in bot/migrations."""

from bot.models.base import Base
from bot.models.conversation import Conversation, Message
from bot.models.desk import AuthToken, Adviser, Queue, Shift, Ticket, TicketEvent

__all__ = ["Adviser", "AuthToken", "Base", "Conversation", "Message", "Queue", "Shift", "Ticket", "TicketEvent"]
