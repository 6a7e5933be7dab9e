"""An adviser's reply to an e-mail ticket goes out as a proper e-mail in the customer's thread; the
satisfaction question after the close goes out there too, its score buttons rendered as a link to
the one-question page (bot/services/csat.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.locales import render
from bot.models import Conversation, MailMessage, Message, Ticket
from bot.services import csat
from bot.services.delivery import DeliveryFailed
from bot.services.interpreting import outgoing_view, with_marker
from integrations.email import outgoing
from integrations.email.intake import ticket_tag


class EmailDeliverer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, session: Session, ticket: Ticket, message: Message) -> str | None:
        if message.sender == "system" and message.text == render("sys_ticket_closed", message.language).text:
            return None  # "you can keep asking me" is for live chat, not a mail of its own
        thread = list(session.scalars(select(MailMessage).where(MailMessage.conversation_id == ticket.conversation_id)
                                      .order_by(MailMessage.id)))
        contact = ticket.contact or {}
        to = str(contact.get("email") or "")
        if not thread or not to:
            raise DeliveryFailed("no address to answer")
        last = thread[-1]
        subject = last.subject if last.subject.lower().startswith("re:") else f"Re: {last.subject}".strip()
        if ticket_tag(ticket.id) not in subject:
            subject = f"{subject} {ticket_tag(ticket.id)}"
        conversation = session.get(Conversation, ticket.conversation_id)
        language = conversation.language if conversation else None
        asking = csat.is_question(message)
        if asking:  # the question's score buttons, rendered for e-mail: a link to the one-question page
            token = csat.do_issue_link(session, ticket, message.created_at)
            link = f"{self.settings.base_url.rstrip('/')}/feedback/{token}"
            body = render("sys_csat_mail", message.language or language, link=link, ticket=ticket.id).text
        else:
            body = with_marker(outgoing_view(message, language))
        try:
            mail = outgoing.new_message(sender=str(contact.get("mailbox") or last.mailbox), to=to, subject=subject,
                                        body=body, in_reply_to=last.message_id,
                                        references=tuple(m.message_id for m in thread[:-1]), auto=asking)
            outgoing.send(self.settings, mail)
        except outgoing.SendFailed as exc:
            raise DeliveryFailed(str(exc)) from exc
        except (ValueError, TypeError, LookupError) as exc:  # a header or address the email package refuses
            raise DeliveryFailed(f"unusable mail: {type(exc).__name__}") from exc
        return str(mail["Message-ID"])
