"""Outgoing mail: through LUOTSI_SMTP_RELAY (host:port) when set, else kept as .eml files in
var/outbox/ — so nothing is lost on a machine without a relay, and a person can send them on."""

from __future__ import annotations

import logging
import re
import smtplib
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from bot.config import VAR, Settings
from bot.errors import clean_text

log = logging.getLogger(__name__)
OUTBOX = VAR / "outbox"


class SendFailed(Exception):
    pass


_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def header_value(value: str) -> str:
    """One line, safe for a header: CR, LF and other control characters become a space (a stored
    subject can hold "\\r\\n" from an encoded word; the email package refuses it, and it must never
    start a header of its own), lone surrogates become U+FFFD."""
    return " ".join(_HEADER_BREAKS.sub(" ", clean_text(value)).split())


def new_message(*, sender: str, to: str, subject: str, body: str, in_reply_to: str | None = None,
                references: tuple[str, ...] = (), auto: bool = False) -> EmailMessage:
    """A plain-text mail. Every header value is made one clean line first, so no stored value can make
    building it fail or add a header."""
    sender, to, subject = header_value(sender), header_value(to), header_value(subject)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1] or "luotsi.localhost")
    if in_reply_to and header_value(in_reply_to):
        in_reply_to = header_value(in_reply_to)
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(dict.fromkeys((*(header_value(r) for r in references if header_value(r)),
                                                    in_reply_to)))
    if auto:
        # RFC 3834: an automatic reply, so other robots do not answer it
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(clean_text(body))
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
