"""Delivering an adviser's reply (or a notice such as "the ticket is closed") into the customer's
own channel.

The core knows channels only by name: the composition root registers one deliverer per channel
that needs pushing (e-mail, Telegram); the web chat needs none, its live stream picks replies up.
A deliverer either sends at once (e-mail) or marks the message "pending" for its channel's worker
(Telegram, whose worker owns the rate limits); it raises DeliveryFailed when it cannot. Any other
error from a deliverer counts as not delivered too: a reply is never left "sent" when nothing went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Message, Ticket, TicketEvent

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    pass


# Sends or queues the message; returns the channel's id for it (an e-mail Message-ID), used to match
# bounces, or None.
Deliverer = Callable[[Session, Ticket, Message], str | None]


def do_deliver_reply(session: Session, deliverers: Mapping[str, Deliverer], ticket: Ticket, message: Message,
                     now: datetime) -> None:
    deliver = deliverers.get(ticket.channel)
    if deliver is None:
        return
    try:
        message.external_id = deliver(session, ticket, message)
    except DeliveryFailed as exc:
        _record_undelivered(session, ticket, message, str(exc), now)
    except Exception as exc:  # a deliverer's bug must not leave the reply "sent" while nothing went out
        if not session.is_active:  # a failed flush: the reply itself was committed before delivery
            session.rollback()
        _record_undelivered(session, ticket, message, f"delivery error: {type(exc).__name__}", now)
        log.error("reply.delivery_error ticket=%s channel=%s error=%s", ticket.id, ticket.channel,
                  type(exc).__name__)
    session.commit()


def _record_undelivered(session: Session, ticket: Ticket, message: Message, reason: str, now: datetime) -> None:
    message.status = "undelivered"
    session.add(TicketEvent(ticket_id=ticket.id, kind="undelivered", data={"message_id": message.id,
                                                                          "error": reason[:200]}, at=now))
    log.warning("reply.undelivered ticket=%s channel=%s", ticket.id, ticket.channel)


def _latest_ticket(session: Session, conversation_id: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)
                           .order_by(Ticket.created_at.desc())).first()


def do_mark_undelivered(session: Session, message: Message, reason: str, now: datetime) -> Ticket | None:
    """The channel could not deliver `message` (the customer blocked the bot, the address bounced):
    the message says so, and for a reply or notice from the desk its ticket records it too.
    The caller commits."""
    message.status = "undelivered"
    if message.sender not in ("adviser", "system"):
        return None
    ticket = _latest_ticket(session, message.conversation_id)
    if ticket is not None:
        session.add(TicketEvent(ticket_id=ticket.id, kind="undelivered",
                                data={"message_id": message.id, "error": reason[:200]}, at=now))
        log.warning("reply.undelivered ticket=%s reason=%s", ticket.id, reason[:40])
    return ticket


def do_mark_bounced(session: Session, external_ids: tuple[str, ...], now: datetime) -> Ticket | None:
    """A bounce names our outgoing message: mark it undelivered on its ticket."""
    if not external_ids:
        return None
    message = session.scalars(select(Message).where(Message.external_id.in_(external_ids))).first()
    if message is None:
        return None
    message.status = "undelivered"
    ticket = _latest_ticket(session, message.conversation_id)
    if ticket is not None:
        session.add(TicketEvent(ticket_id=ticket.id, kind="bounced", data={"message_id": message.id}, at=now))
    return ticket
