"""Issue 18, "the customer sees the wait": a waiting customer's place in the queue (the order claims
take tickets in) and an honest estimate from today's claims of the queue — or when the advisory
opens — in their language; live in the web chat's stream as a status event; in Telegram a message
only when the standing changes a lot (bot/services/queue_position.py)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render
from bot.models import Adviser, Conversation, Message, Shift, Ticket, TicketEvent
from bot.services import events, queue_position, shifts
from bot.services.queue_position import Estimate, describe, do_queue_updates, standing
from bot.services.tickets import do_claim, do_handoff
from bot.services.topics import choose_queue
from integrations.telegram import worker as telegram_worker
from integrations.webchat import live
from tests import factories as f
from tests.conftest import running_hub
from tests.telegram_api import BotApi, message_update
from tests.test_chat_decisions import rasa_deciding
from tests.test_telegram import Running, start_worker
from tests.test_waiting_contact import HANDOFF

HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
QUEUE = "jobseeker_espoo"
# Tuesday 8 December 2026, 12:00 in Helsinki: the advisory is open
NOON = datetime(2026, 12, 8, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Session]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else settings.database_url
    migrate(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _staff(db: Session, starts: datetime, ends: datetime, queue: str = QUEUE) -> None:
    db.add(Shift(city="espoo", queue=queue, channel=None, starts_at=starts, ends_at=ends))
    db.commit()


def _waiting(db: Session, name: str, at: datetime, *, channel: str = "web", language: str = "fi",
             priority: int | None = None) -> Ticket:
    conversation = f.conversation(db, name.ljust(32, "0"), language=language, channel=channel)
    return do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic=None, now=at, hours=HOURS,
                      home_area="espoo", reopen_days=7, priority=priority).ticket


def _claimed_at(db: Session, name: str, at: datetime) -> None:
    """A ticket of the queue that an adviser took at `at` (today's claims are the estimate's data)."""
    ticket = _waiting(db, name, at - timedelta(minutes=30))
    ticket.status, ticket.claimed_at = "claimed", at
    db.commit()


# ---- the estimate, from seeded claim times ----

def test_known_gaps_between_claims_give_a_known_range_in_finnish_and_arabic(db: Session) -> None:
    _staff(db, NOON - timedelta(hours=4), NOON + timedelta(hours=4))
    for minutes in (20, 15, 10, 5):  # a claim every five minutes
        _claimed_at(db, f"claimed-{minutes}", NOON - timedelta(minutes=minutes))
    for n in (1, 2):
        _waiting(db, f"earlier-{n}", NOON - timedelta(minutes=10 - n))
    mine = _waiting(db, "mine", NOON - timedelta(minutes=1))
    where = standing(db, mine, NOON, HOURS)
    assert where is not None and where.position == 3
    assert where.estimate == Estimate("range", 10, 20)  # 3 × 5 minutes = 15: said as "about 10–20"
    fi = describe(where, "fi")
    assert fi == "Olet jonossa sijalla 3. Odotusaika on noin 10–20 minuuttia."
    ar = describe(where, "ar")
    assert ar == (render("sys_queue_place", "ar", position="3").text + " "
                  + render("sys_queue_wait_range", "ar", low="10", high="20").text)
    assert "بين 10 و20" in ar and "10–20" not in ar  # Arabic says the range in words (right to left)
    # the one ahead of it is nearer: 2 × 5 = 10 minutes is the next band's start
    first = db.scalars(select(Ticket).where(Ticket.status == "queued").order_by(Ticket.created_at)).first()
    assert first is not None
    ahead = standing(db, first, NOON, HOURS)
    assert ahead is not None and ahead.position == 1 and ahead.estimate == Estimate("range", 5, 10)
    assert describe(ahead, "fi").startswith(render("sys_queue_next", "fi").text)


def test_a_desk_gone_quiet_lengthens_the_estimate(db: Session) -> None:
    _staff(db, NOON - timedelta(hours=4), NOON + timedelta(hours=4))
    for minutes in (95, 90, 85, 80):  # brisk at first, nothing for 80 minutes since
        _claimed_at(db, f"quiet-{minutes}", NOON - timedelta(minutes=minutes))
    mine = _waiting(db, "mine-quiet", NOON - timedelta(minutes=1))
    where = standing(db, mine, NOON, HOURS)
    assert where is not None and where.position == 1
    assert where.estimate != Estimate("short")  # not "under 5 minutes" after 80 quiet minutes
    assert where.estimate.kind in ("range", "long") and where.estimate.low >= 5


def test_with_too_few_claims_today_we_say_we_cannot_estimate_yet(db: Session) -> None:
    _staff(db, NOON - timedelta(hours=4), NOON + timedelta(hours=4))
    _claimed_at(db, "yesterday-1", NOON - timedelta(days=1))  # yesterday's pace does not count
    _claimed_at(db, "yesterday-2", NOON - timedelta(days=1, minutes=5))
    _claimed_at(db, "today-1", NOON - timedelta(minutes=30))
    _claimed_at(db, "today-2", NOON - timedelta(minutes=20))
    mine = _waiting(db, "mine-unknown", NOON - timedelta(minutes=1))
    where = standing(db, mine, NOON, HOURS)
    assert where is not None and where.estimate == Estimate("unknown")
    assert describe(where, "fi").endswith(render("sys_queue_wait_unknown", "fi").text)
    assert describe(where, "ar").endswith(render("sys_queue_wait_unknown", "ar").text)
    _claimed_at(db, "today-3", NOON - timedelta(minutes=10))  # the third claim of the day: an estimate
    where = standing(db, mine, NOON, HOURS)
    assert where is not None and where.estimate.kind == "range"


def test_outside_opening_hours_the_customer_hears_when_the_advisory_opens(db: Session) -> None:
    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=timezone.utc)  # 13:00 in Helsinki, nobody on shift
    _waiting(db, "weekend-earlier", saturday - timedelta(hours=2))
    mine = _waiting(db, "weekend-mine", saturday - timedelta(minutes=5), language="ar")
    where = standing(db, mine, saturday, HOURS)
    monday = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc)  # 08:00 in Helsinki
    assert where is not None and where.position == 2 and where.estimate == Estimate("closed", opens_at=monday)
    assert describe(where, "fi") == "Olet jonossa sijalla 2. Neuvonta avautuu maanantai 07.12.2026 08:00 (Suomen aikaa)."
    ar = describe(where, "ar")
    assert ar.startswith(render("sys_queue_place", "ar", position="2").text) and "07.12.2026 08:00" in ar
    # the hand-off's own notice names the opening time already: the place is added, not said twice
    assert describe(where, "fi", opening=False) == "Olet jonossa sijalla 2."


def test_the_place_follows_the_claim_order_priority_then_age_over_every_channel(db: Session) -> None:
    _staff(db, NOON - timedelta(hours=4), NOON + timedelta(hours=4))
    _waiting(db, "old-email", NOON - timedelta(minutes=50), channel="email")
    mine = _waiting(db, "mine-order", NOON - timedelta(minutes=40))
    urgent = _waiting(db, "later-urgent", NOON - timedelta(minutes=5), priority=5)
    _waiting(db, "later-plain", NOON - timedelta(minutes=4))
    where = standing(db, mine, NOON, HOURS)
    assert where is not None and where.position == 3  # the older e-mail and the urgent one come first
    urgent_where = standing(db, urgent, NOON, HOURS)
    assert urgent_where is not None and urgent_where.position == 1
    # the board, read for every waiting ticket at once, agrees
    board = queue_position.read_board(db, NOON, HOURS)
    mine_board = board.of(mine.conversation_id)
    assert mine_board is not None and mine_board.position == 3
    assert {s.channel for s in board.by_conversation.values()} == {"web"}  # e-mail customers are not told


# ---- Telegram: what changes "a lot", and not more often than the interval (the service) ----

def test_a_telegram_message_only_when_the_standing_changes_a_lot(db: Session) -> None:
    _staff(db, NOON - timedelta(hours=4), NOON + timedelta(hours=4))
    earlier = [_waiting(db, f"tg-earlier-{n}", NOON - timedelta(minutes=60 - n)) for n in range(6)]
    mine = _waiting(db, "8899", NOON - timedelta(minutes=10), channel="telegram", language="ar")
    adviser = f.adviser(db, "espoo.queue", languages="fi,en", max_open=50)

    def pending() -> list[Message]:
        return list(db.scalars(select(Message).where(Message.conversation_id == mine.conversation_id,
                                                     Message.status == "pending").order_by(Message.id)))

    assert do_queue_updates(db, NOON, HOURS) == 0  # first seen: noted silently (the hand-off told the place)
    told = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == mine.id, TicketEvent.kind == "queue_told")).one()
    assert told.data == {"position": 7, "kind": "unknown", "band": -1, "sent": False}
    do_claim(db, earlier[0].id, adviser, NOON + timedelta(minutes=1))  # 7 → 6: a small change
    assert do_queue_updates(db, NOON + timedelta(minutes=6), HOURS) == 0 and pending() == []
    for ticket in earlier[1:4]:  # 6 → 3: halved
        do_claim(db, ticket.id, adviser, NOON + timedelta(minutes=2))
    assert do_queue_updates(db, NOON + timedelta(minutes=3), HOURS) == 0  # within 5 minutes of the last note: not yet
    assert do_queue_updates(db, NOON + timedelta(minutes=7), HOURS) == 1
    [message] = pending()
    assert message.sender == "system" and message.language == "ar"
    assert message.text.startswith(render("sys_queue_place", "ar", position="3").text)
    do_claim(db, earlier[4].id, adviser, NOON + timedelta(minutes=8))  # 3 → 2: small again
    assert do_queue_updates(db, NOON + timedelta(minutes=20), HOURS) == 0
    do_claim(db, earlier[5].id, adviser, NOON + timedelta(minutes=21))  # next in line
    assert do_queue_updates(db, NOON + timedelta(minutes=22), HOURS) == 1
    assert do_queue_updates(db, NOON + timedelta(minutes=40), HOURS) == 0  # said once
    assert pending()[-1].text.startswith(render("sys_queue_next", "ar").text)


# ---- the web chat: the stream's status line follows the claims ----

@dataclass
class QueueStream:
    statuses: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, wanted: object, timeout: float = 5.0) -> None:
        with self.changed:
            ok = self.changed.wait_for(lambda: bool(self.statuses) and self.statuses[-1].get("position") == wanted,
                                       timeout)
        assert ok, f"the status line never showed {wanted!r}: {self.statuses}"


@contextmanager
def queue_stream(base: str, app: object, cid: str, conversation_id: str) -> Iterator[QueueStream]:
    stream = QueueStream()
    opened: list[socket.socket] = []

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError), \
                httpx.stream("GET", f"{base}/api/chat/{cid}/events", timeout=60) as response:
            assert response.status_code == 200
            opened.append(response.extensions["network_stream"].get_extra_info("socket"))
            kind = "message"
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    if kind == "queue":
                        with stream.changed:
                            stream.statuses.append(json.loads(line[6:]))
                            stream.changed.notify_all()
                    kind = "message"

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    bus = app.state.events  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while bus.listeners(events.DESK) == 0 or bus.listeners(events.conversation_key(conversation_id)) == 0:
        assert time.monotonic() < deadline, "the stream never listened to the desk"
        time.sleep(0.01)
    try:
        yield stream
    finally:
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        reader.join(5)


@pytest.fixture
def slow_safety_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the desk's notification can move the status line within the waits below."""
    monkeypatch.setattr(live, "SAFETY_POLL_SECONDS", 30.0)


