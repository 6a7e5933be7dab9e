"""The "an adviser has answered you" e-mail to a web-chat or Telegram customer who left an address
(bot/services/waiting.py writes it; this sends it the way every outgoing mail goes: the relay, or
the outbox folder)."""

from __future__ import annotations

from bot.config import Settings
from integrations.email import outgoing

FALLBACK_SENDER = "luotsi@luotsi.localhost"


class NoticeMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def sender_for(self, queue: str) -> str:
        """The mailbox of the ticket's queue, else the first mailbox: a reply to the notice reaches us."""
        mailboxes = self.settings.mailbox_queues()
        return next((address for address, q in mailboxes.items() if q == queue), next(iter(mailboxes), FALLBACK_SENDER))

    def __call__(self, to: str, subject: str, body: str, queue: str) -> None:
        mail = outgoing.new_message(sender=self.sender_for(queue), to=to, subject=subject, body=body, auto=True)
        outgoing.send(self.settings, mail)
