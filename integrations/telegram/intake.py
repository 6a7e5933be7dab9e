"""Updates in: each one committed before Telegram is told we have it, and processed once.

Long polling acknowledges an update by asking for the next offset, a webhook by answering 200;
both happen only after `do_store_updates` has committed. The update id is the primary key, so a
second delivery of the same update (a webhook retry, a poll repeated after a crash) is a no-op.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import TelegramUpdate

MAX_ATTEMPTS = 3
# C0/C1 control characters but tab, newline and carriage return, and lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
UPDATE_KINDS = ("message", "edited_message", "callback_query", "my_chat_member", "channel_post")


class BadUpdate(ValueError):
    """Not a Telegram update (no integer update_id)."""


def check_secret_token(sent: str | None, expected: str | None) -> bool:
    """Telegram's X-Telegram-Bot-Api-Secret-Token header, compared in constant time."""
    return bool(expected) and sent is not None and hmac.compare_digest(sent.encode(), str(expected).encode())


def check_update(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int) \
            or isinstance(payload.get("update_id"), bool):
        raise BadUpdate("an update is a JSON object with an integer update_id")
    return payload


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat an update belongs to: updates of one chat are processed in order."""
    for kind in UPDATE_KINDS:
        body = payload.get(kind)
        if not isinstance(body, dict):
            continue
        if kind == "callback_query":
            body = body.get("message") or {}
        chat = body.get("chat") if isinstance(body, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    return None


def clean_payload(value: Any) -> Any:
    """The update with every string made storable: JSON can carry a lone surrogate ("\\udc00") or NUL,
    which fail at the commit (PostgreSQL refuses NUL), so the message would fail on every attempt and be
    set aside unanswered. Each becomes U+FFFD, which keeps the UTF-16 offsets of Telegram's entities."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean_payload(k): clean_payload(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_payload(v) for v in value]
    return value


def do_store_updates(session: Session, payloads: Iterable[dict[str, Any]], now: datetime) -> int:
    """Keep the updates not seen before, their text made storable; returns how many were new. Commits."""
    batch = {p["update_id"]: clean_payload(p) for p in payloads}
    if not batch:
        return 0
    seen = set(session.scalars(select(TelegramUpdate.update_id).where(TelegramUpdate.update_id.in_(batch))))
    new = [TelegramUpdate(update_id=uid, chat_id=chat_of(p), status="received", payload=p, attempts=0,
                          received_at=now) for uid, p in batch.items() if uid not in seen]
    if not new:
        return 0
    session.add_all(new)
    try:
        session.commit()
        return len(new)
    except IntegrityError:  # a parallel delivery of one of them committed first: one at a time
        session.rollback()
    count = 0
    for row in new:
        session.add(TelegramUpdate(update_id=row.update_id, chat_id=row.chat_id, status="received",
                                   payload=row.payload, attempts=0, received_at=now))
        try:
            session.commit()
            count += 1
        except IntegrityError:
            session.rollback()
    return count


def do_claim_updates(session: Session, limit: int = 100) -> list[TelegramUpdate]:
    """The oldest waiting updates, each moved to "processing" by a conditional UPDATE, so two
    workers never take the same one."""
    rows = list(session.scalars(select(TelegramUpdate).where(TelegramUpdate.status == "received")
                                .order_by(TelegramUpdate.update_id).limit(limit)))
    claimed = []
    for row in rows:
        result = session.execute(update(TelegramUpdate)
                                 .where(TelegramUpdate.update_id == row.update_id,
                                        TelegramUpdate.status == "received")
                                 .values(status="processing", attempts=TelegramUpdate.attempts + 1))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row)
    session.commit()
    for row in claimed:
        session.refresh(row)
    return claimed


def do_finish_update(session: Session, update_id: int, *, ok: bool, now: datetime) -> str:
    """Done: the payload goes (the message is kept in the conversation). Failed: back to the queue,
    or set aside as "failed" after MAX_ATTEMPTS, payload kept for whoever looks into it."""
    row = session.get(TelegramUpdate, update_id)
    if row is None:
        return "missing"
    if ok:
        row.status, row.payload, row.processed_at = "done", None, now
    else:
        row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "received"
    session.commit()
    return row.status


def do_requeue_interrupted(session: Session) -> int:
    """After a crash: updates left "processing" go back to the queue (at-least-once from here)."""
    result = session.execute(update(TelegramUpdate).where(TelegramUpdate.status == "processing")
                             .values(status="received"))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
