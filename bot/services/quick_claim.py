"""Claim-next on PostgreSQL in one statement: one round trip, one implicit transaction.

The advisory's busiest write is "give me the next ticket". `tickets.do_claim_next` does it in four
statements (sign-in, what the city staffs and speaks, the claim, its audit event) plus the
transcript; on PostgreSQL the same rules fit one statement with data-modifying CTEs:

    me        the adviser behind the bearer token (valid, not expired, active), with their
              languages and the languages anyone active in their city speaks
    pick      the oldest ticket of the highest priority the adviser may take — waiting, in a queue
              and channel their city staffs now (a shift without a channel opens every channel),
              in a language they serve or one that goes to interpreter mode — their own languages
              first within a priority; FOR UPDATE SKIP LOCKED, so claimers skip each other. Read
              in the order of the partial index ix_ticket_waiting: the first row that qualifies
              (and, when it is not in one of their languages, the first that is at its priority),
              not a sort of the whole queue
    claimed   the UPDATE, guarded by the status and the held-ticket limit; `needs_interpreter`
              from the ticket's language, as `tickets._claim_update`
    recorded  the `claimed` audit event
    result    the claimed ticket with its transcript and files' descriptions (never their data)

Those rules are `tickets.do_claim_next`'s, written once more in SQL: tests/test_quick_claim.py
runs both on the same random desks and requires the same ticket. This statement only ever
*succeeds*: when it claims nothing — a bad token, a queue not on the shift, the held-ticket
limit, a supervisor without a shift (who claims from every queue), every candidate locked by a
colleague at that instant, or simply an empty queue — the caller runs `do_claim_next`, which
tells those cases apart (401, 403, 409, retry, null). So the slow path stays the single
definition of every answer except "here is your ticket".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Column, String, Table, TextualSelect, bindparam, column, make_url, text
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from bot.models import Attachment, Message, Ticket
from bot.models.base import UTCDateTime
from bot.services import events, metrics
from bot.services.auth import token_digest

log = logging.getLogger(__name__)
_TICKET = cast(Table, Ticket.__table__)
# the transcript's columns, prefixed so they cannot collide with the ticket's
_MESSAGE_COLUMNS = ("id", "sender", "text", "language", "translation", "translation_language", "status", "created_at")
_FILE_COLUMNS = ("id", "filename", "content_type", "size")


@dataclass(frozen=True)
class QuickClaim:
    """What the statement returns: the ticket as it is now, who holds it, the transcript rows."""

    ticket: dict[str, Any]  # every column of `ticket`
    holder: str  # the claiming adviser's username
    working_language: str
    messages: list[dict[str, Any]]  # message columns, with "files": [attachment columns]


@lru_cache(maxsize=1)
def _statement() -> TextualSelect:
    ticket_columns = ", ".join(f"c.{c.name}" for c in _TICKET.c)
    message_columns = ", ".join(f"m.{name} AS m_{name}" for name in _MESSAGE_COLUMNS)
    file_columns = ", ".join(f"f.{name} AS f_{name}" for name in _FILE_COLUMNS)
    # waiting, in the queue asked for (if one was), in a queue and channel the city staffs now
    waiting = """t.status = 'queued'
           AND (CAST(:queue AS varchar) IS NULL OR t.queue = CAST(:queue AS varchar))
           AND EXISTS (SELECT 1 FROM shift s
                       WHERE s.city = me.city AND s.starts_at <= :now AND s.ends_at > :now
                         AND s.queue = t.queue AND (s.channel IS NULL OR s.channel = t.channel))"""
    # built from the models' column names and the fixed text above; every value is a bound parameter
    sql = f"""
WITH me AS (
    SELECT a.id, a.username, a.city, a.max_open_tickets, a.working_language,
           array_remove(string_to_array(a.languages, ','), '') AS langs,
           ARRAY(SELECT DISTINCT unnest(array_remove(string_to_array(o.languages, ','), ''))
                 FROM adviser o WHERE o.city = a.city AND o.active) AS speakers
    FROM auth_token k JOIN adviser a ON a.id = k.adviser_id
    WHERE k.token_hash = :token_hash AND k.kind = 'bearer' AND k.expires_at > :now AND a.active
),
first_waiting AS (  -- the first ticket the adviser may take, in claim order (ix_ticket_waiting)
    SELECT t.id, t.priority, coalesce(t.language = ANY(me.langs), false) AS speaks FROM ticket t, me
    WHERE {waiting}
      AND (t.language = ANY(me.langs) OR t.needs_interpreter OR t.language IS NULL OR t.language = 'und'
           OR t.language <> ALL(me.speakers || me.langs))
    ORDER BY t.priority DESC, t.created_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED
),
first_spoken AS (  -- unless it is in a language they serve in: the first such at its priority
    SELECT t.id FROM ticket t, me, first_waiting w
    WHERE NOT w.speaks AND t.priority = w.priority AND {waiting} AND t.language = ANY(me.langs)
    ORDER BY t.created_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED
),
pick AS (
    SELECT coalesce((SELECT id FROM first_spoken), (SELECT id FROM first_waiting)) AS id
),
claimed AS (
    UPDATE ticket SET status = 'claimed', assigned_to = me.id, claimed_at = :now,
        needs_interpreter = CASE WHEN ticket.language IS NOT NULL AND ticket.language <> 'und'
                                      AND NOT (ticket.language = ANY(me.langs))
                                 THEN true ELSE ticket.needs_interpreter END
    FROM me, pick
    WHERE ticket.id = pick.id AND ticket.status = 'queued'
      AND (SELECT count(*) FROM ticket held
           WHERE held.assigned_to = me.id AND held.status = 'claimed') < me.max_open_tickets
    RETURNING ticket.*
),
recorded AS (
    INSERT INTO ticket_event (ticket_id, adviser_id, kind, at)
    SELECT claimed.id, claimed.assigned_to, 'claimed', :now FROM claimed
)
SELECT {ticket_columns}, me.username AS holder_username, me.working_language AS holder_working_language,
       {message_columns}, {file_columns}
