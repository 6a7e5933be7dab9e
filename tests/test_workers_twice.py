"""Workers that can run twice (issue 16): two Telegram workers on one PostgreSQL database — real
`python -m integrations.telegram.worker` processes against the Bot API stand-in — send every
message once and each chat's in order, process every update once and each chat's in order, and
carry on where a worker killed with SIGKILL stopped; the retention purge (bot/services/retention.py)
started by two hubs at once runs once.

Each worker reaches the stand-in through its own port, so every call is known by its worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import ROOT, Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import AuditEvent, Conversation, Message, TelegramUpdate
from bot.services.retention import do_purge_once
from tests import rasa_standin
from tests.conftest import free_port
from tests.http_stub import serving
from tests.telegram_api import BotApi, _handler, message_update

CHATS_AT_ONCE = 16  # integrations.telegram.worker.CHATS_AT_ONCE: what one worker may have in flight


@dataclass
class SlowBotApi(BotApi):
    """The stand-in, each sendMessage taking `send_delay` seconds like a real round trip."""

    send_delay: float = 0.0

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        if self.send_delay:
            time.sleep(self.send_delay)
        return super()._m_sendMessage(params)


@dataclass
class Sent:
    worker: str
    chat: int
    text: str
    at: float


@dataclass
class Door:
    """One worker's way into the shared stand-in: its successful calls are logged under its name."""

    api: BotApi
    name: str
    log: list[Sent]
    lock: threading.Lock
    methods: list[str] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.api.token

    @property
    def files(self) -> dict[str, tuple[str, bytes]]:
        return self.api.files

    def call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, payload = self.api.call(method, params)
        with self.lock:
            self.methods.append(method)
            if method == "sendMessage" and status == 200:
                self.log.append(Sent(self.name, int(params["chat_id"]), str(params["text"]), time.monotonic()))
        return status, payload


def quiet(handler: type[BaseHTTPRequestHandler]) -> type[BaseHTTPRequestHandler]:
    """The stand-in's handler, silent when a killed worker has gone before its answer."""
    class Quiet(handler):  # type: ignore[valid-type,misc]
        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass
    return Quiet


@dataclass
class Harness:
    url: str
    rasa_url: str
    api: SlowBotApi
    tmp: Path
    stack: ExitStack
    log: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    doors: dict[str, tuple[Door, str]] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> None:
        """A worker process with a door of its own; returns once it has registered its commands."""
        door = Door(self.api, name, self.log, self.lock)
        base = self.stack.enter_context(serving(quiet(_handler(door))))  # type: ignore[arg-type]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUOTSI_")}
        env.update(LUOTSI_DATABASE_URL=self.url, LUOTSI_RASA_URL=self.rasa_url, LUOTSI_TELEGRAM_TOKEN=self.api.token,
                   LUOTSI_TELEGRAM_API_URL=f"{base}/bot", LUOTSI_TELEGRAM_POLL_TIMEOUT="1",
                   LUOTSI_TELEGRAM_RATE_LIMIT="100000")  # the measure is the claims, not PTB's limiter
        out = (self.tmp / f"worker-{name}.log").open("wb")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "integrations.telegram.worker"], cwd=ROOT,
                                            env=env, stdout=out, stderr=subprocess.STDOUT)
        self.doors[name] = (door, base)
        deadline = time.monotonic() + 60
        while "deleteWebhook" not in door.methods:
            if time.monotonic() > deadline or self.procs[name].poll() is not None:
                raise AssertionError(f"worker {name} did not start:\n{self.output(name)}")
            time.sleep(0.05)

    def output(self, name: str) -> str:
        return (self.tmp / f"worker-{name}.log").read_text(errors="replace")[-4000:]

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"worker {name} did not stop:\n{self.output(name)}") from None

    def sent(self, worker: str | None = None) -> list[Sent]:
        with self.lock:
            return [s for s in self.log if worker is None or s.worker == worker]


@pytest.fixture
def harness(pg_url: str, tmp_path: Path, dead_rasa_url: str) -> Iterator[Harness]:
    migrate(pg_url)  # once, before any worker starts
    with ExitStack() as stack:
        api = SlowBotApi()
        running = Harness(pg_url, dead_rasa_url, api, tmp_path, stack)
        try:
            yield running
        except BaseException:
            for name in running.procs:
                sys.stderr.write(f"--- worker {name} ---\n{running.output(name)}\n")
            raise
        finally:
            running.stop_all()


