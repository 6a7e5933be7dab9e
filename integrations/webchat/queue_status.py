"""The web chat's queue status line: one board of places per change on the desk, shared by every
open stream of this hub (issue 18).

A claim, a hand-off or a transfer publishes `desk` (bot/services/events.py); every stream whose
ticket waits is woken by it. Reading each customer's place separately would cost a query per
stream per claim, so the first stream to ask after a change reads the whole board
(`queue_position.read_board`: a few queries, whatever the number of streams) and the others take
that one. The board is read again when the desk's generation moves or, as a safety net for changes
whose notification was lost (Redis away), once it is `MAX_AGE_SECONDS` old.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.services import queue_position, shifts
from bot.services.events import DESK, EventBus

MAX_AGE_SECONDS = 2.0


class QueueBoard:
    def __init__(self, factory: sessionmaker[Session], bus: EventBus, hours: shifts.OpeningHours) -> None:
        self.factory, self.bus, self.hours = factory, bus, hours
        self.reads = 0  # boards read from the database (the benchmark and the tests count them)
        self._board: queue_position.Board | None = None
        self._generation = -1
        self._read_at = 0.0
        self._lock: asyncio.Lock | None = None

    def _fresh(self) -> bool:
        return (self._board is not None and self._generation == self.bus.generation(DESK)
                and time.monotonic() - self._read_at < MAX_AGE_SECONDS)

    async def current(self) -> queue_position.Board:
        """The board as of the desk's latest change this hub has heard of; read once per change."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    generation = self.bus.generation(DESK)  # before reading: a change meanwhile reads again
                    self._board = await run_in_threadpool(self._read)
                    self._generation, self._read_at = generation, time.monotonic()
                    self.reads += 1
        assert self._board is not None
        return self._board

    def _read(self) -> queue_position.Board:
        with self.factory() as session:
            return queue_position.read_board(session, datetime.now(timezone.utc), self.hours, channels=("web",))

    async def status(self, conversation_id: str | None, language: str | None) -> dict[str, object]:
        """What the status line shows: `{"position": n, "text": …}`, or `{"position": null, "text": ""}`
        once the ticket no longer waits."""
        where = (await self.current()).of(conversation_id)
        if where is None:
            return {"position": None, "text": ""}
        return {"position": where.position, "text": queue_position.describe(where, language)}
