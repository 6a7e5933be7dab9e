"""Delivering an adviser's reply into the customer's own channel.

The core knows channels only by name: the composition root registers one deliverer per channel
that needs pushing (e-mail); the web chat needs none, its live stream picks replies up.
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


# Sends the message; returns the channel's id for it (an e-mail Message-ID), used to match bounces.
Deliverer = Callable[[Session, Ticket, Message], str | None]


def do_deliver_reply(session: Session, deliverers: Mapping[str, Deliverer], ticket: Ticket, message: Message,
                     now: datetime) -> None:
    deliver = deliverers.get(ticket.channel)
    if deliver is None:
        return
    try:
        message.external_id = deliver(session, ticket, message)
        message.status = "sent"
    except DeliveryFailed as exc:
        message.status = "undelivered"
        session.add(TicketEvent(ticket_id=ticket.id, kind="undelivered", data={"message_id": message.id,
                                                                              "error": str(exc)[:200]}, at=now))
        log.warning("reply.undelivered ticket=%s channel=%s", ticket.id, ticket.channel)
    session.commit()


def do_mark_bounced(session: Session, external_ids: tuple[str, ...], now: datetime) -> Ticket | None:
    """A bounce names our outgoing message: mark it undelivered on its ticket."""
    if not external_ids:
        return None
    message = session.scalars(select(Message).where(Message.external_id.in_(external_ids))).first()
    if message is None:
        return None
    message.status = "undelivered"
    ticket = session.scalars(select(Ticket).where(Ticket.conversation_id == message.conversation_id)
                             .order_by(Ticket.created_at.desc())).first()
    if ticket is not None:
        session.add(TicketEvent(ticket_id=ticket.id, kind="bounced", data={"message_id": message.id}, at=now))
    return ticket
