"""The data subject's rights (GDPR art. 15, 17, 20): find everything about one person, export it as
JSON and erase it, with an audit entry that records the act — never the data.

A person is found by one key: a conversation id (ours, or the web chat's own), an e-mail address
(ticket contact, mail sender, the e-mail channel's identity), a phone number (ticket contact,
caller, callback number, the phone channel's identity) or a Telegram user id (the chat id of a
private chat, Telegram's bookkeeping). Everything hangs off the conversations found this way:
their messages, files, tickets, raw mail and phone calls. Free text in someone else's
conversation that merely mentions the key is not searched.

Erasure deletes conversations, messages, files, raw mail, phone calls and Telegram records. A
ticket is kept for the desk's statistics with its personal fields emptied (contact, summary,
assessment, an employer's intake, the satisfaction comment — the score stays —, event details), and so is its conversation as an empty shell ("erased:<id>") that
the ticket points to. Rasa forgets the conversations after the commit (best effort), so no
database transaction waits for Rasa.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.models import (
    Adviser,
    Attachment,
    AuditEvent,
    Conversation,
    MailMessage,
    Message,
    PhoneCall,
    TelegramChat,
    TelegramUpdate,
    Ticket,
    TicketEvent,
    TicketNote,
)
from bot.services.callbacks import BadNumber, check_phone_number

log = logging.getLogger(__name__)
KEY_KINDS = ("conversation_id", "email", "phone", "telegram_user_id")
CHUNK = 500  # ids per IN (…): well under SQLite's and PostgreSQL's parameter limits
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
T = TypeVar("T")

Forget = Callable[[str], bool]


class PrivacyError(Exception):
    """The key cannot be used; `code` for the API, the message names the field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PersonKey:
    kind: str  # one of KEY_KINDS
    value: str  # normalised: e-mail in lower case, phone in E.164, Telegram id as digits


def check_person_key(given: dict[str, Any]) -> PersonKey:
    """Exactly one usable key out of `given` (absent keys are None), normalised."""
    present = [kind for kind in KEY_KINDS if given.get(kind) not in (None, "")]
    if len(present) != 1:
        got = ", ".join(present) if present else "none"
        raise PrivacyError("exactly_one_key", f"give exactly one of {', '.join(KEY_KINDS)} (got: {got})")
    kind = present[0]
    raw = given[kind]
    if kind == "email":
        value = str(raw).strip().lower()
        if not _EMAIL.fullmatch(value):
            raise PrivacyError("invalid_field", "email: not an e-mail address")
    elif kind == "phone":
        try:
            value = check_phone_number(str(raw))
        except BadNumber:
            raise PrivacyError("invalid_field", "phone: not a phone number") from None
    elif kind == "telegram_user_id":
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.lstrip("-").isdigit() or int(text) == 0:
            raise PrivacyError("invalid_field", "telegram_user_id: not a Telegram id")
        value = str(int(text))
    else:
        value = str(raw).strip()
        if not 1 <= len(value) <= 255:
            raise PrivacyError("invalid_field", "conversation_id: 1 to 255 characters")
    return PersonKey(kind, value)


@dataclass
class Person:
    """What one key finds: the conversations (everything else of theirs hangs off them) and the
    Telegram records, which live outside the conversations."""

    key: PersonKey
    conversation_ids: set[str] = field(default_factory=set)
    telegram_chat_ids: set[int] = field(default_factory=set)
    telegram_update_ids: set[int] = field(default_factory=set)


