"""Work that several processes may reach for at once, done by one of them at a time.

With more than one hub or Telegram worker on one PostgreSQL database, background work must be
claimed (STYLE 16). Two tools, both PostgreSQL advisory locks:

- `Claims`: a worker's claims on keys (a Telegram chat), held on one connection of its own in
  autocommit — no transaction stays open, and nothing is held on the pooled connections that
  talk to the Bot API's results. A worker that dies releases its claims with its connection:
  at once when its process is killed (the kernel closes the socket), within about
  `KEEPALIVE_SECONDS` when its machine vanishes (the server's TCP keepalive, set per session).
  A live worker's claim never expires under it, so no second worker starts on a chat while
  the first is still sending to it — the failure a time-limited lease has.
- `hold_job`: a scheduled job (the daily retention purge) runs in one process at a time; the
  others are told it is taken and skip it.

On SQLite there is one process (its single writer serialises everything), so claims are kept in
this process's memory: two workers of one process still never hold one key together.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# tcp_keepalives_idle + interval × count: how long the server takes to notice a vanished machine
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
KEEPALIVE_SECONDS = KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT

_TRY = text("SELECT pg_try_advisory_lock(:space, :key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:space, :key)")

# SQLite: the keys held in this process, per (database, namespace)
_local_lock = threading.Lock()
_local_held: dict[tuple[str, str], set[str]] = {}


def _int4(name: str) -> int:
    """A stable 32-bit signed number for a name (advisory locks take two int4 keys). Two names that
    share one only share a lock: their work is serialised, never done twice."""
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class Claims:
    """The keys of one namespace this worker holds. Thread-safe: the worker's tasks take and
    release from threads. `take` never waits: a key another process holds is skipped."""

    def __init__(self, engine: Engine, namespace: str) -> None:
        self.engine = engine
        self.namespace = namespace
        self._space = _int4(namespace)
        self._postgres = engine.dialect.name == "postgresql"
        self._local_key = (engine.url.render_as_string(hide_password=True), namespace)
        self._mutex = threading.Lock()
        self._held: Counter[str] = Counter()
        self._conn: Connection | None = None

    # --- PostgreSQL connection ------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # bounds how long a vanished machine keeps its claims (ignored on a Unix socket)
            for name, seconds in (("idle", KEEPALIVE_IDLE), ("interval", KEEPALIVE_INTERVAL),
                                  ("count", KEEPALIVE_COUNT)):
                conn.execute(text(f"SET tcp_keepalives_{name} = {int(seconds)}"))
            self._conn = conn
        return self._conn

    def _lost(self, exc: BaseException) -> None:
        """The lock connection broke: every claim on it is gone with it."""
        log.warning("claims.connection_lost namespace=%s held=%d error=%s", self.namespace,
                    sum(self._held.values()), type(exc).__name__)
        self._held.clear()
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already unusable: it only has to go
                self._conn.invalidate()
                self._conn.close()
        self._conn = None

    # --- taking and releasing ---------------------------------------------------------------

    def take(self, keys: Iterable[str], limit: int | None = None) -> list[str]:
        """Try each key in order; the ones now held by this worker (at most `limit`). A key this
        worker already holds is not taken twice."""
        taken: list[str] = []
        with self._mutex:
            for key in dict.fromkeys(keys):
                if limit is not None and len(taken) >= limit:
                    break
                if self._held[key]:
                    continue
                try:
                    got = self._try(key)
                except DBAPIError as exc:
                    self._lost(exc)
                    return []
                if got:
                    self._held[key] += 1
                    taken.append(key)
        return taken

    def _try(self, key: str) -> bool:
        if not self._postgres:
            with _local_lock:
                held = _local_held.setdefault(self._local_key, set())
                if key in held:
                    return False
                held.add(key)
                return True
        return bool(self._connection().scalar(_TRY, {"space": self._space, "key": _int4(key)}))

    def release(self, keys: Iterable[str]) -> None:
        with self._mutex:
            for key in keys:
                if not self._held[key]:
                    continue
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]
                try:
                    self._untry(key)
                except DBAPIError as exc:  # the connection went, and the claim with it
                    self._lost(exc)
                    return

    def _untry(self, key: str) -> None:
        if not self._postgres:
            with _local_lock:
                _local_held.get(self._local_key, set()).discard(key)
            return
        self._connection().scalar(_UNLOCK, {"space": self._space, "key": _int4(key)})

    def holds(self, key: str) -> bool:
        with self._mutex:
            return bool(self._held[key])

    def close(self) -> None:
        """Release everything and give the connection back."""
        with self._mutex:
            keys = list(self._held)
        self.release(keys)
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


@contextmanager
def hold_job(engine: Engine, job: str) -> Iterator[bool]:
    """`with hold_job(engine, "retention.purge") as mine:` — `mine` is True in the one process
    (cluster-wide) that now runs `job`, False where another already does; released at the end."""
    claims = Claims(engine, "jobs")
    try:
        mine = bool(claims.take([job]))
        if not mine:
            log.info("job.skipped job=%s reason=running_elsewhere", job)
        yield mine
    finally:
        claims.close()
