"""An adviser's reply to a Telegram customer: queued for the Telegram worker, which sends it.

The worker owns the Bot API connection and PTB's rate limiter, so the console never waits on
Telegram; the reply is "pending" until the worker has sent it, then "sent" or "undelivered".
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.models import Conversation, Message, TelegramChat, Ticket
from bot.services.delivery import DeliveryFailed


class TelegramDeliverer:
    def __call__(self, session: Session, ticket: Ticket, message: Message) -> str | None:
        conversation = session.get(Conversation, ticket.conversation_id)
        if conversation is None or not conversation.external_id.lstrip("-").isdigit():
            raise DeliveryFailed("no Telegram chat for this conversation")
        chat = session.get(TelegramChat, int(conversation.external_id))
        if chat is not None and chat.blocked_at is not None:
            raise DeliveryFailed("blocked")  # the customer has blocked the bot: no use queueing it
        message.status = "pending"
        return None
