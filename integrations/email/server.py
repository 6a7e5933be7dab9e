"""The SMTP intake (aiosmtpd): mail for our mailboxes only; 250 only after the ticket is committed.

    python -m integrations.email.server     # started by `luotsi run` on LUOTSI_SMTP_PORT

Replies: 550 for any other recipient (so no relaying), 552 for mail over LUOTSI_SMTP_MAX_BYTES
(aiosmtpd enforces it during DATA), 451 when the message cannot be stored — the sender retries,
and the retry with the same Message-ID does not make a second ticket.
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
from bot.services import shifts
from integrations.email.intake import do_accept_mail

log = logging.getLogger("integrations.email")


class IntakeHandler:
    def __init__(self, factory: sessionmaker[DbSession], settings: Settings) -> None:
        self.factory = factory
        self.mailboxes = settings.mailbox_queues()
        self.hours = shifts.OpeningHours.parse(settings.opening_hours)
        self.home_area = settings.home_area
        self.reopen_days = settings.reopen_days

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.strip().lower() not in self.mailboxes:
            return "550 5.1.1 No such mailbox here (this server does not relay)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _store(self, raw: bytes, mailbox: str) -> str:
        with self.factory() as db:
            accepted = do_accept_mail(db, raw, mailbox=mailbox, queue=self.mailboxes[mailbox],
                                      now=datetime.now(timezone.utc), hours=self.hours,
                                      home_area=self.home_area, reopen_days=self.reopen_days)
        return accepted.ticket_id or "-"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        mailbox = envelope.rcpt_tos[0].strip().lower()
        try:
            ticket = await asyncio.get_running_loop().run_in_executor(None, self._store, raw, mailbox)
        except Exception as exc:
            log.warning("mail.deferred error=%s", type(exc).__name__)
            return "451 4.3.0 Could not store the message now; please try again later"
        return f"250 2.0.0 Kept as ticket {ticket}"


def make_controller(settings: Settings, factory: sessionmaker[DbSession]) -> Controller:
    return Controller(IntakeHandler(factory, settings), hostname=settings.smtp_host, port=settings.smtp_port,
                      data_size_limit=settings.smtp_max_bytes, decode_data=False,
                      server_hostname="luotsi.localhost")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url, busy_seconds=settings.db_busy_seconds)
    controller = make_controller(settings, make_sessionmaker(engine))
    controller.start()
    log.info("mail.listening port=%d mailboxes=%d", settings.smtp_port, len(settings.mailbox_queues()))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    engine.dispose()




if __name__ == "__main__":
    main()
