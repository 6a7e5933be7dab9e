"""Inbound e-mail in the core: a received mail becomes a customer message and a ticket, in one
transaction with the raw message (so the SMTP server's 250 means it is kept), and the
acknowledgement the sender gets.

The e-mail adapter (integrations/email/) parses MIME and renders the answer as a mail; what reaches
this module are plain values (`IncomingMail`). A retried delivery (the same Message-ID) is a no-op;
a bounce of one of our replies is noted on its ticket instead of opening a new one.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.locales import render
from bot.models import Conversation, MailMessage, Ticket
from bot.services import shifts, topics
from bot.services.attachments import NewAttachment, do_keep_attachment
from bot.services.conversations import access_conversation_by_identity, do_keep_message
from bot.services.delivery import do_mark_bounced
from bot.services.tickets import do_handoff
from nlu import langid

log = logging.getLogger(__name__)

# Files of a mail kept on its ticket: at most this many, each at most this big (the SMTP server
# refuses mails over LUOTSI_SMTP_MAX_BYTES, 20 MiB, before this).
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
CHANNEL = "email"
ACKS_PER_SENDER_PER_DAY = 3
ANSWER_CONFIDENCE = 0.6


@dataclass(frozen=True)
class IncomingMail:
    """What the core needs of a parsed mail. `text` is the new text without quoted history;
    `ticket_ref` is the ticket id our subject tag names, when the subject kept it."""

    message_id: str
    raw: bytes
    sender: str  # lower-case address, "" when missing or unusable
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    in_reply_to: tuple[str, ...] = ()
    ticket_ref: str | None = None
    attachment_count: int = 0
    attachments: tuple[NewAttachment, ...] = ()  # the files, kept with the customer's message
    is_bounce: bool = False
    bounced_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceivedMail:
    """The outcome of a delivery: its ticket (for a bounce of one of our replies, that reply's),
    whether it was a retry of a kept mail, the conversation's language and whether it was a bounce."""

    ticket_id: str | None
    duplicate: bool
    language: str | None = None
    bounce: bool = False


def _thread_conversation(session: Session, mail: IncomingMail, mailbox: str) -> Conversation | None:
    """The conversation of an earlier message this one answers (In-Reply-To/References, or the
    ticket reference in the subject) — only when the sender is that conversation's customer.

    A Message-ID or a ticket reference is no secret (it is in every quoted reply, forward and
    Cc), so knowing one must not let anybody write into, or reopen, another person's ticket: the
    mail joins only when its sender is the contact e-mail of the ticket it would join
    (case-insensitive); otherwise it starts a conversation of its own. A mail sent to several of
    our mailboxes is kept once per mailbox, so a reply goes to the copy of its own mailbox first.
    """
    if not mail.sender:
        return None
    if mail.in_reply_to:
        earlier = session.scalars(select(MailMessage).where(MailMessage.message_id.in_(mail.in_reply_to))).all()
        for row in sorted(earlier, key=lambda r: (r.mailbox != mailbox, -r.id)):
            conversation = _joinable(session, row.conversation_id, mail.sender)
            if conversation is not None:
                return conversation
    if mail.ticket_ref:
        ticket = session.get(Ticket, mail.ticket_ref)
        if ticket is not None and ticket.channel == CHANNEL:
            return _joinable(session, ticket.conversation_id, mail.sender)
    return None


def _joinable(session: Session, conversation_id: str, sender: str) -> Conversation | None:
    """The e-mail conversation, if `sender` is the contact of its latest ticket (the one a new
    mail is added to, or reopens)."""
    ticket = session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)
                             .order_by(Ticket.created_at.desc()).limit(1)).first()
    if ticket is None or ticket.channel != CHANNEL:
        return None
    contact = str((ticket.contact or {}).get("email") or "")
    if not contact or contact.lower() != sender.lower():
        return None
    return session.get(Conversation, conversation_id)


