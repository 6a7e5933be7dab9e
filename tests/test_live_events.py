"""Live events (issue 16): an adviser's reply reaches the customer's open stream at once — on the same
hub without Redis, from another hub through Redis pub/sub — and a Redis that is down or comes back
never stops the hub answering. What is published says only *that* a conversation changed."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import pytest
import redis
from sqlalchemy import update

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation, Message, Ticket
from bot.services import events, shifts
from bot.services.tickets import do_handoff
from integrations.webchat import live
from tests import factories as f
from tests.conftest import free_port, running_hub

REPLY = "Hei Matti, soita minulle numeroon 040 123 4567."
CUSTOMER = "Tarvitsen apua työttömyysetuuden kanssa"
FAST = 0.3  # seconds: a pushed reply; the safety poll is set far above it in these tests


@pytest.fixture(autouse=True)
def slow_safety_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a notification can bring a reply within FAST; polling alone would take 30 s (2 s degraded)."""
    monkeypatch.setattr(live, "SAFETY_POLL_SECONDS", 30.0)
    monkeypatch.setattr(live, "DEGRADED_POLL_SECONDS", 2.0)


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis on a database of its own: the bus names its channels after the number."""
    return f"redis://127.0.0.1:6379/{random.randint(1, 15)}"


@dataclass
class Ticketed:
    cid: str  # the customer's chat id (the widget's)
    conversation_id: str  # ours
    ticket_id: str
    auth: dict[str, str]


def _hand_off(base: str, app: object, cid: str) -> Ticketed:
    """A web customer handed off to the Espoo queue, claimed by an adviser through the adviser API."""
    with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        f.shift(session, "espoo", "jobseeker_espoo")
        f.adviser(session, f"anna.{cid}")
        conversation = f.conversation(session, cid, text=CUSTOMER)
        ticket = do_handoff(session, conversation_id=conversation.id, reason="asked_for_human", topic=None,
                            now=f.now(), hours=shifts.OpeningHours.parse("mon-sun 00:00-23:59"),
                            home_area="espoo", reopen_days=7).ticket
        conversation_id, ticket_id = conversation.id, ticket.id
    token = httpx.post(f"{base}/api/auth/token", data={"username": f"anna.{cid}", "password": f.PASSWORD})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    claimed = httpx.post(f"{base}/api/tickets/{ticket_id}/claim", headers=auth)
    assert claimed.status_code == 200, claimed.text
    return Ticketed(cid, conversation_id, ticket_id, auth)


@dataclass
class Stream:
    """A customer's open live stream, read in a thread: each message event with its arrival time."""

    received: list[tuple[float, dict]] = field(default_factory=list)  # type: ignore[type-arg]
    changed: threading.Condition = field(default_factory=threading.Condition)

    def arrival(self, text: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: any(item["text"] == text for _, item in self.received), timeout)
            return next((at for at, item in self.received if item["text"] == text), None)


@contextmanager
def open_stream(base: str, app: object, t: Ticketed) -> Iterator[Stream]:
    stream = Stream()
    opened: list[socket.socket] = []

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError), \
                httpx.stream("GET", f"{base}/api/chat/{t.cid}/events", timeout=60) as response:
            assert response.status_code == 200
            opened.append(response.extensions["network_stream"].get_extra_info("socket"))
            for line in response.iter_lines():
                if line.startswith("data: "):
                    with stream.changed:
                        stream.received.append((time.monotonic(), json.loads(line[6:])))
                        stream.changed.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    bus = app.state.events  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while bus.listeners(events.conversation_key(t.conversation_id)) == 0:  # the stream listens now
        assert time.monotonic() < deadline, "the stream never listened"
        time.sleep(0.01)
    try:
        yield stream
    finally:
        for sock in opened:  # the customer leaves: the hub sees the stream end and can stop at once
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        reader.join(5)


def _reply(base: str, t: Ticketed, text: str = REPLY) -> float:
    started = time.monotonic()
    r = httpx.post(f"{base}/api/tickets/{t.ticket_id}/reply", json={"text": text}, headers=t.auth)
    assert r.status_code == 200, r.text
    return started


def _write_elsewhere(database_url: str, conversation_id: str, text: str) -> None:
    """An adviser message stored by a process that publishes nothing (no hook, or no way to Redis)."""
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        session.add(Message(conversation_id=conversation_id, sender="adviser", text=text, status="sent",
                            created_at=datetime.now(timezone.utc)))
        session.commit()
    engine.dispose()


# ---- (a) one process, no Redis ----