def plant_outbox(url: str, chats: int, each: int, first_chat: int = 7001) -> dict[int, list[str]]:
    """`chats` Telegram conversations with `each` pending answers apiece, committed at once;
    {chat: its texts in order}. Planted round-robin, so every chat's messages interleave."""
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    expected: dict[int, list[str]] = {}
    with make_sessionmaker(engine)() as db:
        ids = {}
        for chat in range(first_chat, first_chat + chats):
            conversation = Conversation(channel="telegram", external_id=str(chat), language="fi", created_at=now,
                                        updated_at=now)
            db.add(conversation)
            db.flush()
            ids[chat] = conversation.id
            expected[chat] = [f"chat {chat} answer {n:02d}" for n in range(each)]
        for n in range(each):
            for chat, conversation_id in ids.items():
                db.add(Message(conversation_id=conversation_id, sender="bot", text=expected[chat][n], language="fi",
                               status="pending", created_at=now))
        db.commit()
    engine.dispose()
    return expected


def outbox_left(url: str) -> Counter[str]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        statuses = Counter(dict(db.execute(select(Message.status, func.count()).group_by(Message.status)).all()))
    engine.dispose()
    return statuses


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def by_chat(sent: list[Sent]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for s in sent:
        out[s.chat].append(s.text)
    return out


def drain(h: Harness, expected: dict[int, list[str]], timeout: float = 90) -> None:
    total = sum(len(v) for v in expected.values())
    wait_until(lambda: len(h.sent()) >= total and outbox_left(h.url)["pending"] == 0, timeout,
               f"{total} messages sent (so far {len(h.sent())})")
    time.sleep(1.0)  # a second send of anything would show by now


def rate(sent: list[Sent]) -> float:
    span = max(s.at for s in sent) - min(s.at for s in sent)
    return len(sent) / span if span > 0 else float("inf")


# --- the outbox ---------------------------------------------------------------------------------


def test_two_workers_send_every_message_once_and_each_chat_in_order(harness: Harness) -> None:
    h = harness
    h.api.send_delay = 0.01  # a round trip, so that both workers are busy at once
    h.start("a")
    h.start("b")
    expected = plant_outbox(h.url, chats=30, each=10)
    drain(h, expected)
    sent = h.sent()
    counts = Counter(s.text for s in sent)
    assert len(sent) == 300 and set(counts.values()) == {1}, [t for t, n in counts.items() if n > 1][:10]
    assert by_chat(sent) == expected  # every chat's messages in the order they were written
    assert outbox_left(h.url) == Counter({"sent": 300})
    shares = Counter(s.worker for s in sent)
    assert shares["a"] > 0 and shares["b"] > 0, shares  # both sent: the claims were really contended
    print(f"\ntwo workers, 300 messages in 30 chats, 10 ms per send: {rate(sent):.0f} messages/s, "
          f"shares {dict(shares)}")


def test_a_worker_killed_mid_batch_is_taken_over_and_nothing_is_lost(harness: Harness) -> None:
    h = harness
    h.api.send_delay = 0.05
    h.start("a")
    h.start("b")
    expected = plant_outbox(h.url, chats=30, each=10)
    wait_until(lambda: len(h.sent("a")) >= 20, 30, "worker a under way")
    h.kill("a")
    killed_at = time.monotonic()
    by_a = len(h.sent("a"))
    drain(h, expected)
    sent = h.sent()
    assert outbox_left(h.url) == Counter({"sent": 300})  # nothing lost
    assert len(h.sent("b")) > 0
    per_chat = by_chat(sent)
    assert set(per_chat) == set(expected)
    duplicates = []
    for chat, texts in per_chat.items():
        collapsed = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
        assert collapsed == expected[chat], chat  # in order; only a message repeated right after itself
        duplicates += [t for i, t in enumerate(texts) if i and t == texts[i - 1]]
    # the one unavoidable repeat: a message the Bot API took while `a` died before recording it
    # "sent" — at most one per chat `a` was sending to, and only ever a message `a` had sent
    assert len(duplicates) <= CHATS_AT_ONCE
    assert {t for t in duplicates} <= {s.text for s in h.sent("a")}
    took_over = min((s.at for s in h.sent("b") if s.at > killed_at), default=float("nan")) - killed_at
    print(f"\nkilled a after {by_a} sends: b took over {took_over:.2f} s later, {len(duplicates)} sent twice "
          f"(in flight at the kill), {len(h.sent('b'))} sent by b")


def test_outbox_rate_one_worker_versus_two(harness: Harness) -> None:
    """The figures for docs/benchmarks.md (printed): messages/s from first to last send, no send
    delay — one worker drains 600 messages in 60 chats, then two drain another 600."""
    h = harness
    h.start("a")
    one = plant_outbox(h.url, chats=60, each=10, first_chat=8001)
    drain(h, one)
    single = h.sent("a")
    h.start("b")
    two = plant_outbox(h.url, chats=60, each=10, first_chat=9001)
    drain(h, two)
    double = [s for s in h.sent() if s.chat >= 9001]
    assert by_chat(single) == one and by_chat(double) == two
    print(f"\noutbox on PostgreSQL, 600 messages in 60 chats: one worker {rate(single):.0f} messages/s, "
          f"two workers {rate(double):.0f} messages/s (shares {dict(Counter(s.worker for s in double))}; "
          f"{os.cpu_count()} cores shared with PostgreSQL and the stand-in)")


# --- inbound updates --------------------------------------------------------------------------


def plant_updates(url: str, chats: int, each: int) -> dict[int, list[str]]:
    """Updates as the webhook stores them, round-robin over `chats`; {chat: texts in order}."""
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    expected: dict[int, list[str]] = defaultdict(list)
    with make_sessionmaker(engine)() as db:
        for n in range(each):
            for chat in range(6001, 6001 + chats):
                text = f"chat {chat} writes {n:02d}"
                update = message_update(chat, text, language_code="fi")
                db.add(TelegramUpdate(update_id=update["update_id"], chat_id=chat, status="received", payload=update,
                                      attempts=0, received_at=now))
                expected[chat].append(text)
        db.commit()
    engine.dispose()
    return expected


def test_two_workers_process_every_update_once_and_each_chat_in_order(pg_url: str, tmp_path: Path,
                                                                       harness: Harness) -> None:
    """A worker starting while another processes must not take its updates back (the old restart
    requeue did), nor start on a chat the other is in the middle of."""
    record = tmp_path / "rasa.jsonl"
    with rasa_standin.running(free_port(), 0.3, record) as rasa_url:
        h = harness
        h.rasa_url = rasa_url
        expected = plant_updates(pg_url, chats=24, each=8)
        h.start("a")
        engine = make_engine(pg_url)
        factory = make_sessionmaker(engine)

        def statuses() -> Counter[str]:
            with factory() as db:
                return Counter(dict(db.execute(select(TelegramUpdate.status, func.count())
                                               .group_by(TelegramUpdate.status)).all()))

        wait_until(lambda: statuses()["done"] >= 8, 60, "worker a processing")
        h.start("b")  # while a has updates in hand
        wait_until(lambda: statuses() == Counter({"done": 24 * 8}), 120, "every update processed")
        with factory() as db:
            chat_of = {c.id: int(c.external_id) for c in db.scalars(select(Conversation))}
            stored = db.execute(select(Message.conversation_id, Message.text).where(Message.sender == "customer")
                                .order_by(Message.id)).all()
            attempts = set(db.scalars(select(TelegramUpdate.attempts)))
        engine.dispose()
    told = defaultdict(list)
    for body in rasa_standin.received(record):
        told[chat_of[body["sender"]]].append(body["message"])
    kept = defaultdict(list)
    for conversation_id, text in stored:
        kept[chat_of[conversation_id]].append(text)
    assert kept == expected  # each update's message stored once, every chat in order
    assert told == expected  # and the assistant asked once per message, in order
    assert attempts == {1}


# --- scheduled jobs ---------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def job_db(request: pytest.FixtureRequest, settings: Settings) -> str:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else settings.database_url
    migrate(url)
    return str(url)


def test_the_purge_started_by_two_hubs_at_once_runs_once(job_db: str, dead_rasa_url: str) -> None:
    engine = make_engine(job_db)
    old = datetime.now(timezone.utc) - timedelta(days=400)
    with make_sessionmaker(engine)() as db:
        for name in ("stale-1", "stale-2"):
            db.add(Conversation(channel="web", external_id=name, language="fi", created_at=old, updated_at=old))
        db.commit()
    settings = Settings(database_url=job_db, rasa_url=dead_rasa_url)
    skipped = threading.Event()
    start = threading.Barrier(2)
    results: list[dict[str, int] | None] = []

    def forget(conversation_id: str) -> bool:
        # Rasa being told to forget: slow enough that the other hub asks while this one purges
        skipped.wait(timeout=5)
        return True

    def hub() -> None:
        start.wait()
        result = do_purge_once(engine, settings, now=datetime.now(timezone.utc), forget=forget,
                               every=timedelta(days=1))
        if result is None:
            skipped.set()
        results.append(result)

    threads = [threading.Thread(target=hub) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2 and results.count(None) == 1
    purged = next(r for r in results if r is not None)
    assert purged["conversations"] == 2 and purged["rasa_forgotten"] == 2
    # a third hub whose daily check comes just after: the purge is not due again today
    assert do_purge_once(engine, settings, now=datetime.now(timezone.utc), every=timedelta(days=1)) is None
    with make_sessionmaker(engine)() as db:
        runs = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "retention.purge"))
    engine.dispose()
    assert runs == 1