def chunks(ids: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    items = sorted(ids)  # type: ignore[type-var]
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "#%"


def _contact(name: str) -> ColumnElement[str]:
    """A field of a ticket's contact JSON as text (json_extract on SQLite, ->> on PostgreSQL)."""
    column: ColumnElement[str] = Ticket.__table__.c.contact[name].as_string()
    return column


def access_person_by_conversation_id(session: Session, conversation_id: str) -> set[str]:
    """Our conversation id, or the id the web chat chose (its channel identity)."""
    return set(session.scalars(select(Conversation.id).where(or_(
        Conversation.id == conversation_id,
        (Conversation.channel == "web") & (Conversation.external_id == conversation_id)))))


def access_person_by_email(session: Session, email: str) -> set[str]:
    """Mail threads the address started, mail it sent, tickets with it as the contact (or as the
    address a waiting web-chat or Telegram customer left for a notice)."""
    email = email.lower()
    found = set(session.scalars(select(Conversation.id).where(
        Conversation.channel == "email", func.lower(Conversation.external_id).like(_like_prefix(email), escape="\\"))))
    found |= set(session.scalars(select(MailMessage.conversation_id).where(func.lower(MailMessage.sender) == email)))
    found |= set(session.scalars(select(Ticket.conversation_id).where(or_(
        func.lower(_contact("email")) == email, func.lower(_contact("notify_email")) == email))))
    return found


def access_person_by_phone(session: Session, e164: str) -> set[str]:
    """Calls from the number, callbacks to it, tickets with it as the contact."""
    found = set(session.scalars(select(Conversation.id).where(Conversation.channel == "phone",
                                                              Conversation.external_id == e164)))
    found |= set(session.scalars(select(PhoneCall.conversation_id).where(
        or_(PhoneCall.caller == e164, PhoneCall.callback_number == e164))))
    found |= set(session.scalars(select(Ticket.conversation_id).where(_contact("phone") == e164)))
    return found


def access_person_by_telegram_user_id(session: Session, user_id: int) -> set[str]:
    """The private chat with the user (Telegram's chat id of a private chat is the user's id)."""
    return set(session.scalars(select(Conversation.id).where(Conversation.channel == "telegram",
                                                             Conversation.external_id == str(user_id))))


def _telegram_records(session: Session, person: Person, user_id: int | None) -> None:
    """Chats of the person's Telegram conversations and the updates that came from them; with a
    user id also updates sent by that user elsewhere that still hold their payload."""
    chats = {int(cid) for cid in session.scalars(select(Conversation.external_id).where(
        Conversation.id.in_(person.conversation_ids), Conversation.channel == "telegram"))
        if cid.lstrip("-").isdigit()} if person.conversation_ids else set()
    if user_id is not None:
        chats.add(user_id)
    person.telegram_chat_ids = set(session.scalars(select(TelegramChat.chat_id).where(
        TelegramChat.chat_id.in_(chats)))) if chats else set()
    updates = set(session.scalars(select(TelegramUpdate.update_id).where(TelegramUpdate.chat_id.in_(chats)))) \
        if chats else set()
    if user_id is not None:  # payloads are dropped once processed, so this scan stays small
        for update_id, payload in session.execute(select(TelegramUpdate.update_id, TelegramUpdate.payload)
                                                  .where(TelegramUpdate.payload.is_not(None))):
            if _sender_of(payload) == user_id:
                updates.add(update_id)
    person.telegram_update_ids = updates


def _sender_of(payload: Any) -> int | None:
    if not isinstance(payload, dict):
        return None
    for value in payload.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            sender = value["from"].get("id")
            return sender if isinstance(sender, int) else None
    return None


def access_person_by_key(session: Session, key: PersonKey) -> Person:
    """Everything one key finds (see the module's docstring)."""
    person = Person(key)
    user_id = int(key.value) if key.kind == "telegram_user_id" else None
    if key.kind == "conversation_id":
        person.conversation_ids = access_person_by_conversation_id(session, key.value)
    elif key.kind == "email":
        person.conversation_ids = access_person_by_email(session, key.value)
    elif key.kind == "phone":
        person.conversation_ids = access_person_by_phone(session, key.value)
    elif user_id is not None:
        person.conversation_ids = access_person_by_telegram_user_id(session, user_id)
    _telegram_records(session, person, user_id)
    return person


# --- export (art. 15 and 20) ----------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _rows(session: Session, model: Any, column: Any, ids: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for part in chunks(ids):
        out.extend(session.scalars(select(model).where(column.in_(part))))
    return out


def mail_text(raw: bytes) -> str:
    """The readable text of a raw mail (plain text preferred); empty when it cannot be decoded."""
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        body = parsed.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        return str(body.get_content()) if body is not None else ""
    except Exception:  # a broken mail still exports its metadata
        return ""


def export_person(session: Session, person: Person, *, now: datetime) -> dict[str, Any]:
    """Everything found, as plain JSON values (machine-readable: art. 20)."""
    ids = person.conversation_ids
    conversations = sorted(_rows(session, Conversation, Conversation.id, ids), key=lambda c: c.created_at)
    messages = sorted(_rows(session, Message, Message.conversation_id, ids), key=lambda m: m.id)
    tickets = sorted(_rows(session, Ticket, Ticket.conversation_id, ids), key=lambda t: t.created_at)
    events = sorted(_rows(session, TicketEvent, TicketEvent.ticket_id, [t.id for t in tickets]), key=lambda e: e.id)
    notes = sorted(_rows(session, TicketNote, TicketNote.ticket_id, [t.id for t in tickets]), key=lambda n: n.id)
    mails = sorted(_rows(session, MailMessage, MailMessage.conversation_id, ids), key=lambda m: m.id)
    calls = sorted(_rows(session, PhoneCall, PhoneCall.conversation_id, ids), key=lambda c: c.created_at)
    files: list[Any] = []
    for part in chunks(ids):
        files.extend(session.execute(select(Attachment.id, Attachment.conversation_id, Attachment.message_id,
                                            Attachment.filename, Attachment.content_type, Attachment.size,
                                            Attachment.created_at).where(Attachment.conversation_id.in_(part))))
    chats = _rows(session, TelegramChat, TelegramChat.chat_id, person.telegram_chat_ids)
    updates = sorted(_rows(session, TelegramUpdate, TelegramUpdate.update_id, person.telegram_update_ids),
                     key=lambda u: u.update_id)
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        by_conversation.setdefault(m.conversation_id, []).append({
            "id": m.id, "sender": m.sender, "text": m.text, "language": m.language, "translation": m.translation,
            "translation_language": m.translation_language, "buttons": m.buttons, "status": m.status,
            "created_at": _iso(m.created_at)})
    by_ticket: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_ticket.setdefault(e.ticket_id, []).append({"kind": e.kind, "at": _iso(e.at), "data": e.data})
    notes_by_ticket: dict[str, list[dict[str, Any]]] = {}
    for n in notes:  # advisers' internal notes are about the person too (art. 15)
        notes_by_ticket.setdefault(n.ticket_id, []).append({"text": n.text, "created_at": _iso(n.created_at)})
    return {
        "format": "luotsi.person-export/1",
        "key": {person.key.kind: person.key.value},
        "exported_at": _iso(now),
        "conversations": [{
            "id": c.id, "channel": c.channel, "external_id": c.external_id, "language": c.language,
            "locale": c.locale, "guidance": c.guidance, "assessment": c.assessment,
            "service_needs": c.service_needs, "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
            "messages": by_conversation.get(c.id, [])} for c in conversations],
        "tickets": [{
            "id": t.id, "conversation_id": t.conversation_id, "channel": t.channel, "queue": t.queue,
            "status": t.status, "language": t.language, "city_on_shift": t.city_on_shift, "reason": t.reason,
            "topic": t.topic, "summary": t.summary, "contact": t.contact, "consent": t.consent,
            "assessment": t.assessment, "intake": t.intake, "outcome": t.outcome, "created_at": _iso(t.created_at),
            "claimed_at": _iso(t.claimed_at), "closed_at": _iso(t.closed_at), "due_at": _iso(t.due_at),
            "satisfaction": {"asked_at": _iso(t.csat_asked_at), "score": t.csat_score, "comment": t.csat_comment,
                             "answered_at": _iso(t.csat_answered_at)},
            "events": by_ticket.get(t.id, []), "notes": notes_by_ticket.get(t.id, [])} for t in tickets],
        "mail": [{
            "id": m.id, "message_id": m.message_id, "mailbox": m.mailbox, "sender": m.sender, "subject": m.subject,
            "conversation_id": m.conversation_id, "ticket_id": m.ticket_id, "received_at": _iso(m.received_at),
            "size": len(m.raw), "text": mail_text(m.raw)} for m in mails],
        "attachments": [{
            "id": f.id, "conversation_id": f.conversation_id, "message_id": f.message_id, "filename": f.filename,
            "content_type": f.content_type, "size": f.size, "created_at": _iso(f.created_at)}
            for f in sorted(files, key=lambda f: f.id)],
        "phone_calls": [{
            "call_sid": c.call_sid, "conversation_id": c.conversation_id, "caller": c.caller,
            "callback_number": c.callback_number, "language": c.language, "role": c.role, "topic": c.topic,
            "step": c.step, "ticket_id": c.ticket_id, "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at)} for c in calls],
        "telegram": {
            "chats": [{"chat_id": c.chat_id, "chat_type": c.chat_type, "blocked_at": _iso(c.blocked_at)}
                      for c in chats],
            "updates": [{"update_id": u.update_id, "chat_id": u.chat_id, "status": u.status, "payload": u.payload,
                         "received_at": _iso(u.received_at), "processed_at": _iso(u.processed_at)}
                        for u in updates]},
    }


def export_counts(data: dict[str, Any]) -> dict[str, Any]:
    return {"conversations": len(data["conversations"]),
            "messages": sum(len(c["messages"]) for c in data["conversations"]),
            "tickets": len(data["tickets"]), "mail": len(data["mail"]), "attachments": len(data["attachments"]),
            "phone_calls": len(data["phone_calls"]), "telegram_chats": len(data["telegram"]["chats"]),
            "telegram_updates": len(data["telegram"]["updates"])}


def do_audit(session: Session, *, action: str, actor: Adviser | None, key_kind: str | None,
             counts: dict[str, Any], now: datetime) -> AuditEvent:
    """One audit entry (the caller commits): the act and its size, never the key or the data."""
    entry = AuditEvent(action=action, actor_id=actor.id if actor else None,
                       actor=actor.username if actor else "retention", key_kind=key_kind, counts=counts, at=now)
    session.add(entry)
    return entry


def do_export_person(session: Session, key: PersonKey, *, actor: Adviser | None, now: datetime) -> dict[str, Any]:
    """The person's data as JSON; the export itself is audited (who, when, which kind of key, counts)."""
    data = export_person(session, access_person_by_key(session, key), now=now)
    do_audit(session, action="privacy.export", actor=actor, key_kind=key.kind, counts=export_counts(data), now=now)
    session.commit()
    log.info("privacy.export key_kind=%s conversations=%d", key.kind, len(data["conversations"]))
    return data


# --- erasure (art. 17) ------------------------------------------------------------------------------

def _delete(session: Session, model: Any, column: Any, ids: Iterable[Any]) -> int:
    removed = 0
    for part in chunks(ids):
        result = session.execute(delete(model).where(column.in_(part)).execution_options(synchronize_session=False))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def delete_conversation_data(session: Session, conversation_ids: Sequence[str] | set[str]) -> dict[str, int]:
    """Delete what hangs off the conversations except their tickets: files, raw mail, phone calls,
    messages (the caller decides about the conversations and tickets themselves)."""
    return {
        "attachments": _delete(session, Attachment, Attachment.conversation_id, conversation_ids),
        "mail": _delete(session, MailMessage, MailMessage.conversation_id, conversation_ids),
        "phone_calls": _delete(session, PhoneCall, PhoneCall.conversation_id, conversation_ids),
        "messages": _delete(session, Message, Message.conversation_id, conversation_ids),
    }


def _erase_tickets(session: Session, conversation_ids: set[str]) -> tuple[int, int, set[str]]:
    """Empty the tickets' personal fields and their events' details; (tickets, events, conversations
    that keep a ticket)."""
    tickets: list[tuple[str, str]] = []
    for part in chunks(conversation_ids):
        tickets.extend((row.id, row.conversation_id) for row in
                       session.execute(select(Ticket.id, Ticket.conversation_id).where(Ticket.conversation_id.in_(part))))
    ticket_ids = {t for t, _ in tickets}
    events = 0
    for part in chunks(ticket_ids):
        session.execute(update(Ticket).where(Ticket.id.in_(part))
                        .values(contact=None, summary=None, assessment=None, intake=None, csat_comment=None)
                        .execution_options(synchronize_session=False))
        result = session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(part)).values(data=None)
                                 .execution_options(synchronize_session=False))
        events += int(getattr(result, "rowcount", 0) or 0)
        session.execute(delete(TicketNote).where(TicketNote.ticket_id.in_(part))
                        .execution_options(synchronize_session=False))
    return len(ticket_ids), events, {c for _, c in tickets}


def _outbox_files(outbox: Path, addresses: set[str]) -> list[Path]:
    """Outgoing mail kept as files (no relay configured) addressed to one of `addresses`."""
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
        try:
            with path.open("rb") as fh:
                headers = HeaderParser().parsestr(fh.read(64 * 1024).decode("utf-8", "replace"), headersonly=True)
        except OSError:
            continue
        recipients = {addr.lower() for _, addr in getaddresses(headers.get_all("To", []) + headers.get_all("Cc", []))}
        if recipients & addresses:
            found.append(path)
    return found


def _addresses(session: Session, person: Person) -> set[str]:
    """The person's e-mail addresses: the key, mail senders and ticket contacts of their conversations."""
    found = {person.key.value} if person.key.kind == "email" else set()
    for part in chunks(person.conversation_ids):
        found |= {s.lower() for s in session.scalars(select(MailMessage.sender).where(
            MailMessage.conversation_id.in_(part))) if s}
        found |= {str(c.get(key)).lower() for c in session.scalars(select(Ticket.contact).where(
            Ticket.conversation_id.in_(part))) if isinstance(c, dict) for key in ("email", "notify_email") if c.get(key)}
    return found


def forget_all(forget: Forget | None, conversation_ids: Iterable[str]) -> int:
    """Ask Rasa to forget each conversation; stops at the first failure (Rasa down: one time-out,
    not one per conversation). How many were forgotten."""
    done = 0
    for conversation_id in sorted(conversation_ids) if forget else []:
        if not forget(conversation_id):  # type: ignore[misc]
            break
        done += 1
    return done


def do_erase_person(session: Session, key: PersonKey, *, actor: Adviser | None, now: datetime,
                    forget: Forget | None = None, outbox: Path | None = None) -> dict[str, Any]:
    """Erase everything one key finds (see the module's docstring) in one transaction with its audit
    entry; then Rasa forgets the conversations and outgoing mail files are removed. The counts, with
    `rasa_forgotten` False when Rasa could not be reached (the entry says so too)."""
    person = access_person_by_key(session, key)
    ids = person.conversation_ids
    addresses = _addresses(session, person) if outbox is not None else set()
    counts: dict[str, Any] = delete_conversation_data(session, ids)
    tickets, events, kept = _erase_tickets(session, ids)
    for part in chunks(kept):  # an empty shell the anonymised tickets still point to
        session.execute(update(Conversation).where(Conversation.id.in_(part))
                        .values(external_id="erased:" + Conversation.id, locale=None, guidance=None,
                                assessment=None, service_needs=None, handler="bot")
                        .execution_options(synchronize_session=False))
    counts.update(
        conversations=_delete(session, Conversation, Conversation.id, ids - kept),
        conversations_anonymised=len(kept), tickets_anonymised=tickets, ticket_events_cleared=events,
        telegram_updates=_delete(session, TelegramUpdate, TelegramUpdate.update_id, person.telegram_update_ids),
        telegram_chats=_delete(session, TelegramChat, TelegramChat.chat_id, person.telegram_chat_ids),
    )
    entry = do_audit(session, action="privacy.erase", actor=actor, key_kind=key.kind, counts=counts, now=now)
    session.commit()
    session.expunge_all()  # nothing stale of the erased rows stays in this session
    files = _outbox_files(outbox, addresses) if outbox is not None else []
    for path in files:
        path.unlink(missing_ok=True)
    forgotten = forget_all(forget, ids)
    counts.update(outbox_files=len(files), rasa_forgotten=forget is not None and forgotten == len(ids))
    session.execute(update(AuditEvent).where(AuditEvent.id == entry.id).values(counts=counts))
    session.commit()
    log.info("privacy.erase key_kind=%s conversations=%d rasa_forgotten=%s", key.kind, len(ids),
             counts["rasa_forgotten"])
    return counts