def test_a_reply_reaches_the_open_stream_at_once_without_redis(settings: Settings) -> None:
    assert settings.redis_url is None
    with running_hub(settings) as (base, app):
        t = _hand_off(base, app, "a" * 32)
        with open_stream(base, app, t) as stream:
            sent = _reply(base, t)
            arrived = stream.arrival(REPLY, timeout=5)
        assert arrived is not None and arrived - sent < FAST, arrived and arrived - sent
        [(_, item)] = [e for e in stream.received if e[1]["text"] == REPLY]
        assert item["sender"] == "adviser" and item["handler"] == "human" and item["id"] > 0


# ---- (b) two hubs, one PostgreSQL, Redis between them ----

def test_a_reply_on_hub_a_reaches_a_stream_on_hub_b_through_redis(settings: Settings, pg_url: str,
                                                                   redis_url: str) -> None:
    shared = settings.model_copy(update={"database_url": pg_url, "redis_url": redis_url})
    with running_hub(shared) as (base_a, app_a), running_hub(shared) as (base_b, app_b):
        t = _hand_off(base_a, app_a, "b" * 32)
        assert not app_b.state.events.degraded  # type: ignore[attr-defined]
        with open_stream(base_b, app_b, t) as stream:
            sent = _reply(base_a, t)
            arrived = stream.arrival(REPLY, timeout=5)
            assert arrived is not None and arrived - sent < FAST, arrived and arrived - sent
            # and the other way round: B's reply reaches a stream on A
            with open_stream(base_a, app_a, t) as on_a:
                sent = _reply(base_b, t, "Toinen vastaus.")
                arrived = on_a.arrival("Toinen vastaus.", timeout=5)
            assert arrived is not None and arrived - sent < FAST


# ---- (c) Redis unreachable ----