FROM claimed c CROSS JOIN me
LEFT JOIN message m ON m.conversation_id = c.conversation_id
LEFT JOIN attachment f ON f.message_id = m.id
ORDER BY m.id, f.id
"""  # noqa: S608
    message_table, file_table = cast(Table, Message.__table__), cast(Table, Attachment.__table__)
    typed: list[Column[Any] | Any] = [*_TICKET.c, column("holder_username", String),
                                      column("holder_working_language", String)]
    typed += [column(f"m_{name}", message_table.c[name].type) for name in _MESSAGE_COLUMNS]
    typed += [column(f"f_{name}", file_table.c[name].type) for name in _FILE_COLUMNS]
    return (text(sql)
            .bindparams(bindparam("now", type_=UTCDateTime()), bindparam("queue", type_=String),
                        bindparam("token_hash", type_=String))
            .columns(*typed))


class QuickClaims:
    """The one-statement claim on the hub's event loop: psycopg's asyncio driver with a small pool
    of its own (psycopg_pool), each connection in autocommit — the statement is its own
    transaction, one round trip, no worker thread, no ORM. Opened in the app's lifespan on
    PostgreSQL (`open`), closed with it.

    Anything between the hub and the database going wrong (no connection within a second, a
    connection lost) answers None, like an empty queue: the caller's full path then either claims
    or answers 503 as every other route does. Never half a claim: the statement is atomic."""

    def __init__(self, database_url: str, publisher: events.Publisher, *, size: int = 4,
                 wait_seconds: float = 1.0) -> None:
        url = make_url(database_url)
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._publisher = publisher
        self._size = size
        self._wait = wait_seconds
        self._pool: AsyncConnectionPool[AsyncConnection[tuple[Any, ...]]] | None = None
        statement = _statement().compile(dialect=postgresql_psycopg.dialect())  # type: ignore[no-untyped-call]
        self._sql = str(statement)
        self._columns = [c.key for c in _statement().selected_columns]

    async def open(self) -> None:
        """Start connecting in the background (the hub starts even while PostgreSQL is away)."""
        self._pool = AsyncConnectionPool(self._conninfo, min_size=1, max_size=self._size, open=False,
                                         kwargs={"autocommit": True}, timeout=self._wait, name="quick-claims")
        await self._pool.open(wait=False)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def claim_next(self, token: str, now: datetime, queue: str | None = None) -> QuickClaim | None:
        """Claim the adviser's next ticket in one statement; None when it claimed nothing (then
        `tickets.do_claim_next` says why, or claims after all)."""
        if self._pool is None:
            return None
        params = {"token_hash": token_digest(token), "now": now, "queue": queue}
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(self._sql, params)
                rows = await cursor.fetchall()
        except (PoolTimeout, psycopg.OperationalError) as exc:
            log.warning("quick_claim.unavailable error=%s", type(exc).__name__)
            metrics.count_quick_claim("unavailable")
            return None
        if not rows:
            metrics.count_quick_claim("nothing")
            return None
        claimed = _claimed(self._columns, rows)
        metrics.count_quick_claim("claimed")
        metrics.observe_claim(claimed.ticket["queue"], claimed.ticket["created_at"], now)
        try:
            self._publisher.notify(frozenset({events.DESK}))  # committed: the consoles may re-read
        except Exception as exc:  # a live update is never worth failing a committed claim
            log.warning("events.publish_failed error=%s", type(exc).__name__)
        return claimed


def _claimed(columns: list[str], rows: list[tuple[Any, ...]]) -> QuickClaim:
    """The statement's rows (the ticket on each, one per message and file) as one QuickClaim."""
    first = dict(zip(columns, rows[0], strict=True))
    ticket = {c.name: first[c.name] for c in _TICKET.c}
    messages: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        message_id = values["m_id"]
        if message_id is None:
            continue  # a ticket without messages: one row, the message columns empty
        message = messages.get(message_id)
        if message is None:
            message = messages[message_id] = {name: values[f"m_{name}"] for name in _MESSAGE_COLUMNS}
            message["files"] = []
        if values["f_id"] is not None:
            message["files"].append({name: values[f"f_{name}"] for name in _FILE_COLUMNS})
    return QuickClaim(ticket=ticket, holder=first["holder_username"],
                      working_language=first["holder_working_language"], messages=list(messages.values()))
