"""While a ticket waits: the offer of a notice or a call-back, taking it, and the notice (issue 15).

- The offer. When a hand-off or a waiting answer finds the ticket's queue with no city on shift
  (evening, weekend, holiday) and the customer reads us live (web chat, Telegram), the answer
  offers to leave an e-mail address for a notice or a phone number for a call-back — buttons
  where the channel has them, and typing the address or number always works.
- Taking it. A message written while the ticket waits that holds an e-mail address or a phone
  number (`nlu.pii` finds them, `check_phone_number` checks the number) records it on the
  ticket's contact: `notify_email`, or a call-back arranged through the chat's own call-back path
  (`do_request_callback`: the number as the contact's `phone`, which lists show masked, and the
  window the message names or else the earliest). The customer sees it masked; the message stays
  the adviser's like every waiting message.
- The notice. The first adviser reply delivered to such a customer also sends one short e-mail
  that says only that an adviser has answered and where to read it — never the reply. The mail is
  sent by whatever the composition root gives (`NoticeSender`); failing to send never fails the
  reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.locales import render
from bot.messages import OutboundMessage
from bot.models import Conversation, Message, Ticket, TicketEvent
from bot.services import shifts
from bot.services.callbacks import (
    WINDOW_NAMES,
    BadNumber,
    callback_due,
    check_phone_number,
    do_request_callback,
    mask_number,
)
from bot.services.delivery import Deliverer
from bot.services.guidance import GuidanceContext, callback_confirmation, window_of
from bot.services.tickets import waiting_ticket, when_answered
from nlu import pii

log = logging.getLogger(__name__)

# The channels the customer reads live; an e-mail or phone customer is reached there already.
OFFER_CHANNELS = ("web", "telegram")
# The offer's button payloads: pressing one asks for the address or the number.
LEAVE_EMAIL, LEAVE_PHONE = "/leave_email", "/leave_phone"
NOTICE_SENT = "notice_emailed"
MAX_EMAIL = 254

# (to, subject, body, queue): sends the mail or raises
NoticeSender = Callable[[str, str, str, str], None]


def mask_email(address: str) -> str:
    """"maija.meikalainen@example.fi" → "m***@example.fi": enough to recognise, not to copy."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _closed(session: Session, ticket: Ticket, now: datetime) -> bool:
    return shifts.city_on_shift(session, ticket.queue, ticket.channel, now) is None


def _offers(session: Session, ticket: Ticket, now: datetime) -> bool:
    """Whether the customer is offered the notice or the call-back: their ticket waits in a channel
    they read live, they have left neither yet, and nobody is on shift for it now."""
    contact = ticket.contact or {}
    return (ticket.status == "queued" and ticket.channel in OFFER_CHANNELS
            and not contact.get("notify_email") and not contact.get("phone") and _closed(session, ticket, now))


def with_offer(session: Session, ticket: Ticket, notice: OutboundMessage, language: str | None,
               now: datetime) -> OutboundMessage:
    """The notice, followed by the offer and its buttons when the offer applies."""
    if not _offers(session, ticket, now):
        return notice
    offer = render("sys_waiting_offer", language)
    return OutboundMessage(text=f"{notice.text}\n\n{offer.text}", buttons=notice.buttons + offer.buttons)


def do_answer_waiting(session: Session, conversation: Conversation, text: str, language: str, now: datetime,
                      context: GuidanceContext) -> OutboundMessage | None:
    """What a customer hears when they write while their ticket waits: the address or number they
    left, confirmed; what to write after pressing an offer button; else that the message is kept and
    when an adviser will answer (with the offer outside opening hours). None once an adviser holds
    the ticket (they answer themselves) or when no ticket waits. May commit."""
    ticket = waiting_ticket(session, conversation.id)
    if ticket is None:
        return None
    if ticket.channel in OFFER_CHANNELS:
        pressed = text.strip()
        if pressed == LEAVE_EMAIL:
            return render("sys_waiting_ask_email", language)
        if pressed == LEAVE_PHONE:
            return render("sys_callback_ask_number", language)
        left = do_take_contact(session, ticket, text, language, now, context)
        if left is not None:
            return left
    notice = when_answered(session, ticket, "sys_waiting", language, now, context.hours)
    return with_offer(session, ticket, notice, language, now)


def _found(text: str) -> tuple[str | None, str | None]:
    """The first e-mail address and the first callable phone number (E.164) in the text."""
    email: str | None = None
    phone: str | None = None
    for kind, value in pii.find(text):
        if kind == "email" and email is None and len(value) <= MAX_EMAIL:
            email = value
        elif kind == "phone" and phone is None:
            try:
                phone = check_phone_number(value)
            except BadNumber:
                continue
    return email, phone


