"""Live events: *that* something changed, for a key — never what changed.

A key is `conversation:<id>` (a message for that conversation was stored or changed) or `desk`
(tickets changed). Nothing else travels: no message text, no contact, no name. The database stays
the source of truth and whoever is woken re-reads it, so a lost event can only delay an update,
never lose one (listeners keep a slow safety poll).

Publishing happens in one place: SQLAlchemy session events on a sessionmaker
(`install_change_events`). `after_flush` notes the keys of new or changed rows, `after_commit`
publishes them — after the data is visible to every reader — and `after_rollback` forgets them.
Commits happen on whatever thread holds the session (AnyIO worker threads in the hub, the mail
intake's executor, the Telegram worker's loop), so the hook itself does no I/O: it hands the keys on
and returns.

- `EventBus` (no `LUOTSI_REDIS_URL`): one process. `notify` hands the keys to the event loop that
  owns the waiters with `loop.call_soon_threadsafe`; the loop wakes them. Waiters are plain
  `asyncio.Event`s, only ever touched on that loop.
- `RedisEventBus`: the same, plus a `RedisPublisher` — one daemon thread with a synchronous Redis
  client fed by a queue — that PUBLISHes every key on `luotsi:<db>:<key>`, and one asyncio task
  that PSUBSCRIBEs `luotsi:<db>:*` and wakes this process's waiters for keys other processes
  published. A commit never waits for Redis, and a process without an event loop publishes the
  same way (`install_publisher`). Redis pub/sub ignores database numbers, so the URL's database
  number is part of the channel name: clusters sharing one Redis on different databases do not
  hear each other.

Redis unreachable — at start or later — never fails a request: a publish that cannot be sent is
dropped, `degraded` turns true (listeners then poll more often), the listener and the publisher
each log one WARNING per outage (the error's class only), and both reconnect by themselves. Every
waiter is woken when Redis goes away and when it is back, to re-read what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from bot.config import Settings
from bot.models import Message, Ticket, TicketEvent, TicketNote

log = logging.getLogger(__name__)

DESK = "desk"
CHANNEL_ROOT = "luotsi"
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # reconnect back-off while Redis is away
_PENDING = "luotsi_event_keys"  # Session.info entry: keys noted in flushes, published on commit
_installed: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def conversation_key(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def channel_prefix(redis_url: str) -> str:
    """`luotsi:<db>:` — pub/sub channels are global to a Redis server, databases are not."""
    parts = urlsplit(redis_url)
    db = parse_qs(parts.query).get("db", [""])[0]
    if not db and parts.scheme != "unix":
        db = parts.path.strip("/")
    return f"{CHANNEL_ROOT}:{int(db) if db.isdigit() else 0}:"


class Publisher(Protocol):
    def notify(self, keys: frozenset[str]) -> None:
        """Thread-safe and non-blocking: called from `after_commit` on any thread."""

    def close(self) -> None: ...


class _Outage:
    """Logs once when a Redis connection is lost and once when it is back (no URL: it may hold a password)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.down = False
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            first, self.down = not self.down, True
        if first:
            log.warning("events.redis_unavailable role=%s error=%s live updates degrade to polling",
                        self.role, type(exc).__name__)

    def recovered(self) -> None:
        with self._lock:
            was, self.down = self.down, False
        if was:
            log.info("events.redis_recovered role=%s", self.role)


# ---- publishing from the session ----

def _noted(session: Session) -> set[str]:
    keys: set[str] = session.info.setdefault(_PENDING, set())
    return keys


def note_change(session: Session, key: str) -> None:
    """Publish `key` when `session` commits (for changes made with plain SQL, which the session's
    flush and statement hooks cannot see)."""
    _noted(session).add(key)


def _key_of(obj: object) -> str | None:
    if isinstance(obj, Message):
        conversation_id = inspect(obj).dict.get("conversation_id")  # never a lazy load inside a flush
        return conversation_key(conversation_id) if conversation_id else None
    if isinstance(obj, TicketEvent) and inspect(obj).dict.get("kind") == "viewed":
        return None  # the audit trail of reading is not a change
    if isinstance(obj, Ticket | TicketEvent | TicketNote):
        return DESK
    return None


