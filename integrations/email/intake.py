"""Mail → ticket, in one transaction with the raw message (so 250 means it is kept)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.locales import render
from bot.models import Conversation, MailMessage, Message, Ticket
from bot.services import shifts
from bot.services.delivery import do_mark_bounced
from bot.services.tickets import do_handoff
from integrations.email.parse import ParsedMail, parse_mail
from nlu import langid

log = logging.getLogger(__name__)
CHANNEL = "email"
# Change negotiations and dismissals in an employer's mail go to the front of the queue.
URGENT = re.compile(
    r"muutosneuvottel|muutosturv|irtisano|lomaut|yt-neuvottel|omställning|uppsägning|permitter|"
    r"change negotiation|redundan|dismiss|lay ?offs?\b|сокращени|увольнени|скорочен|звільнен|koondami",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Accepted:
    ticket_id: str | None
    duplicate: bool
    parsed: ParsedMail
    language: str | None = None


TICKET_REF = re.compile(r"\[Luotsi #([0-9a-f]{12})\]")


def ticket_tag(ticket_id: str) -> str:
    """The reference we put in subjects; a reply that keeps it joins the ticket."""
    return f"[Luotsi #{ticket_id}]"


def _thread_conversation(session: Session, parsed: ParsedMail) -> Conversation | None:
    """The conversation of an earlier message this one answers (In-Reply-To/References, or
    the ticket reference in the subject), if we have it."""
    if parsed.in_reply_to:
        earlier = session.scalars(
            select(MailMessage).where(MailMessage.message_id.in_(parsed.in_reply_to)).order_by(MailMessage.id.desc())
        ).first()
        if earlier is not None:
            return session.get(Conversation, earlier.conversation_id)
    match = TICKET_REF.search(parsed.subject)
    if match:
        ticket = session.get(Ticket, match.group(1))
        if ticket is not None and ticket.channel == CHANNEL:
            return session.get(Conversation, ticket.conversation_id)
    return None


def do_accept_mail(session: Session, raw: bytes, *, mailbox: str, queue: str, now: datetime,
                   hours: shifts.OpeningHours, home_area: str, reopen_days: int) -> Accepted:
    """Store the raw mail, its text as a customer message and its ticket — all or nothing."""
    parsed = parse_mail(raw)
    existing = session.scalars(select(MailMessage).where(MailMessage.message_id == parsed.message_id)).first()
    if existing is not None:
        return Accepted(existing.ticket_id, True, parsed)
    if parsed.is_bounce:
        bounced = do_mark_bounced(session, parsed.bounced_ids, now)
        if bounced is not None:  # a bounce of our reply: noted on its ticket, no new ticket
            session.add(MailMessage(message_id=parsed.message_id, mailbox=mailbox, sender=parsed.sender or "",
                                    subject=parsed.subject, raw=raw, conversation_id=bounced.conversation_id,
                                    ticket_id=bounced.id, received_at=now))
            session.commit()
            log.info("mail.bounce ticket=%s", bounced.id)
            return Accepted(bounced.id, False, parsed)
    body = "\n\n".join(part for part in (parsed.subject, parsed.text) if part).strip() or "(empty message)"
    found = langid.detect(parsed.text or parsed.subject)
    conversation = _thread_conversation(session, parsed)
    if conversation is None:
        conversation = Conversation(channel=CHANNEL, external_id=f"{parsed.sender or 'unknown'}#{parsed.message_id}"[:255],
                                    language=found.language if found.language != langid.UNDETERMINED else None,
                                    created_at=now, updated_at=now)
        session.add(conversation)
        session.flush()
    conversation.updated_at = now
    session.add(Message(conversation_id=conversation.id, sender="customer", text=body[:20000],
                        language=found.language, language_confidence=found.confidence, status="for_adviser",
                        created_at=now))
    session.flush()
    urgent = queue == "employer_advisory" and bool(URGENT.search(body))
    handoff = do_handoff(
        session, conversation_id=conversation.id, reason="email", topic="change_security" if urgent else None,
        now=now, hours=hours, home_area=home_area, reopen_days=reopen_days, queue=queue,
        priority=10 if urgent else 0, commit=False,
        contact={"channel": CHANNEL, "email": parsed.sender, "name": parsed.sender_name, "mailbox": mailbox},
    )
    session.add(MailMessage(message_id=parsed.message_id, mailbox=mailbox, sender=parsed.sender,
                            subject=parsed.subject, raw=raw, conversation_id=conversation.id,
                            ticket_id=handoff.ticket.id, received_at=now))
    try:
        session.commit()
    except IntegrityError:  # the same Message-ID committed by a parallel delivery a moment ago
        session.rollback()
        again = session.scalars(select(MailMessage).where(MailMessage.message_id == parsed.message_id)).one()
        return Accepted(again.ticket_id, True, parsed)
    log.info("mail.accepted ticket=%s queue=%s bytes=%d attachments=%d",
             handoff.ticket.id, queue, len(raw), len(parsed.attachments))
    return Accepted(handoff.ticket.id, False, parsed, conversation.language)


ACKS_PER_SENDER_PER_DAY = 3


def check_acknowledge(session: Session, accepted: Accepted, envelope_sender: str, now: datetime) -> bool:
    """Whether to answer automatically: never robots, bounces, lists, the null sender or a
    sender we already answered several times today (mail loops, floods)."""
    parsed = accepted.parsed
    if accepted.duplicate or parsed.auto_submitted or not parsed.sender or not envelope_sender.strip("<> "):
        return False
    recent = session.scalars(
        select(MailMessage.id).where(MailMessage.sender == parsed.sender,
                                     MailMessage.received_at > now - timedelta(days=1))
    ).all()
    return len(recent) <= ACKS_PER_SENDER_PER_DAY


ANSWER_CONFIDENCE = 0.6
TOPIC_INTENTS = frozenset({
    "register_jobseeker", "unemployment_benefit", "jobseeker_obligations", "initial_interview", "job_search_help",
    "labour_market_training", "self_motivated_study", "startup_grant", "learn_finnish", "competence_centre",
    "youth_services", "interpreter", "contact_info", "recruiting_help", "pay_subsidy", "espoo_recruitment_subsidy",
    "youth_employment_voucher", "employment_subsidy_55", "change_security", "joint_purchase_training",
})


def do_classify(session: Session, ticket_id: str | None, intent: str | None, confidence: float) -> str | None:
    """Record the assistant's topic on the ticket; change security from an employer goes first.
    Returns the topic when it is sure enough to send the common answer."""
    if ticket_id is None or intent not in TOPIC_INTENTS:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    ticket.topic = ticket.topic or intent
    if intent == "change_security" and ticket.queue == "employer_advisory" and confidence >= ANSWER_CONFIDENCE:
        ticket.priority = max(ticket.priority, 10)
    session.commit()
    return intent if confidence >= ANSWER_CONFIDENCE else None


def build_acknowledgement(session: Session, accepted: Accepted, *, mailbox: str, queue: str, now: datetime,
                          hours: shifts.OpeningHours, topic: str | None = None) -> tuple[str, str]:
    """(subject, body) in the sender's language: the ticket reference, when an adviser answers and,
    for a common question, the assistant's own answer to it."""
    language = accepted.language if accepted.language in langid.TIER1 else "en"
    ticket = accepted.ticket_id or "-"
    if shifts.city_on_shift(session, queue, CHANNEL, now):
        when = render("sys_mail_when_on_shift", language).text
    else:
        opens = shifts.next_opening(session, queue, CHANNEL, now, hours).astimezone(shifts.HELSINKI)
        when = render("sys_mail_when_closed", language, opens_at=opens.strftime("%d.%m.%Y %H:%M")).text
    subject = f"{render('sys_mail_ack_subject', language, ticket=ticket).text} {ticket_tag(ticket)}"
    body = render("sys_mail_ack", language, ticket=ticket, when=when).text
    if topic:
        answer = render(f"utter_{topic}", language).text
        body = f"{body}\n\n{'—' * 20}\n\n{answer}"
    return subject, body