def do_take_contact(session: Session, ticket: Ticket, text: str, language: str, now: datetime,
                    context: GuidanceContext) -> OutboundMessage | None:
    """Record the e-mail address (for a notice) and the phone number (a call-back) the message holds
    on the waiting ticket, and confirm them masked; None when it holds neither. Commits."""
    if ticket.channel not in OFFER_CHANNELS:
        return None
    email, phone = _found(text)
    if email is None and phone is None:
        return None
    said: list[str] = []
    if email is not None:
        ticket.contact = {**(ticket.contact or {}), "notify_email": email}
        session.add(TicketEvent(ticket_id=ticket.id, kind="notice_requested", data=None, at=now))
        said.append(render("sys_waiting_email_saved", language, email=mask_email(email)).text)
    if phone is not None:
        window = window_of(text, language) or min(
            WINDOW_NAMES, key=lambda name: callback_due(now, name, context.hours, context.windows))
        callback = do_request_callback(session, conversation_id=ticket.conversation_id, phone=phone, window=window,
                                       topic=ticket.topic, now=now, hours=context.hours, home_area=context.home_area,
                                       reopen_days=context.reopen_days, windows=context.windows)
        said.append(callback_confirmation(language, mask_number(phone), callback.due, window, context.windows).text)
    session.commit()
    log.info("waiting.contact_left ticket=%s email=%s phone=%s", ticket.id, email is not None, phone is not None)
    return OutboundMessage(text="\n\n".join(said))


# --- the notice ---------------------------------------------------------------------------------

def _wants_notice(ticket: Ticket, message: Message) -> bool:
    return (message.sender == "adviser" and ticket.channel in OFFER_CHANNELS
            and bool((ticket.contact or {}).get("notify_email")))


def do_send_answered_notice(session: Session, ticket: Ticket, message: Message, now: datetime,
                            send: NoticeSender) -> bool:
    """One short e-mail to the ticket's `notify_email` saying an adviser has answered, in the
    customer's language and without the reply; once per ticket. No connection is held while the
    mail goes out. A failure is recorded on the ticket (the next reply tries again), never raised."""
    if not _wants_notice(ticket, message):
        return False
    sent = session.scalar(select(TicketEvent.id).where(TicketEvent.ticket_id == ticket.id,
                                                       TicketEvent.kind == NOTICE_SENT).limit(1))
    if sent is not None:
        return False
    conversation = session.get(Conversation, ticket.conversation_id)
    language = (conversation.language if conversation is not None else None) or ticket.language
    to = str((ticket.contact or {})["notify_email"])
    subject = render("sys_answered_mail_subject", language).text
    body = render(f"sys_answered_mail_{ticket.channel}", language).text
    ticket_id, queue = ticket.id, ticket.queue
    session.commit()
    try:
        send(to, subject, body, queue)
    except Exception as exc:  # the reply stands whatever the mail does
        session.add(TicketEvent(ticket_id=ticket_id, kind="notice_failed", data={"error": type(exc).__name__},
                                at=now))
        session.commit()
        log.warning("waiting.notice_failed ticket=%s error=%s", ticket_id, type(exc).__name__)
        return False
    session.add(TicketEvent(ticket_id=ticket_id, kind=NOTICE_SENT, data=None, at=now))
    session.commit()
    log.info("waiting.notice_emailed ticket=%s", ticket_id)
    return True


class WithAnsweredNotice:
    """A channel's deliverer (or none: the web chat pulls its replies) followed by the notice e-mail.

    The reply is delivered first; only a delivered (or queued) reply sends the notice, and nothing
    the notice does changes what happened to the reply."""

    def __init__(self, inner: Deliverer | None, send: NoticeSender) -> None:
        self.inner = inner
        self.send = send

    def __call__(self, session: Session, ticket: Ticket, message: Message) -> str | None:
        external_id = self.inner(session, ticket, message) if self.inner is not None else None
        if _wants_notice(ticket, message):
            message.external_id = external_id
            session.commit()  # the reply's delivery is settled before the mail is tried
            try:
                do_send_answered_notice(session, ticket, message, message.created_at, self.send)
            except Exception as exc:  # a database error on the way: the reply is already committed
                session.rollback()
                log.error("waiting.notice_error ticket=%s error=%s", ticket.id, type(exc).__name__)
        return external_id


def with_answered_notice(deliverers: Mapping[str, Deliverer], send: NoticeSender) -> dict[str, Deliverer]:
    """The deliverers with the notice e-mail added for the channels the customer reads live."""
    out = dict(deliverers)
    for channel in OFFER_CHANNELS:
        out[channel] = WithAnsweredNotice(deliverers.get(channel), send)
    return out