def _desk(app: object, customers: int, name: str) -> tuple[list[str], list[str]]:
    """Three earlier tickets, then `customers` web customers waiting; an Espoo adviser on shift."""
    with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", QUEUE)
        f.adviser(db, f"espoo.{name}", languages="fi,en", max_open=500)
        for n in range(3):
            _waiting(db, f"{name}-earlier-{n}", f.now() - timedelta(minutes=30 - n))
        cids, conversation_ids = [], []
        for n in range(customers):
            ticket = _waiting(db, f"{name}-web-{n:03d}", f.now() - timedelta(minutes=20 - n / 100))
            cids.append(f"{name}-web-{n:03d}".ljust(32, "0"))
            conversation_ids.append(ticket.conversation_id)
    return cids, conversation_ids


def _auth(base: str, username: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/auth/token", data={"username": username, "password": f.PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_the_web_chat_stream_shows_the_place_move_as_earlier_tickets_are_claimed(
        settings: Settings, slow_safety_poll: None) -> None:
    with running_hub(settings) as (base, app):
        [cid], [conversation_id] = _desk(app, 1, "qs")
        auth = _auth(base, "espoo.qs")
        with queue_stream(base, app, cid, conversation_id) as stream:
            stream.wait_for(4)
            assert stream.statuses[-1]["text"] == (render("sys_queue_place", "fi", position="4").text + " "
                                                   + render("sys_queue_wait_unknown", "fi").text)
            for place in (3, 2, 1):
                claimed = httpx.post(f"{base}/api/tickets/claim", headers=auth)
                assert claimed.status_code == 200, claimed.text
                stream.wait_for(place, timeout=2.0)
            assert stream.statuses[-1]["text"].startswith(render("sys_queue_next", "fi").text)
            # three claims today: from here on an estimate
            assert not stream.statuses[-1]["text"].endswith(render("sys_queue_wait_unknown", "fi").text)
            # the customer's own ticket is claimed: the status line empties
            assert httpx.post(f"{base}/api/tickets/claim", headers=auth).status_code == 200
            stream.wait_for(None, timeout=2.0)
            assert stream.statuses[-1] == {"position": None, "text": ""}
        # one status per change, never a repeat
        assert [s["position"] for s in stream.statuses] == [4, 3, 2, 1, None]