def test_with_redis_down_the_hub_answers_and_streams_fall_back_to_polling(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    dead = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    caplog.set_level(logging.INFO, logger="bot.services.events")
    with running_hub(dead) as (base, app):
        chat = httpx.post(f"{base}/api/chat", json={"conversation_id": "c" * 32, "text": "hei"})
        assert chat.status_code == 200 and chat.json()["replies"]
        t = _hand_off(base, app, "d" * 32)
        assert app.state.events.degraded  # type: ignore[attr-defined]
        with open_stream(base, app, t) as stream:
            sent = _reply(base, t)  # publishing to a dead Redis never fails the request...
            arrived = stream.arrival(REPLY, timeout=5)
            assert arrived is not None and arrived - sent < FAST  # ...and this hub's own streams still wake
            # what another hub stores cannot be announced: the degraded poll finds it
            written = time.monotonic()
            _write_elsewhere(dead.database_url, t.conversation_id, "Kolmas vastaus.")
            arrived = stream.arrival("Kolmas vastaus.", timeout=10)
            assert arrived is not None and arrived - written < 2.0 + 1.0
        time.sleep(1.5)  # the listener has retried by now
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "role=listen" in w]) == 1, warnings  # once per outage, not per retry
    assert len([w for w in warnings if "role=publish" in w]) == 1, warnings
    for record in caplog.records:
        assert REPLY not in record.getMessage() and "d" * 32 not in record.getMessage()
        assert str(dead.redis_url) not in record.getMessage()


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A Redis of this test's own, so that it can be stopped and started again."""
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    assert _until(lambda: _answers(client), 5), "redis-server did not start"
    client.close()
    return server


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _until(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_worker_process_publishes_and_the_hub_recovers_when_redis_is_back(settings: Settings) -> None:
    """The one-line hook for other processes (the Telegram worker, mail intake), and Redis restarting."""
    port = free_port()
    with_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    server = start_redis(port)
    worker_engine = make_engine(with_redis.database_url)
    worker_sessions = make_sessionmaker(worker_engine)
    publisher = events.install_publisher(worker_sessions, with_redis)  # what the worker's main() would call

    def worker_writes(conversation_id: str, text: str) -> float:
        with worker_sessions() as session:
            session.add(Message(conversation_id=conversation_id, sender="adviser", text=text, status="sent",
                                created_at=datetime.now(timezone.utc)))
            started = time.monotonic()
            session.commit()
        return started

    try:
        with running_hub(with_redis) as (base, app):
            bus = app.state.events  # type: ignore[attr-defined]
            t = _hand_off(base, app, "e" * 32)
            with open_stream(base, app, t) as stream:
                sent = worker_writes(t.conversation_id, "Ensimmäinen.")
                arrived = stream.arrival("Ensimmäinen.", timeout=5)
                assert arrived is not None and arrived - sent < FAST

                server.terminate()
                server.wait(10)
                assert _until(lambda: bus.degraded, 5)
                sent = worker_writes(t.conversation_id, "Redis on poissa.")  # cannot be announced
                arrived = stream.arrival("Redis on poissa.", timeout=10)
                assert arrived is not None and arrived - sent < 2.0 + 1.0  # the degraded poll: late, not lost

                server = start_redis(port)
                assert _until(lambda: not bus.degraded, 10)  # the hub listens again by itself
                assert _until(lambda: not publisher.outage.down, 5)  # type: ignore[attr-defined]
                sent = worker_writes(t.conversation_id, "Taas täällä.")
                arrived = stream.arrival("Taas täällä.", timeout=5)
                assert arrived is not None and arrived - sent < FAST
    finally:
        publisher.close()
        worker_engine.dispose()
        server.terminate()
        server.wait(10)


# ---- (d) what is published ----

def test_what_is_published_names_a_key_and_carries_no_message_or_person(settings: Settings,
                                                                         redis_url: str) -> None:
    with_redis = settings.model_copy(update={"redis_url": redis_url})
    raw = redis.Redis.from_url(redis_url).pubsub()
    prefix = events.channel_prefix(redis_url)
    raw.psubscribe(prefix + "*")
    assert raw.get_message(timeout=2)["type"] == "psubscribe"  # type: ignore[index]
    try:
        with running_hub(with_redis) as (base, app):
            t = _hand_off(base, app, "f" * 32)
            _reply(base, t)
            httpx.post(f"{base}/api/tickets/{t.ticket_id}/close", json={"outcome": "answered"}, headers=t.auth)
            heard = []
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                message = raw.get_message(ignore_subscribe_messages=True, timeout=0.2)
                if message is not None:
                    heard.append((message["channel"].decode(), message["data"].decode()))
    finally:
        raw.close()
    channels = {channel for channel, _ in heard}
    assert f"{prefix}conversation:{t.conversation_id}" in channels and f"{prefix}desk" in channels
    origin = app.state.events.origin  # type: ignore[attr-defined]
    for channel, data in heard:
        assert re.fullmatch(re.escape(prefix) + r"(conversation:[0-9a-f]{32}|desk)", channel), channel
        assert data == origin  # which hub said it, so it does not wake itself twice: nothing else
    everything = json.dumps(heard)
    for secret in (REPLY, "Matti", "040", CUSTOMER, t.cid, "anna"):
        assert secret not in everything


# ---- the hook itself ----

class Recorder:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.calls: list[tuple[frozenset[str], int]] = []

    def notify(self, keys: frozenset[str]) -> None:
        # what another connection sees at this moment: a publish before the commit would see nothing
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            seen = connection.execute(text("SELECT count(*) FROM message WHERE sender = 'adviser'")).scalar_one()
        engine.dispose()
        self.calls.append((keys, seen))

    def close(self) -> None:
        pass


def test_changes_are_published_after_the_commit_and_forgotten_on_rollback(settings: Settings) -> None:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    recorder = Recorder(settings.database_url)
    events.install_change_events(factory, recorder)
    with pytest.raises(RuntimeError):
        events.install_change_events(factory, recorder)  # twice would publish everything twice
    with factory() as session:
        conversation = f.conversation(session, "g" * 32)
        recorder.calls.clear()
        session.add(Message(conversation_id=conversation.id, sender="adviser", text=REPLY, status="sent",
                            created_at=f.now()))
        session.flush()
        assert recorder.calls == []  # flushed is not committed
        session.commit()
        assert recorder.calls == [(frozenset({f"conversation:{conversation.id}"}), 1)]
        session.add(Message(conversation_id=conversation.id, sender="adviser", text="ei", status="sent",
                            created_at=f.now()))
        session.flush()
        session.rollback()
        session.commit()
        assert len(recorder.calls) == 1  # rolled back: nothing to tell
        ticket = do_handoff(session, conversation_id=conversation.id, reason="asked_for_human", topic=None,
                            now=f.now(), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                            home_area="espoo", reopen_days=7).ticket
        assert "desk" in recorder.calls[-1][0]
        recorder.calls.clear()
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(priority=3))  # as a claim does
        session.commit()
        assert recorder.calls == [(frozenset({"desk"}), 1)]
        session.get(Conversation, conversation.id)
        session.commit()
        assert len(recorder.calls) == 1  # a read-only transaction publishes nothing
    engine.dispose()


def test_the_channel_prefix_follows_the_redis_database() -> None:
    assert events.channel_prefix("redis://127.0.0.1:6379") == "luotsi:0:"
    assert events.channel_prefix("redis://:secret@127.0.0.1:6379/7") == "luotsi:7:"
    assert events.channel_prefix("unix:///run/redis.sock?db=3") == "luotsi:3:"
