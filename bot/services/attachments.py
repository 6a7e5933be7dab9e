"""Files customers send are kept with their message, so the adviser sees them on the ticket."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Adviser, Attachment, Message, Ticket, TicketEvent
from bot.services.tickets import TicketError

_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    data: bytes


def safe_filename(name: str | None, default: str = "file") -> str:
    """A name to show and to offer for download: no directories, no control characters, no
    leading dots, at most 120 characters (the extension kept)."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", base).strip(" ._") or default
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base


def check_content_type(value: str | None) -> str:
    value = (value or "").strip().lower()
    return value if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", value) else "application/octet-stream"


def attachments_of(session: Session, conversation_id: str) -> dict[int, list[Attachment]]:
    """The conversation's files by the id of the message they came with (no file data loaded)."""
    out: dict[int, list[Attachment]] = {}
    rows = session.execute(select(Attachment.id, Attachment.message_id, Attachment.filename,
                                  Attachment.content_type, Attachment.size)
                           .where(Attachment.conversation_id == conversation_id).order_by(Attachment.id))
    for row in rows:
        item = Attachment(id=row.id, message_id=row.message_id, filename=row.filename,
                          content_type=row.content_type, size=row.size)
        out.setdefault(row.message_id, []).append(item)
    return out


def do_keep_attachment(session: Session, message: Message, new: NewAttachment) -> Attachment:
    """Adds the file to the customer's message; the caller commits with the message."""
    row = Attachment(conversation_id=message.conversation_id, message_id=message.id,
                     filename=safe_filename(new.filename), content_type=check_content_type(new.content_type),
                     size=len(new.data), data=new.data, created_at=message.created_at)
    session.add(row)
    return row


def access_attachment_by_ticket(session: Session, ticket: Ticket, attachment_id: int, adviser: Adviser,
                                now: datetime, *, until: datetime | None = None) -> Attachment:
    """A file of the ticket's conversation, for an adviser who may see the ticket (the caller has
    passed `access_ticket_by_adviser`); with `until` (`transcript_until`), only a file that came
    before that moment. Every download is in the audit trail."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.conversation_id != ticket.conversation_id \
            or (until is not None and attachment.created_at > until):
        raise TicketError("not_found", "no such file on this ticket", status=404)
    session.add(TicketEvent(ticket_id=ticket.id, adviser_id=adviser.id, kind="file_opened",
                            data={"attachment_id": attachment.id}, at=now))
    session.commit()
    return attachment


def download_headers(attachment: Attachment) -> dict[str, str]:
    """Always a download, never rendered inline in the console's origin (a customer's HTML or SVG
    file must not run as our page)."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
            "Cache-Control": "no-store"}
