"""ORM models. The schema itself is owned by the Alembic migrations in bot/migrations."""

from bot.models.base import Base
from bot.models.conversation import Conversation, Message

__all__ = ["Base", "Conversation", "Message"]
