"""Mail ⇄ the core: a delivered mail, parsed, goes to `bot.services.mail`; its answer comes back
as texts that become a mail here. The subject tag `[Luotsi #…]` is this channel's thread
reference: put on every mail we send, read back from the subject of a reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.services import mail, shifts
from bot.services.attachments import NewAttachment
from integrations.email.parse import ParsedMail, parse_mail

TICKET_REF = re.compile(r"\[Luotsi #([0-9a-f]{12})\]")


@dataclass(frozen=True)
class Accepted:
    ticket_id: str | None
    duplicate: bool
    parsed: ParsedMail
    received: mail.ReceivedMail


def ticket_tag(ticket_id: str) -> str:
    """The reference we put in subjects; a reply that keeps it joins the ticket."""
    return f"[Luotsi #{ticket_id}]"


def ticket_reference(subject: str) -> str | None:
    match = TICKET_REF.search(subject)
    return match.group(1) if match else None


def incoming(parsed: ParsedMail, raw: bytes) -> mail.IncomingMail:
    """The parsed mail as the core's plain values."""
    return mail.IncomingMail(
        message_id=parsed.message_id, raw=raw, sender=parsed.sender, sender_name=parsed.sender_name,
        subject=parsed.subject, text=parsed.text, in_reply_to=parsed.in_reply_to,
        ticket_ref=ticket_reference(parsed.subject), attachment_count=len(parsed.attachments),
        attachments=tuple(NewAttachment(a.filename, a.content_type, a.data) for a in parsed.attachments),
        is_bounce=parsed.is_bounce, bounced_ids=parsed.bounced_ids,
    )


def accept_mail(session: Session, raw: bytes, *, mailbox: str, queue: str, now: datetime,
                hours: shifts.OpeningHours, home_area: str, reopen_days: int) -> Accepted:
    """Parse the delivered bytes and keep them: raw mail, customer message and ticket, all or nothing."""
    parsed = parse_mail(raw)
    received = mail.do_receive_mail(session, incoming(parsed, raw), mailbox=mailbox, queue=queue, now=now,
                                    hours=hours, home_area=home_area, reopen_days=reopen_days)
    return Accepted(received.ticket_id, received.duplicate, parsed, received)


def acknowledgement(session: Session, accepted: Accepted, *, envelope_sender: str, intent: str | None,
                    confidence: float, queue: str, now: datetime,
                    hours: shifts.OpeningHours) -> tuple[str, str] | None:
    """(subject, body) of the automatic answer, the subject tagged with the ticket; None when the
    sender is not to be answered."""
    parsed = accepted.parsed
    answer = mail.do_answer_mail(session, accepted.received, sender=parsed.sender, envelope_sender=envelope_sender,
                                 automatic=parsed.auto_submitted, intent=intent, confidence=confidence, queue=queue,
                                 now=now, hours=hours, message_id=parsed.message_id)
    if answer is None:
        return None
    return f"{answer.subject} {ticket_tag(accepted.ticket_id or '-')}", answer.body
