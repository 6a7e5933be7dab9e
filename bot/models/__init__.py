"""ORM models. The schema itself is owned by the Alembic migrations in bot/migrations."""

from bot.models.attachment import Attachment
from bot.models.audit import AuditEvent
from bot.models.base import Base
from bot.models.conversation import Conversation, Message
from bot.models.desk import AuthToken, Adviser, Queue, SavedReply, Shift, Ticket, TicketEvent, TicketNote
from bot.models.mail import MailMessage
from bot.models.phone import PhoneCall
from bot.models.telegram import TelegramChat, TelegramUpdate

__all__ = ["Adviser", "Attachment", "AuditEvent", "AuthToken", "Base", "Conversation", "MailMessage", "Message", "PhoneCall", "Queue", "SavedReply", "Shift", "TelegramChat",
           "TelegramUpdate", "Ticket", "TicketEvent", "TicketNote"]
