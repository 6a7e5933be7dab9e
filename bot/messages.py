"""The one internal message type every channel turns its wire format into, and back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as any channel delivers it."""

    channel: str  # "web", "telegram", "email", "phone" — the core knows a channel only by name
    external_id: str  # the channel identity: widget id, Telegram chat id, e-mail address…
    text: str
    locale: str | None = None  # the client's language hint (widget locale, Telegram language_code)
    # a language the customer picked in the channel's own UI (a Telegram language button): it
    # decides the conversation's language outright, whatever the text looks like
    chosen_language: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TicketRef:
    id: str
    queue: str
    status: str


@dataclass(frozen=True)
class Turn:
    """What one inbound message produced."""

    conversation_id: str
    language: str
    replies: tuple[OutboundMessage, ...]
    ticket: TicketRef | None = None