def _identity(mail: IncomingMail, mailbox: str) -> str:
    """A new mail thread's channel identity: sender, mailbox and Message-ID (one conversation per
    mailbox the mail was sent to), at most 255 characters without cutting the Message-ID short."""
    identity = f"{mail.sender or 'unknown'}#{mailbox}#{mail.message_id}"
    if len(identity) <= 255:
        return identity
    digest = hashlib.sha256(f"{mailbox}#{mail.message_id}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{(mail.sender or 'unknown')[:190]}#{digest}"


def _mail_row(mail: IncomingMail, *, mailbox: str, conversation_id: str, ticket_id: str | None,
              now: datetime) -> MailMessage:
    return MailMessage(message_id=mail.message_id, mailbox=mailbox, sender=mail.sender or "", subject=mail.subject,
                       raw=mail.raw, conversation_id=conversation_id, ticket_id=ticket_id, received_at=now)


def do_receive_mail(session: Session, mail: IncomingMail, *, mailbox: str, queue: str, now: datetime,
                    hours: shifts.OpeningHours, home_area: str, reopen_days: int) -> ReceivedMail:
    """Store the raw mail, its text as a customer message and its ticket — all or nothing.

    A mail to several of our mailboxes is delivered once per mailbox, and each delivery is kept
    with a ticket in that mailbox's queue: both teams the customer wrote to see it. A retry is
    recognised by its Message-ID in the same mailbox."""
    existing = session.scalars(select(MailMessage).where(MailMessage.message_id == mail.message_id,
                                                         MailMessage.mailbox == mailbox)).first()
    if existing is not None:
        return ReceivedMail(existing.ticket_id, True)
    if mail.is_bounce:
        bounced = do_mark_bounced(session, mail.bounced_ids, now)
        if bounced is not None:  # a bounce of our reply: noted on its ticket, no new ticket
            session.add(_mail_row(mail, mailbox=mailbox, conversation_id=bounced.conversation_id,
                                  ticket_id=bounced.id, now=now))
            session.commit()
            log.info("mail.bounce ticket=%s", bounced.id)
            return ReceivedMail(bounced.id, False, bounce=True)
    body = "\n\n".join(part for part in (mail.subject, mail.text) if part).strip() or "(empty message)"
    conversation = _thread_conversation(session, mail, mailbox)
    if conversation is None:
        conversation = access_conversation_by_identity(session, channel=CHANNEL, external_id=_identity(mail, mailbox),
                                                       now=now, locale=None)
    # the same write of a customer's message as every channel's (bot/services/conversations.py)
    message, _hints = do_keep_message(session, conversation, body[:20000], now=now, status="for_adviser",
                                      detect_in=mail.text or mail.subject)
    session.flush()
    kept = 0
    for attachment in mail.attachments[:MAX_ATTACHMENTS]:
        if 0 < len(attachment.data) <= MAX_ATTACHMENT_BYTES:  # a CV, a certificate: the adviser opens it on the ticket
            do_keep_attachment(session, message, attachment)
            kept += 1
    handoff = do_handoff(
        session, conversation_id=conversation.id, reason="email", topic=topics.urgent_topic(body, queue),
        now=now, hours=hours, home_area=home_area, reopen_days=reopen_days, queue=queue, commit=False,
        contact={"channel": CHANNEL, "email": mail.sender, "name": mail.sender_name, "mailbox": mailbox},
    )
    session.add(_mail_row(mail, mailbox=mailbox, conversation_id=conversation.id, ticket_id=handoff.ticket.id,
                          now=now))
    try:
        session.commit()
    except IntegrityError:  # the same Message-ID committed by a parallel delivery a moment ago
        session.rollback()
        again = session.scalars(select(MailMessage).where(MailMessage.message_id == mail.message_id,
                                                          MailMessage.mailbox == mailbox)).one()
        return ReceivedMail(again.ticket_id, True)
    log.info("mail.accepted ticket=%s queue=%s bytes=%d attachments=%d kept=%d",
             handoff.ticket.id, queue, len(mail.raw), mail.attachment_count, kept)
    return ReceivedMail(handoff.ticket.id, False, conversation.language, bounce=mail.is_bounce)


def do_classify_mail(session: Session, ticket_id: str | None, intent: str | None, confidence: float) -> str | None:
    """Record the assistant's topic on the ticket; an urgent topic for the employer advisory goes
    first. Returns the topic when it is sure enough to send the common answer."""
    if ticket_id is None or intent not in topics.TOPICS:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    ticket.topic = ticket.topic or intent
    sure = confidence >= ANSWER_CONFIDENCE
    if sure and ticket.queue == topics.EMPLOYER_QUEUE:
        ticket.priority = max(ticket.priority, topics.priority_of(intent))
    session.commit()
    return intent if sure else None


def check_acknowledge(session: Session, *, sender: str, envelope_sender: str, automatic: bool,
                      now: datetime, message_id: str | None = None) -> bool:
    """Whether to answer automatically: never robots, bounces, lists, the null sender or a
    sender we already answered several times today (mail loops, floods). With `message_id`, only
    the sender's mail that arrived before this one counts: acknowledgements go out after the 250,
    when later mail of a flood may already be stored."""
    if automatic or not sender or not envelope_sender.strip("<> "):
        return False
    # a mail to two of our mailboxes is kept twice: count mails, not rows
    query = select(func.count(distinct(MailMessage.message_id))).where(
        MailMessage.sender == sender, MailMessage.received_at > now - timedelta(days=1))
    if message_id is not None:
        own = session.scalar(select(func.max(MailMessage.id)).where(MailMessage.message_id == message_id))
        if own is not None:
            query = query.where(MailMessage.id <= own)
    return (session.scalar(query) or 0) <= ACKS_PER_SENDER_PER_DAY


@dataclass(frozen=True)
class Acknowledgement:
    """The automatic answer's texts; the adapter adds the ticket tag to the subject."""

    subject: str
    body: str


def build_acknowledgement(session: Session, *, ticket_id: str | None, language: str | None, queue: str,
                          now: datetime, hours: shifts.OpeningHours, topic: str | None = None) -> Acknowledgement:
    """The texts in the sender's language: the ticket reference, when an adviser answers and,
    for a common question, the assistant's own answer to it."""
    language = language if language in langid.TIER1 else "en"
    ticket = ticket_id or "-"
    if shifts.city_on_shift(session, queue, CHANNEL, now):
        when = render("sys_mail_when_on_shift", language).text
    else:
        opens = shifts.next_opening(session, queue, CHANNEL, now, hours).astimezone(shifts.HELSINKI)
        when = render("sys_mail_when_closed", language, opens_at=opens.strftime("%d.%m.%Y %H:%M")).text
    subject = render("sys_mail_ack_subject", language, ticket=ticket).text
    body = render("sys_mail_ack", language, ticket=ticket, when=when).text
    if topic:
        answer = render(f"utter_{topic}", language).text
        body = f"{body}\n\n{'—' * 20}\n\n{answer}"
    return Acknowledgement(subject, body)


def do_answer_mail(session: Session, received: ReceivedMail, *, sender: str, envelope_sender: str,
                   automatic: bool, intent: str | None, confidence: float, queue: str, now: datetime,
                   hours: shifts.OpeningHours, message_id: str | None = None) -> Acknowledgement | None:
    """After the mail is kept: the assistant's topic on its ticket, and the acknowledgement for the
    sender — None when the sender must not be answered automatically (a retry, a bounce, a robot,
    a flood)."""
    if received.duplicate or received.bounce:
        return None
    topic = do_classify_mail(session, received.ticket_id, intent, confidence)
    if not check_acknowledge(session, sender=sender, envelope_sender=envelope_sender, automatic=automatic, now=now,
                             message_id=message_id):
        return None
    return build_acknowledgement(session, ticket_id=received.ticket_id, language=received.language, queue=queue,
                                 now=now, hours=hours, topic=topic)
