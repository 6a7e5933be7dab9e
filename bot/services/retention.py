"""Retention: personal data is kept only as long as its purpose needs (GDPR art. 5(1)(e)).

Each kind of data has its own period in the settings (`retention_*_days`; the README says why):
closed tickets (since closing), conversations without a ticket (since their last message), raw
inbound mail, files, phone calls' menu records, processed Telegram updates and audit events (by
age). Open tickets and their conversations are never purged. A purge deletes; Rasa forgets the
purged conversations after the commit (best effort), and the purge leaves one audit entry with
its counts. `luotsi purge` runs it by hand and `luotsi run` once a day, both through
`do_purge_once`: with several hubs on one PostgreSQL database, one of them purges at a time and
the daily run is decided inside that lock, so N processes purge once a day, not N times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, exists, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import (
    Attachment,
    AuditEvent,
    Conversation,
    MailMessage,
    PhoneCall,
    TelegramChat,
    TelegramUpdate,
    Ticket,
    TicketEvent,
)
from bot.services.jobs import hold_job
from bot.services.privacy import Forget, chunks, delete_conversation_data, do_audit, forget_all

log = logging.getLogger(__name__)
JOB = "retention.purge"  # the job's lock name and its audit action


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _purge_closed_tickets(session: Session, cutoff: datetime) -> dict[str, int]:
    """Closed tickets closed before `cutoff`, with their events and the raw mail and calls that
    belong to them. Their conversations then count as conversations without a ticket."""
    ids = set(session.scalars(select(Ticket.id).where(Ticket.status == "closed", Ticket.closed_at < cutoff)))
    counts = {"tickets": 0, "ticket_events": 0, "mail": 0, "phone_calls": 0}
    for part in chunks(ids):
        counts["ticket_events"] += _rowcount(session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(part))))
        counts["mail"] += _rowcount(session.execute(delete(MailMessage).where(MailMessage.ticket_id.in_(part))))
        counts["phone_calls"] += _rowcount(session.execute(delete(PhoneCall).where(PhoneCall.ticket_id.in_(part))))
        counts["tickets"] += _rowcount(session.execute(delete(Ticket).where(Ticket.id.in_(part))))
    return counts


def _purge_conversations(session: Session, cutoff: datetime) -> tuple[set[str], dict[str, int]]:
    """Conversations without a ticket whose last message is older than `cutoff`, with everything of
    theirs, and the Telegram chats behind them."""
    stale = select(Conversation.id, Conversation.channel, Conversation.external_id).where(
        Conversation.updated_at < cutoff, ~exists().where(Ticket.conversation_id == Conversation.id))
    rows = session.execute(stale).all()
    ids = {row.id for row in rows}
    chats = {int(row.external_id) for row in rows
             if row.channel == "telegram" and row.external_id.lstrip("-").isdigit()}
    counts = delete_conversation_data(session, ids)
    counts["conversations"] = 0
    for part in chunks(ids):
        counts["conversations"] += _rowcount(session.execute(delete(Conversation).where(Conversation.id.in_(part))))
    counts["telegram_chats"] = 0
    for chat_part in chunks(chats):
        counts["telegram_chats"] += _rowcount(session.execute(
            delete(TelegramChat).where(TelegramChat.chat_id.in_(chat_part))))
    return ids, counts


def _older(session: Session, statement: Any) -> int:
    return _rowcount(session.execute(statement))


def do_purge(session: Session, now: datetime, settings: Settings, *, forget: Forget | None = None) -> dict[str, int]:
    """Delete what is past its retention period, in one transaction with its audit entry; then
    Rasa forgets the purged conversations. Counts per kind (no personal data)."""
    def cutoff(days: int) -> datetime:
        return now - timedelta(days=days)

    counts: dict[str, int] = {}

    def add(more: dict[str, int]) -> None:
        for kind, n in more.items():
            counts[kind] = counts.get(kind, 0) + n

    add(_purge_closed_tickets(session, cutoff(settings.retention_ticket_days)))
    purged, by_conversation = _purge_conversations(session, cutoff(settings.retention_conversation_days))
    add(by_conversation)
    add({
        "mail": _older(session, delete(MailMessage).where(
            MailMessage.received_at < cutoff(settings.retention_mail_days))),
        "attachments": _older(session, delete(Attachment).where(
            Attachment.created_at < cutoff(settings.retention_attachment_days))),
        "phone_calls": _older(session, delete(PhoneCall).where(
            PhoneCall.updated_at < cutoff(settings.retention_call_days))),
        # only updates that are finished with: one still waiting is work in progress
        "telegram_updates": _older(session, delete(TelegramUpdate).where(
            TelegramUpdate.received_at < cutoff(settings.retention_telegram_days),
            TelegramUpdate.status.in_(("done", "failed")))),
        "audit_events": _older(session, delete(AuditEvent).where(
            AuditEvent.at < cutoff(settings.retention_audit_days))),
    })
    entry = do_audit(session, action=JOB, actor=None, key_kind=None, counts=dict(counts), now=now)
    session.commit()
    counts["rasa_forgotten"] = forget_all(forget, purged)
    if purged:
        entry.counts = dict(counts)
        session.commit()
    log.info("retention.purge %s", " ".join(f"{kind}={n}" for kind, n in sorted(counts.items())))
    return counts


def last_purge_at(session: Session) -> datetime | None:
    """When the last purge ran (its audit entry); None if never."""
    return session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == JOB))


def do_purge_once(engine: Engine, settings: Settings, *, now: datetime, forget: Forget | None = None,
                  every: timedelta | None = None) -> dict[str, int] | None:
    """`do_purge` in one process at a time across every hub on the database (an advisory lock on
    PostgreSQL). None when another process is purging, or — with `every` — when the last purge is
    less than `every` ago; that is checked inside the lock, so a purge that has just finished
    elsewhere is seen and not run again."""
    with hold_job(engine, JOB) as mine:
        if not mine:
            return None
        with Session(engine, expire_on_commit=False) as session:
            last = last_purge_at(session)
            if every is not None and last is not None and now - last < every:
                return None
            return do_purge(session, now, settings, forget=forget)