def install_change_events(factory: sessionmaker[Session], publisher: Publisher) -> None:
    """Every session of `factory` tells `publisher` what its committed transactions changed."""
    if factory in _installed:
        raise RuntimeError("change events are already installed on this sessionmaker")
    _installed.add(factory)

    def note_flush(session: Session, _context: UOWTransaction) -> None:
        keys = _noted(session)
        for obj in session.new:
            key = _key_of(obj)
            if key:
                keys.add(key)
        for obj in session.dirty:
            key = _key_of(obj)
            if key and session.is_modified(obj, include_collections=False):
                keys.add(key)
        for obj in session.deleted:
            if isinstance(obj, Ticket):
                keys.add(DESK)

    def note_statement(state: ORMExecuteState) -> None:
        # claims and erasures change tickets with UPDATE statements, outside the unit of work
        if (state.is_update or state.is_delete) and any(m.class_ is Ticket for m in state.all_mappers):
            _noted(state.session).add(DESK)

    def publish(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint: the outer transaction may still roll back
        keys = session.info.pop(_PENDING, None)
        if not keys:
            return
        try:
            publisher.notify(frozenset(keys))
        except Exception as exc:  # a live update is never worth failing a committed request
            log.warning("events.publish_failed error=%s", type(exc).__name__)

    def forget(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(factory, "after_flush", note_flush)
    event.listen(factory, "do_orm_execute", note_statement)
    event.listen(factory, "after_commit", publish)
    event.listen(factory, "after_rollback", forget)


# ---- Redis: publishing from a thread of its own ----

def _redis_options() -> dict[str, Any]:
    # fail fast, retry by ourselves: a dead Redis must not stall anything
    return {"socket_connect_timeout": 1.0, "socket_timeout": 2.0, "retry": Retry(NoBackoff(), 0)}


class RedisPublisher:
    """PUBLISHes keys from one daemon thread with a synchronous client, fed by a queue.

    `notify` only enqueues, so the committing thread (which may still hold its database connection
    inside `after_commit`) never waits for Redis. Keys queued together are sent together, once."""

    def __init__(self, redis_url: str, *, origin: str | None = None) -> None:
        self.prefix = channel_prefix(redis_url)
        self.origin = origin or uuid.uuid4().hex
        self.outage = _Outage("publish")
        self._client = redis.Redis.from_url(redis_url, **_redis_options())
        self._queue: queue.SimpleQueue[frozenset[str] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="luotsi-events-publish", daemon=True)
        self._thread.start()

    def notify(self, keys: frozenset[str]) -> None:
        self._queue.put(keys)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=3)
        self._client.close()

    def _run(self) -> None:
        retry_at = 0.0
        while True:
            try:
                first = self._queue.get(timeout=1.0 if self.outage.down else None)
            except queue.Empty:
                first = frozenset()  # while Redis is away: check whether it is back
            keys, stop = set(first or ()), first is None
            while not stop:  # everything already waiting goes in the same round trip
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                stop = more is None
                keys |= more or set()
            if self.outage.down and time.monotonic() < retry_at:
                keys.clear()  # dropped: listeners' safety poll finds these rows
            elif keys or self.outage.down:
                try:
                    self._send(keys)
                    self.outage.recovered()
                except Exception as exc:  # redis errors and OSErrors alike: drop, note, go on
                    self.outage.failed(exc)
                    retry_at = time.monotonic() + RETRY_SECONDS[1]
            if stop:
                return

    def _send(self, keys: set[str]) -> None:
        if not keys:
            self._client.ping()
            return
        pipe = self._client.pipeline(transaction=False)
        for key in sorted(keys):
            pipe.publish(self.prefix + key, self.origin)
        pipe.execute()


class _NoPublisher:
    def notify(self, keys: frozenset[str]) -> None:
        pass

    def close(self) -> None:
        pass


def install_publisher(factory: sessionmaker[Session], settings: Settings) -> Publisher:
    """For processes other than the hub (Telegram worker, mail intake): with `LUOTSI_REDIS_URL`, what
    their sessions commit wakes the hubs' live streams. Returns the publisher to `close()` at exit."""
    publisher: Publisher = RedisPublisher(settings.redis_url) if settings.redis_url else _NoPublisher()
    install_change_events(factory, publisher)
    return publisher


# ---- waiting on the event loop ----

class Subscription:
    """One listener's interest in one key (and any it adds with `also`); a notification between two
    waits is kept, not lost, and `take_woken` says which keys were notified."""

    def __init__(self, bus: EventBus, key: str) -> None:
        self.bus, self.key = bus, key
        self.keys = [key]
        self._woken: set[str] = set()
        self._entered = False
        self._flag = asyncio.Event()

    def __enter__(self) -> Subscription:
        for key in self.keys:
            self.bus._add(self, key)
        self._entered = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._entered = False
        for key in self.keys:
            self.bus._remove(self, key)

    def also(self, key: str) -> None:
        """Listen to `key` as well, on the same wait (a web chat stream adds the desk while its
        ticket waits)."""
        if key in self.keys:
            return
        self.keys.append(key)
        if self._entered:
            self.bus._add(self, key)

    def wake(self, key: str | None = None) -> None:
        """`key` was notified; None: every key may have changed (Redis was away)."""
        self._woken.update(self.keys if key is None else (key,))
        self._flag.set()

    def take_woken(self) -> set[str]:
        """The keys notified since the last call."""
        woken, self._woken = self._woken, set()
        return woken

    async def wait(self, timeout: float) -> bool:
        """True when the key was notified (since the last wait), False after `timeout` seconds."""
        try:
            await asyncio.wait_for(self._flag.wait(), timeout)
        except TimeoutError:
            return False
        self._flag.clear()
        return True


class EventBus:
    """In-process: wakes this process's listeners. Enough for one hub without Redis."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._rounds: dict[str, int] = {}  # notifications seen for the keys asked about (`generation`)
        self._all_rounds = 0

    @property
    def degraded(self) -> bool:
        """True while notifications from other processes may not arrive (listeners poll more often)."""
        return False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def aclose(self) -> None:
        self._loop = None

    def subscribe(self, key: str) -> Subscription:
        """`with bus.subscribe(key) as sub: … await sub.wait(timeout)` — on the event loop."""
        return Subscription(self, key)

    def listeners(self, key: str) -> int:
        """How many listen to `key` now (tests wait for a stream to be listening)."""
        return len(self._subscriptions.get(key, ()))

    def generation(self, key: str) -> int:
        """A number that grows whenever `key` may have changed (on the loop): whoever caches what
        it read for a key (the web chat's queue board) reads again once it moves. Counted from
        the first time a key is asked about, so only those few keys are counted."""
        return self._rounds.setdefault(key, 0) + self._all_rounds

    def notify(self, keys: frozenset[str]) -> None:
        """Thread-safe: wakes the listeners of `keys` on the bus's event loop."""
        self._hand_to_loop(self._wake, keys)

    def _hand_to_loop(self, callback: Callable[[Iterable[str]], None], keys: Iterable[str]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
            loop.call_soon_threadsafe(callback, keys)

    def _wake(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key in self._rounds:
                self._rounds[key] += 1
            for subscription in self._subscriptions.get(key, ()):
                subscription.wake(key)

    def _wake_all(self) -> None:
        self._all_rounds += 1
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.wake()

    def _add(self, subscription: Subscription, key: str) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()  # an app run without its lifespan (tests)
        self._subscriptions.setdefault(key, set()).add(subscription)

    def _remove(self, subscription: Subscription, key: str) -> None:
        subscriptions = self._subscriptions.get(key)
        if subscriptions is not None:
            subscriptions.discard(subscription)
            if not subscriptions:
                del self._subscriptions[key]


class RedisEventBus(EventBus):
    """Several processes: local listeners are woken directly, the others through Redis pub/sub."""

    def __init__(self, redis_url: str) -> None:
        super().__init__()
        self.redis_url = redis_url
        self.prefix = channel_prefix(redis_url)
        self.outage = _Outage("listen")
        self._publisher: RedisPublisher | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening = False

    @property
    def degraded(self) -> bool:
        return not self._listening

    async def start(self) -> None:
        await super().start()
        self._publisher = RedisPublisher(self.redis_url, origin=self.origin)
        first_try = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(first_try), name="luotsi-events-listen")
        with contextlib.suppress(TimeoutError):  # a hanging Redis must not hold up the start
            await asyncio.wait_for(first_try.wait(), 2.0)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._publisher is not None:
            await asyncio.to_thread(self._publisher.close)
        await super().aclose()

    def notify(self, keys: frozenset[str]) -> None:
        super().notify(keys)
        if self._publisher is not None:
            self._publisher.notify(keys)

    async def _listen(self, first_try: asyncio.Event) -> None:
        attempt = 0
        while True:
            client = AsyncRedis.from_url(self.redis_url, socket_connect_timeout=1.0, socket_timeout=None,
                                         health_check_interval=10, retry=AsyncRetry(NoBackoff(), 0))
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self.prefix + "*")
                confirmation = await pubsub.get_message(timeout=2.0)
                if confirmation is None or confirmation["type"] != "psubscribe":
                    raise TimeoutError("no subscription confirmed")
                self._listening, attempt = True, 0
                self.outage.recovered()
                self._wake_all()  # whatever was published while we were away: re-read now
                first_try.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=10.0)
                    if message is not None and message["type"] == "pmessage":
                        self._received(message["channel"], message["data"])
            except Exception as exc:  # redis errors, OSErrors, time-outs: degrade, retry
                self._listening = False
                self.outage.failed(exc)
                self._wake_all()  # listeners re-read now, and poll at their degraded pace from here
            finally:
                self._listening = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await client.aclose()
            first_try.set()
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

    def _received(self, channel: bytes, origin: bytes) -> None:
        if origin.decode(errors="replace") == self.origin:
            return  # ours: our listeners were woken when we published
        name = channel.decode(errors="replace")
        if name.startswith(self.prefix):
            self._wake((name[len(self.prefix):],))


def make_event_bus(settings: Settings) -> EventBus:
    return RedisEventBus(settings.redis_url) if settings.redis_url else EventBus()
