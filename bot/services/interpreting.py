"""Interpreter mode: each side reads and writes in its own language, every machine translation is
marked, and the original is always one step away.

- The customer's messages are translated into the adviser's working language when the adviser
  opens the ticket (stored on the message, so the next view and the next adviser of that language
  do not ask again).
- The adviser's reply is translated into the customer's language before it goes out; channels
  show the translation with a marker and the original (`outgoing_view`).
- A backend that does not answer never blocks: the text goes through untranslated, marked, and the
  ticket notes it. A translation that looks unreliable (lost placeholders, a back-translation that
  strays) flags the ticket "interpreter recommended", so an appointment books a human interpreter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.locales import ui_strings
from bot.messages import OutboundMessage
from bot.models import Adviser, Conversation, Message, Ticket, TicketEvent
from bot.services.translation import Translator
from nlu import langid

log = logging.getLogger(__name__)
MAX_PER_VIEW = 50


def _event_once(session: Session, ticket: Ticket, kind: str, now: datetime, **data: object) -> None:
    seen = session.scalars(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.kind == kind)).first()
    if seen is None:
        session.add(TicketEvent(ticket_id=ticket.id, kind=kind, data=data or None, at=now))


def _recommend_interpreter(session: Session, ticket: Ticket, now: datetime, why: str) -> None:
    ticket.needs_interpreter = True
    _event_once(session, ticket, "interpreter_recommended", now, why=why)


def do_translate_for_adviser(session: Session, ticket: Ticket, adviser: Adviser, translator: Translator,
                             now: datetime) -> int:
    """Translate the ticket's customer messages into the adviser's working language; commits.
    Returns how many were translated now."""
    if not translator.enabled:
        return 0
    target = adviser.working_language
    messages = session.scalars(
        select(Message).where(Message.conversation_id == ticket.conversation_id, Message.sender == "customer",
                              (Message.translation_language.is_(None)) | (Message.translation_language != target))
        .order_by(Message.id).limit(MAX_PER_VIEW)).all()
    done = 0
    for message in messages:
        source = message.language if message.language and message.language != langid.UNDETERMINED else None
        if source == target:
            continue
        result = translator.translate(message.text, source, target)
        if not result.translated:
            if result.note == "unavailable":
                _event_once(session, ticket, "translation_unavailable", now)
                break  # the backend is down: the adviser reads the originals, no further waiting
            continue
        message.translation, message.translation_language = result.text, target
        done += 1
        if not translator.check_reliable(message.text, result):
            _recommend_interpreter(session, ticket, now, "customer message")
    session.commit()
    if done:
        log.info("translation.for_adviser ticket=%s messages=%d", ticket.id, done)
    return done


def do_translate_reply(session: Session, ticket: Ticket, message: Message, adviser: Adviser,
                       translator: Translator, now: datetime, written_in: str | None = None) -> None:
    """The adviser's reply into the customer's language (before any channel sends it); commits.
    A reply written in the customer's language (`written_in`: an authored answer inserted from the
    catalogue, a saved reply in that language, an adviser who speaks it) goes out as written."""
    conversation = session.get(Conversation, ticket.conversation_id)
    target = conversation.language if conversation else None
    message.language = written_in if written_in and written_in == target else adviser.working_language
    if message.language == target:
        session.commit()
        return
    if not translator.enabled or not target or target == langid.UNDETERMINED or target == adviser.working_language:
        session.commit()
        return
    result = translator.translate(message.text, adviser.working_language, target)
    if result.translated:
        message.translation, message.translation_language = result.text, target
        if not translator.check_reliable(message.text, result):
            _recommend_interpreter(session, ticket, now, "adviser reply")
    else:
        session.add(TicketEvent(ticket_id=ticket.id, kind="translation_unavailable",
                                data={"message_id": message.id}, at=now))
    session.commit()


@dataclass(frozen=True)
class CustomerView:
    """What the customer sees of a desk message: the text, and the marker and original if any."""

    text: str
    marker: str | None = None  # "Machine translation" or "Not translated", in the customer's language
    original: str | None = None
    original_label: str | None = None


def outgoing_view(message: Message, customer_language: str | None) -> CustomerView:
    ui = ui_strings(customer_language)
    if message.translation and message.translation_language:
        return CustomerView(text=message.translation, marker=ui["mt_marker"], original=message.text,
                            original_label=ui["mt_original"])
    if message.sender == "adviser" and message.language and customer_language and \
            message.language != customer_language and customer_language != langid.UNDETERMINED:
        return CustomerView(text=message.text, marker=ui["mt_untranslated"])
    return CustomerView(text=message.text)


def with_marker(view: CustomerView) -> str:
    """A plain-text rendering for channels without rich display (e-mail, Telegram)."""
    if view.marker is None:
        return view.text
    out = f"{view.text}\n\n— {view.marker}"
    if view.original:
        out += f"\n{view.original_label}:\n{view.original}"
    return out


def translate_answer(translator: Translator, answer: OutboundMessage, language: str) -> OutboundMessage:
    """One of the assistant's (English) answers for a tier-2 customer, machine-translated and marked
    with the original under it; untranslated and marked when the backend does not answer."""
    result = translator.translate(answer.text, "en", language)
    ui = ui_strings(language)
    view = CustomerView(text=result.text, marker=ui["mt_marker"], original=answer.text,
                        original_label=ui["mt_original"]) if result.translated else \
        CustomerView(text=answer.text, marker=ui["mt_untranslated"])
    return OutboundMessage(text=with_marker(view), buttons=answer.buttons)