def test_twenty_streams_share_one_board_per_claim(settings: Settings, slow_safety_poll: None) -> None:
    with running_hub(settings) as (base, app):
        cids, conversation_ids = _desk(app, 20, "qm")
        auth = _auth(base, "espoo.qm")
        with contextlib.ExitStack() as stack:
            streams = [stack.enter_context(queue_stream(base, app, c, k)) for c, k in zip(cids, conversation_ids,
                                                                                          strict=True)]
            for n, stream in enumerate(streams):
                stream.wait_for(4 + n)
            board = app.state.queue_board  # type: ignore[attr-defined]
            before = board.reads
            for claim in range(3):
                assert httpx.post(f"{base}/api/tickets/claim", headers=auth).status_code == 200
                for n, stream in enumerate(streams):
                    stream.wait_for(4 + n - claim - 1)
            # 20 streams woken three times: a board per claim (and one per change of the claims'
            # own audit commits at most), never one per stream
            assert board.reads - before <= 6, board.reads - before


# ---- Telegram: through the worker and the local Bot API ----

@pytest.fixture
def tg(api: BotApi, tg_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setattr(telegram_worker, "QUEUE_PASS_SECONDS", 0.2)
    monkeypatch.setattr(telegram_worker, "QUEUE_MESSAGE_INTERVAL", timedelta(0))
    with rasa_deciding(lambda _body: HANDOFF) as rasa_url:
        running = start_worker(api, tg_settings.model_copy(update={"rasa_url": rasa_url}))
        try:
            yield running
        finally:
            running.stop()


def test_telegram_hears_when_the_place_changes_a_lot_and_not_for_a_small_change(tg: Running) -> None:
    chat = 8810
    queue = choose_queue(HANDOFF["topic"], HANDOFF["reason"], tg.settings.home_area)
    with tg.db() as db:
        f.shift(db, "espoo", queue)
        adviser_id = f.adviser(db, "espoo.tgqueue", languages="fi,en", max_open=50).id
        earlier = [_waiting(db, f"tgq-earlier-{n}", f.now() - timedelta(minutes=60 - n)).id for n in range(6)]
    tg.api.push(message_update(chat, "Я хочу поговорить с консультантом", language_code="ru"))
    handed = tg.api.wait_sent(chat, 2)[-1]
    assert render("sys_queue_place", "ru", position="7").text in handed["text"]  # the hand-off says the place
    with tg.db() as db:
        mine = db.scalars(select(Ticket).join(Conversation, Conversation.id == Ticket.conversation_id)
                          .where(Conversation.external_id == str(chat))).one().id

    def noted() -> int:
        with tg.db() as db:
            return len(db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == mine,
                                                            TicketEvent.kind == "queue_told")).all())

    tg.api.wait_for(lambda: noted() == 1, what="the first look at the new ticket's place")

    def claim(ticket_id: str) -> None:
        with tg.db() as db:
            holder = db.get(Adviser, adviser_id)
            assert holder is not None
            do_claim(db, ticket_id, holder, f.now())

    claim(earlier[0])  # 7 → 6: no message
    time.sleep(1.0)  # several passes
    assert len(tg.api.sent(chat)) == 2 and noted() == 1
    for ticket_id in earlier[1:4]:  # 6 → 3: halved
        claim(ticket_id)
    update = tg.api.wait_sent(chat, 3)[-1]
    assert update["text"].startswith(render("sys_queue_place", "ru", position="3").text)
    assert "reply_markup" not in update or not update["reply_markup"]
    def last_status() -> str:
        with tg.db() as db:
            sent = db.scalars(select(Message).where(Message.conversation_id == db.get(Ticket, mine).conversation_id,  # type: ignore[union-attr]
                                                    Message.sender == "system")).all()
            return sent[-1].status

    # through the outbox, like every Telegram message: marked sent once the Bot API has confirmed
    # it, a moment after the stand-in API recorded the call
    tg.api.wait_for(lambda: last_status() == "sent", what="the place update marked sent")
    claim(earlier[4])  # 3 → 2: no message
    time.sleep(1.0)
    assert len(tg.api.sent(chat)) == 3
