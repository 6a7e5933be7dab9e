"""Outgoing mail: through LUOTSI_SMTP_RELAY (host:port) when set, else kept as .eml files in
var/outbox/ — so nothing is lost on a machine without a relay, and a person can send them on."""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from bot.config import VAR, Settings

log = logging.getLogger(__name__)
OUTBOX = VAR / "outbox"


class SendFailed(Exception):
    pass


def new_message(*, sender: str, to: str, subject: str, body: str, in_reply_to: str | None = None,
                references: tuple[str, ...] = (), auto: bool = False) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1] or "luotsi.localhost")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(dict.fromkeys((*references, in_reply_to)))
    if auto:
        # RFC 3834: an automatic reply, so other robots do not answer it
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(body)
    return msg


def send(settings: Settings, msg: EmailMessage, outbox: Path = OUTBOX) -> str:
    """Hand the message to the relay, or keep it in the outbox; returns where it went."""
    if settings.smtp_relay:
        host, _, port = settings.smtp_relay.rpartition(":")
        try:
            with smtplib.SMTP(host or settings.smtp_relay, int(port or 25), timeout=30) as client:
                client.send_message(msg)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            raise SendFailed(type(exc).__name__) from exc
        return "relay"
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(msg))
    return str(path)
