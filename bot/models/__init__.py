"""ORM models. The schema itself is owned by the Alembic migrations in bot/migrations."""

from bot.models.attachment import Attachment
from bot.models.audit import AuditEvent
from bot.models.base import Base
from bot.models.conversation import Conversation, Message
from bot.models.desk import Adviser, AuthToken, Queue, SavedReply, Shift, Ticket, TicketEvent, TicketNote
from bot.models.employer import SkillNeed
from bot.models.mail import MailMessage
from bot.models.phone import PhoneCall
from bot.models.telegram import TelegramChat, TelegramUpdate

__all__ = ["Adviser", "Attachment", "AuditEvent", "AuthToken", "Base", "Conversation", "MailMessage", "Message", "PhoneCall", "Queue", "SavedReply", "Shift", "SkillNeed", "TelegramChat",
           "TelegramUpdate", "Ticket", "TicketEvent", "TicketNote"]
