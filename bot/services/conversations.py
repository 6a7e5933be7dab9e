"""The one send path: every channel's inbound message ends in `do_receive_message`."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.locales import render
from bot.messages import InboundMessage, OutboundMessage, TicketRef, Turn
from bot.models import Conversation, Message, Ticket
from bot.services.attachments import NewAttachment, do_keep_attachment
from bot.services.interpreting import translate_answer
from bot.services.language import chosen_language, decide_language
from bot.services.rasa import RasaClient, RasaUnavailable
from bot.services.translation import Translator
from nlu import langid

log = logging.getLogger(__name__)


def access_conversation_by_identity(
    session: Session, *, channel: str, external_id: str, now: datetime, locale: str | None
) -> Conversation:
    """The conversation of this channel identity, created on first contact."""
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.external_id == external_id
    )
    conversation = session.scalars(query).first()
    if conversation is not None:
        return conversation
    conversation = Conversation(
        channel=channel, external_id=external_id, locale=locale, created_at=now, updated_at=now
    )
    session.add(conversation)
    try:
        session.flush()
    except IntegrityError:  # two first messages raced; the other one created it
        session.rollback()
        conversation = session.scalars(query).one()
    return conversation


def _store_replies(
    session: Session, conversation: Conversation, replies: list[OutboundMessage], language: str, now: datetime,
    status: str = "sent",
) -> None:
    for reply in replies:
        session.add(
            Message(
                conversation_id=conversation.id,
                sender="bot",
                text=reply.text,
                language=language,
                buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons] or None,
                status=status,
                created_at=now,
            )
        )


def _receive(session: Session, message: InboundMessage, now: datetime,
             commit: bool = True) -> tuple[Conversation, Message, str | None, tuple[str, ...]]:
    """Commit the customer's message and the conversation's language after it; also returns the
    language before it and the hints the assistant gets, so both sides decide alike."""
    conversation = access_conversation_by_identity(
        session, channel=message.channel, external_id=message.external_id, now=now, locale=message.locale
    )
    previous = conversation.language
    if message.chosen_language:
        decision = chosen_language(message.chosen_language)
    else:
        decision = decide_language(message.text, previous, message.locale)
    language = decision.conversation_language
    inbound = Message(
        conversation_id=conversation.id,
        sender="customer",
        text=message.text,
        language=decision.detected.language,
        language_confidence=decision.detected.confidence,
        status="received",
        created_at=now,
    )
    session.add(inbound)
    conversation.language = language if language != langid.UNDETERMINED else previous
    if message.locale:
        conversation.locale = message.locale
    conversation.updated_at = now
    if commit:
        session.commit()
    else:
        session.flush()
    log.info(
        "chat.received conversation=%s channel=%s language=%s method=%s",
        conversation.id, message.channel, decision.detected.language, decision.detected.method,
    )
    return conversation, inbound, previous, decision.hints


def do_receive_message(
    session: Session, rasa: RasaClient, message: InboundMessage, *, now: datetime, reply_status: str = "sent",
    translator: Translator | None = None,
) -> Turn:
    """Store the customer's message, let the assistant answer, store and return the answer.

    The customer's message is committed before anything else can fail, so an accepted
    message is never lost, even when the assistant is down. A channel that pushes its replies
    from a worker (Telegram) stores them with `reply_status="pending"`; its worker sends them.
    """
    conversation, inbound, previous, hints = _receive(session, message, now)
    reply_language = conversation.language or "en"
    if conversation.handler == "human":
        # An adviser owns the conversation: the assistant stays silent; the message is theirs.
        inbound.status = "for_adviser"
        session.commit()
        return Turn(conversation_id=conversation.id, language=reply_language, replies=())
    replies: list[OutboundMessage] = []
    text_for_rasa = message.text
    tier2 = reply_language not in langid.TIER1 and reply_language != langid.UNDETERMINED
    if tier2 and translator is not None and translator.enabled:
        # A tier-2 language with a translation backend: the assistant reads the English translation
        # and its answers are translated back, marked (bot/services/interpreting.py).
        into_english = translator.translate(message.text, reply_language, "en")
        if into_english.translated:
            text_for_rasa, hints = into_english.text, ("en",)
            inbound.translation, inbound.translation_language = into_english.text, "en"
    if tier2 and text_for_rasa is message.text and reply_language != previous:
        name = langid.LANGUAGE_NAMES_EN.get(reply_language, reply_language)
        replies.append(render("sys_tier2_notice", "en", language_name=name))
    try:
        answers = rasa.send(conversation.id, text_for_rasa, {"language_hints": list(hints)})
        if not answers:  # an action or the NLG call failed inside Rasa: say so, keep the message
            raise RasaUnavailable("no answer")
        if text_for_rasa is not message.text and translator is not None:
            answers = [translate_answer(translator, answer, reply_language) for answer in answers]
        replies += answers
        inbound.status = "answered"
    except RasaUnavailable:
        inbound.status = "kept"
        replies = [render("sys_unavailable", reply_language)]
    _store_replies(session, conversation, replies, reply_language, now, reply_status)
    session.commit()
    ticket = _handed_off_now(session, conversation)
    log.info("chat.answered conversation=%s replies=%d status=%s handoff=%s",
             conversation.id, len(replies), inbound.status, ticket.id if ticket else None)
    return Turn(conversation_id=conversation.id, language=reply_language, replies=tuple(replies), ticket=ticket)


def do_answer_locally(session: Session, message: InboundMessage, replies: list[OutboundMessage], *,
                      now: datetime, reply_status: str = "sent",
                      attachment: NewAttachment | None = None) -> tuple[Turn, Message]:
    """A turn the channel answers itself, without the assistant (Telegram's /start, /help, a file).

    The customer's message (with its file, if any) and the answer are committed together and kept
    in the transcript like any other turn; while an adviser owns the conversation the message is
    marked as theirs.
    """
    conversation, inbound, _previous, _hints = _receive(session, message, now, commit=False)
    if attachment is not None:
        do_keep_attachment(session, inbound, attachment)
    inbound.status = "for_adviser" if conversation.handler == "human" else "answered"
    language = conversation.language or "en"
    _store_replies(session, conversation, replies, language, now, reply_status)
    session.commit()
    return Turn(conversation_id=conversation.id, language=language, replies=tuple(replies)), inbound


def _handed_off_now(session: Session, conversation: Conversation) -> TicketRef | None:
    """The ticket, when the assistant handed the conversation to a human during this turn."""
    session.refresh(conversation)
    if conversation.handler != "human":
        return None
    ticket = session.scalars(
        select(Ticket).where(Ticket.conversation_id == conversation.id, Ticket.status.in_(("queued", "claimed")))
        .order_by(Ticket.created_at.desc()).limit(1)
    ).first()
    return TicketRef(id=ticket.id, queue=ticket.queue, status=ticket.status) if ticket else None


def read_messages_after(session: Session, *, channel: str, external_id: str, after: int,
                        senders: tuple[str, ...] = ("adviser", "system")
                        ) -> tuple[str | None, str | None, list[Message]]:
    """Messages for the customer that arrived after `after` (adviser replies, notices), who
    handles the conversation now, and its language. Used by the web chat's live stream."""
    conversation = session.scalars(
        select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
    ).first()
    if conversation is None:
        return None, None, []
    messages = list(session.scalars(
        select(Message).where(Message.conversation_id == conversation.id, Message.id > after,
                              Message.sender.in_(senders)).order_by(Message.id)
    ))
    return conversation.handler, conversation.language, messages
