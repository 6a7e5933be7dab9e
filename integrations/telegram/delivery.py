"""Messages to Telegram customers: queued as "pending" in the conversation, sent by the worker.

An adviser's reply is queued by `TelegramDeliverer`; the assistant's answers are stored "pending" by
the turn itself. The worker owns the Bot API connection and PTB's rate limiter, so the console never
waits on Telegram; a message is "pending" until the worker has sent it, then "sent" or "undelivered".

Any number of workers can send: a worker claims a whole chat (an advisory lock, bot/services/jobs.py)
before it reads that chat's pending messages, and lets go only after the last one it sent is marked
"sent". So one chat's messages go out one after another, oldest first, from one worker at a time, and
a message marked sent is never read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Conversation, Message, TelegramChat, Ticket
from bot.services.delivery import DeliveryFailed
from bot.services.interpreting import outgoing_view, with_marker

CHANNEL = "telegram"


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


@dataclass(frozen=True)
class Outgoing:
    """A pending message as the customer sees it (a machine translation marked, with its original)."""

    id: int
    chat_id: int
    sender: str
    text: str
    buttons: list[dict[str, Any]]
    language: str | None


def pending_chats(session: Session, limit: int = 64) -> list[int]:
    """The chats with something to send, the one waiting longest first."""
    first = func.min(Message.id)
    rows = session.execute(
        select(Conversation.external_id, first)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.status == "pending", Conversation.channel == CHANNEL)
        .group_by(Conversation.external_id).order_by(first).limit(limit)
    ).all()
    return [int(chat) for chat, _ in rows if chat.lstrip("-").isdigit()]


def read_pending(session: Session, chats: list[int], per_chat: int = 50) -> list[Outgoing]:
    """The pending messages of `chats` (claimed by the caller), oldest first, at most `per_chat` each."""
    if not chats:
        return []
    rows = session.execute(
        select(Message, Conversation.external_id, Conversation.language)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.status == "pending", Conversation.channel == CHANNEL,
               Conversation.external_id.in_([str(c) for c in chats]))
        .order_by(Message.id).limit(per_chat * len(chats))
    ).all()
    out: list[Outgoing] = []
    counts: dict[int, int] = {}
    for message, chat, language in rows:
        chat_id = int(chat)
        counts[chat_id] = counts.get(chat_id, 0) + 1
        if counts[chat_id] <= per_chat:
            out.append(Outgoing(id=message.id, chat_id=chat_id, sender=message.sender,
                                text=with_marker(outgoing_view(message, language)),
                                buttons=list(message.buttons or []), language=language))
    return out
