"""The SMTP intake (aiosmtpd): mail for our mailboxes only; 250 only after the ticket is committed.

    python -m integrations.email.server     # started by `luotsi run` on LUOTSI_SMTP_PORT

Replies: 550 for any other recipient (so no relaying), 552 for mail over LUOTSI_SMTP_MAX_BYTES
(aiosmtpd enforces it during DATA), 451 when the message cannot be stored — the sender retries,
and the retry with the same Message-ID does not make a second ticket. A mail to several of our
mailboxes is kept once per mailbox, with a ticket in each mailbox's queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from datetime import datetime, timezone

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from bot.config import Settings, get_settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.services import events, metrics, shifts
from bot.services.rasa import RasaClient, RasaUnavailable
from integrations.email import outgoing
from integrations.email.intake import Accepted, accept_mail, acknowledgement

log = logging.getLogger("integrations.email")


class IntakeHandler:
    def __init__(self, factory: sessionmaker[DbSession], settings: Settings) -> None:
        self.factory = factory
        self.mailboxes = settings.mailbox_queues()
        self.hours = shifts.OpeningHours.parse(settings.opening_hours)
        self.home_area = settings.home_area
        self.reopen_days = settings.reopen_days
        self.settings = settings
        self.rasa = RasaClient(settings.rasa_url, timeout=5.0, token=settings.rasa_token)
        self._pending: set[asyncio.Future[None]] = set()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.strip().lower() not in self.mailboxes:
            metrics.count_mail("550")
            return "550 5.1.1 No such mailbox here (this server does not relay)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _store(self, raw: bytes, mailbox: str) -> Accepted:
        with self.factory() as db:
            return accept_mail(db, raw, mailbox=mailbox, queue=self.mailboxes[mailbox],
                               now=datetime.now(timezone.utc), hours=self.hours,
                               home_area=self.home_area, reopen_days=self.reopen_days)

    def _classify(self, accepted: Accepted) -> tuple[str | None, float]:
        """The assistant's NLU on the new text; without Rasa the mail is still kept, just unclassified."""
        text = "\n".join(part for part in (accepted.parsed.subject, accepted.parsed.text) if part)
        if not text.strip():
            return None, 0.0
        try:
            return self.rasa.parse(text)
        except RasaUnavailable:
            return None, 0.0

    def _acknowledge(self, accepted: Accepted, mailbox: str, envelope_sender: str) -> None:
        """After the 250: answer the sender, unless they are a robot or answered too often."""
        now = datetime.now(timezone.utc)
        if accepted.received.duplicate or accepted.received.bounce:
            return  # never answered: no need to ask the assistant
        intent, confidence = self._classify(accepted)
        with self.factory() as db:
            answer = acknowledgement(db, accepted, envelope_sender=envelope_sender, intent=intent,
                                     confidence=confidence, queue=self.mailboxes[mailbox], now=now, hours=self.hours)
        if answer is None:
            return
        subject, body = answer
        message = outgoing.new_message(sender=mailbox, to=accepted.parsed.sender, subject=subject, body=body,
                                       in_reply_to=accepted.parsed.message_id,
                                       references=accepted.parsed.in_reply_to, auto=True)
        try:
            where = outgoing.send(self.settings, message)
        except outgoing.SendFailed as exc:
            log.warning("mail.ack_failed ticket=%s error=%s", accepted.ticket_id, exc)
            return
        log.info("mail.acknowledged ticket=%s via=%s", accepted.ticket_id, "relay" if where == "relay" else "outbox")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        # one delivery per mailbox: each of our mailboxes the mail names keeps it in its own queue
        mailboxes = list(dict.fromkeys(address.strip().lower() for address in envelope.rcpt_tos))
        loop = asyncio.get_running_loop()
        kept: list[str] = []
        for mailbox in mailboxes:
            try:
                accepted = await loop.run_in_executor(None, self._store, raw, mailbox)
            except Exception as exc:  # any failure to store must become a 451, never a 250
                # the mailboxes stored so far see the retry as a duplicate: no second ticket there
                log.warning("mail.deferred error=%s", type(exc).__name__)
                metrics.count_mail("451")
                return "451 4.3.0 Could not store the message now; please try again later"
            task = loop.run_in_executor(None, self._acknowledge, accepted, mailbox, envelope.mail_from or "")
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            kept.append(accepted.ticket_id or "-")
            metrics.count_mail("250", self.mailboxes[mailbox])
        return f"250 2.0.0 Kept as ticket {', '.join(kept)}"


def make_controller(settings: Settings, factory: sessionmaker[DbSession]) -> Controller:
    return Controller(IntakeHandler(factory, settings), hostname=settings.smtp_host, port=settings.smtp_port,
                      data_size_limit=settings.smtp_max_bytes, decode_data=False,
                      server_hostname="luotsi.localhost")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO, addresses included: personal data stays out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url, busy_seconds=settings.db_busy_seconds)
    factory = make_sessionmaker(engine)
    publisher = events.install_publisher(factory, settings)  # a new ticket wakes the advisers' consoles
    controller = make_controller(settings, factory)
    controller.start()
    metrics.serve_worker_metrics(settings.mail_metrics_port, "mail")
    log.info("mail.listening port=%d mailboxes=%d", settings.smtp_port, len(settings.mailbox_queues()))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    publisher.close()
    engine.dispose()




if __name__ == "__main__":
    main()
