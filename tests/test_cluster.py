"""Two of everything, one of each killed under load, nothing lost (issue 16).

`luotsi run --hubs 2 --rasa 2` as the Stack starts it: HAProxy in front of two hubs and two Rasa
servers, on PostgreSQL and Redis. 200 conversations in eight languages — some in the middle of a
self-assessment, some handed to advisers who claim and reply on both hubs — while one hub and one
Rasa server are killed with SIGKILL and started again. Afterwards every message that got a 200 is
stored exactly once, every ticket had one holder at a time, every adviser reply is in its
customer's stream exactly once, and the interrupted self-assessments continue. Telegram customers
(the worker against a local Bot API) are in the load: nothing is sent to them twice. Then Redis
goes away (a cut forwarder in front of it): the hubs and Rasa keep answering, live updates fall
back to polling, and everything works again when it is back."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bot.cli import Stack
from bot.config import Settings
from bot.models import Conversation, Message, Ticket, TicketEvent
from tests import factories as f
from tests.conftest import _model
from tests.tcp_proxy import ProxyProcess
from tests.telegram_api import BotApi, callback_update, message_update, running_bot_api

pytestmark = [pytest.mark.rasa]

QUESTIONS = {
    "fi": "Miten ilmoittaudun työnhakijaksi?", "sv": "Hur anmäler jag mig som arbetssökande?",
    "en": "How do I register as a jobseeker?", "ru": "Как зарегистрироваться в качестве ищущего работу?",
    "uk": "Як зареєструватися як шукач роботи?", "et": "Kuidas end tööotsijaks registreerida?",
    "ar": "كيف أسجل كباحث عن عمل؟", "so": "Sidee isku diiwaangeliyaa shaqo raadiye ahaan?",
}
HUMAN = {"fi": "Haluan puhua ihmisen kanssa", "sv": "Jag vill prata med en människa", "en": "I want to talk to a person",
         "ru": "Я хочу поговорить с человеком", "uk": "Я хочу поговорити з людиною",
         "et": "Ma tahan inimesega rääkida", "ar": "أريد التحدث مع موظف", "so": "Waxaan rabaa inaan la hadlo qof"}


def _free_block(n: int) -> int:
    """A port p with p … p+n-1 all free."""
    for _ in range(200):
        base = random.randint(20000, 32000)  # below the ephemeral range (32768+) clients take ports from
        ok = True
        for port in range(base, base + n):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports")


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[tuple[Stack, ProxyProcess, BotApi]]:
    redis_db = 9
    redis.Redis(host="127.0.0.1", port=6379, db=redis_db).flushdb()
    cache = ProxyProcess(("127.0.0.1", 6379))  # Redis as the cluster sees it: can be cut
    with running_bot_api() as bot_api:  # its own Bot API: no other stack's worker polls it
        settings = Settings(database_url=pg_url, redis_url=f"redis://127.0.0.1:{cache.port}/{redis_db}",
                            http_port=_free_block(3), rasa_url=f"http://127.0.0.1:{_free_block(3)}",
                            actions_port=_free_block(1), smtp_port=_free_block(1), rasa_timeout=5.0,
                            telegram_token=bot_api.token, telegram_api_url=bot_api.url, telegram_poll_timeout=1)
        stack = Stack(settings=settings, model=_model(), log_dir=tmp_path / "logs", hubs=2, rasas=2)
        stack.start()
        try:
            stack.wait_ready(timeout=600)
            yield stack, cache, bot_api
        except BaseException:
            for log in sorted((tmp_path / "logs").glob("*.log")):
                print(f"--- {log.name} ---\n{log.read_text(errors='replace')[-2500:]}")
            raise
        finally:
            stack.stop()
            cache.stop()


class Load:
    """The customers: what each sent and what got a 200."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=30)
        self.acked: dict[str, list[str]] = {}  # conversation key → texts answered with 200
        self.sent: dict[str, list[str]] = {}  # conversation key → every text sent
        self.failed = 0
        self.lock = threading.Lock()

    def say(self, cid: str, text: str) -> dict | None:  # type: ignore[type-arg]
        with self.lock:
            self.sent.setdefault(cid, []).append(text)
        try:
            r = self.client.post(f"{self.url}/api/chat", json={"conversation_id": cid, "text": text})
        except httpx.HTTPError:
            with self.lock:
                self.failed += 1
            return None
        if r.status_code != 200:
            with self.lock:
                self.failed += 1
            return None
        with self.lock:
            self.acked.setdefault(cid, []).append(text)
        return dict(r.json())


def _conversation(load: Load, n: int, kind: str, language: str) -> tuple[str, str]:
    cid = f"cl-{n}-{uuid.uuid4().hex[:8]}"
    if kind == "assessment":
        first = load.say(cid, "i want to test my finnish level")
        if first is None or "12" not in "\n".join(r["text"] for r in first["replies"]):
            return cid, "assessment_not_started"  # its first turn met the killed processes
        for answer in ("yes", "no", "no")[: 1 + n % 3]:
            load.say(cid, answer)
    elif kind == "handoff":
        load.say(cid, f"{QUESTIONS[language]} ({n})")
        load.say(cid, HUMAN[language])
        load.say(cid, f"{n}: kiitos / thanks")  # kept for the adviser while the ticket waits
    else:
        load.say(cid, f"{QUESTIONS[language]} ({n})")
        load.say(cid, f"{QUESTIONS[language]} ({n}, again)")
    return cid, kind


def _advisers(stack: Stack, stop: threading.Event, replies: list[str]) -> None:
    """Two advisers, one on each hub directly, claiming and replying until told to stop."""
    tokens = []
    for port, name in zip(stack.hub_ports(), ("cl.adviser1", "cl.adviser2")):
        r = httpx.post(f"http://127.0.0.1:{port}/api/auth/token", data={"username": name, "password": f.PASSWORD})
        tokens.append((port, r.json()["access_token"]))

    def work(port: int, token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    r = client.post(f"http://127.0.0.1:{port}/api/tickets/claim", headers=auth)
                    if r.status_code != 200 or r.json() is None:
                        time.sleep(0.3)
                        continue
                    ticket = r.json()["id"]
                    reply = f"Adviser answer for {ticket}"
                    r = client.post(f"http://127.0.0.1:{port}/api/tickets/{ticket}/reply", headers=auth,
                                    json={"text": reply})
                    if r.status_code == 200:
                        replies.append(ticket)
                except httpx.HTTPError:
                    time.sleep(0.5)  # this hub is being killed: it comes back

    threads = [threading.Thread(target=work, args=pair, daemon=True) for pair in tokens]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(timeout=15)


def _stream(url: str, cid: str) -> list[dict]:  # type: ignore[type-arg]
    """Everything the customer's live stream sends for the conversation, read for a moment."""
    out: list[dict] = []  # type: ignore[type-arg]
    try:
        with httpx.stream("GET", f"{url}/api/chat/{cid}/events", params={"after": 0}, timeout=3) as r:
            started = time.monotonic()
            for line in r.iter_lines():
                if line.startswith("data: "):
                    out.append(json.loads(line[6:]))
                if time.monotonic() - started > 1.5:
                    break
    except httpx.ReadTimeout:
        pass
    return out


TELEGRAM_CHATS = [(880_100 + n, lang) for n, lang in enumerate(list(QUESTIONS) * 2)]  # 16 chats


def _telegram_customers(bot_api: BotApi) -> None:
    """Each chat picks its language, asks, and asks for a person (the worker keeps each chat's order)."""
    for chat, language in TELEGRAM_CHATS:
        bot_api.push(message_update(chat, "/start", language_code=language),
                     callback_update(chat, f"lang:{language}", language_code=language),
                     message_update(chat, QUESTIONS[language], language_code=language),
                     message_update(chat, HUMAN[language], language_code=language))


def test_two_hubs_two_rasa_one_of_each_killed_nothing_lost(cluster: tuple[Stack, ProxyProcess, BotApi]) -> None:
    stack, cache, bot_api = cluster
    url = stack.hub_url
    engine = create_engine(stack.settings.database_url)
    with Session(engine) as db:
        for name in ("cl.adviser1", "cl.adviser2"):
            f.adviser(db, name, languages="fi,sv,en,ru,uk,et,ar,so", max_open=500)
    f.staff_the_stack(stack.settings.database_url, "cl.adviser0")

    load = Load(url)
    stop, replies = threading.Event(), []  # type: ignore[var-annotated]
    desk = threading.Thread(target=_advisers, args=(stack, stop, replies), daemon=True)
    desk.start()
    languages = list(QUESTIONS)
    kinds = ["assessment", "handoff", "question", "question"]
    plan = [(n, kinds[n % 4], languages[n % 8]) for n in range(200)]
    done: list[tuple[str, str]] = []

    def customers() -> None:
        # 12 at once: with 24 on two cores most turns met the turn gate's busy answer (by design),
        # and too few assessments and hand-offs were left for the checks below
        with ThreadPoolExecutor(max_workers=12) as pool:
            for result in pool.map(lambda p: _conversation(load, *p), plan):
                done.append(result)

    # The load runs in a thread; the kills and restarts happen here, in the thread that started the
    # stack (the children die with the thread that spawned them: PR_SET_PDEATHSIG).
    traffic = threading.Thread(target=customers)
    traffic.start()
    _telegram_customers(bot_api)
    while len(done) < 40 and traffic.is_alive():
        time.sleep(0.1)
    stack.halt("hub1", kill=True)
    stack.halt("rasa1", kill=True)
    time.sleep(3)
    stack.respawn("hub1")
    stack.respawn("rasa1")
    traffic.join(timeout=600)
    assert len(done) == 200
    stack.wait_ready(timeout=600)  # the killed ones are back
    time.sleep(3)  # the advisers finish what they hold
    stop.set()
    desk.join(timeout=30)

    acked = sum(len(v) for v in load.acked.values())
    # the turns in flight on the killed hub fail (the balancer cannot know whether they were stored);
    # everything else is answered
    assert acked >= 400 and load.failed <= 0.1 * (acked + load.failed), (acked, load.failed)
    print(f"cluster: {acked} turns answered, {load.failed} failed while hub1 and rasa1 were killed")
    with Session(engine) as db:
        by_key = {c.external_id: c.id for c in db.scalars(select(Conversation).where(Conversation.channel == "web"))}
        # every message that got a 200 is stored exactly once; one that failed (it reached the hub that
        # was killed) may be stored or not, but nothing is stored more often than it was sent
        for key, texts in load.sent.items():
            stored = Counter(db.scalars(select(Message.text).where(Message.conversation_id == by_key.get(key, ""),
                                                                   Message.sender == "customer")))
            acked, sent = Counter(load.acked.get(key, [])), Counter(texts)
            for text_ in sent:
                assert acked[text_] <= stored[text_] <= sent[text_], (key, text_, acked, stored, sent)
        # every ticket was claimed by one adviser at a time: one claim each, and the holder is it
        claims = Counter(db.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "claimed")))
        assert claims and max(claims.values()) == 1
        tickets = db.scalars(select(Ticket).where(Ticket.channel == "web")).all()
        assert all(t.assigned_to is not None for t in tickets if t.id in claims)
        replied = db.execute(select(Ticket.id, Ticket.conversation_id).where(Ticket.id.in_(replies),
                                                                              Ticket.channel == "web")).all()
        kept = db.scalar(select(func.count()).select_from(Message).where(Message.status == "kept"))
        print(f"cluster: {kept} messages kept with the busy answer")
        # Rasa's state is in PostgreSQL, not in either Rasa's memory
        assert db.execute(text("SELECT count(DISTINCT sender_id) FROM events")).scalar_one() >= 150
        sent = Counter(db.scalars(select(Message.text).where(Message.sender == "adviser")))
        assert max(sent.values()) == 1  # no reply stored twice
        assert all(sent[f"Adviser answer for {t}"] == 1 for t in replies)

    # every adviser reply reached its customer's stream exactly once (through the balancer)
    assert replied, "no adviser replied"
    for ticket_id, conversation_id in replied[:40]:
        key = next(k for k, v in by_key.items() if v == conversation_id)
        events = _stream(url, key)
        mine = [e for e in events if e.get("sender") == "adviser" and ticket_id in str(e.get("text"))]
        assert len(mine) == 1, (ticket_id, events)

    # Telegram: every chat was handed to the advisers; every message the worker sent went out once
    # (each successful sendMessage is one stored message marked sent, and each adviser reply once)
    handed_off = 0
    with Session(engine) as db:
        for chat, _language in TELEGRAM_CHATS:
            sent_texts = Counter(p["text"] for p in bot_api.sent(chat))
            conversation = db.scalars(select(Conversation.id).where(Conversation.channel == "telegram",
                                                                    Conversation.external_id == str(chat))).one()
            stored = db.scalars(select(Message.text).where(Message.conversation_id == conversation,
                                                           Message.sender != "customer",
                                                           Message.status == "sent")).all()
            assert sum(sent_texts.values()) == len(stored), (chat, sent_texts, stored)
            if db.scalars(select(Ticket.id).where(Ticket.conversation_id == conversation)).first():
                handed_off += 1
        telegram_replies = db.scalars(select(Ticket.id).where(Ticket.id.in_(replies),
                                                              Ticket.channel == "telegram")).all()
    # a turn that met the killed Rasa is answered "not available now" instead of handing off
    assert handed_off >= len(TELEGRAM_CHATS) * 3 // 4, handed_off
    assert telegram_replies, "no adviser answered a Telegram customer"
    for ticket_id in telegram_replies:  # each reply went out exactly once (with the adviser's title)
        bot_api.wait_for(lambda t=ticket_id: any(f"Adviser answer for {t}" in p["text"] for p in bot_api.sent()),
                         timeout=30, what=f"the reply to {ticket_id}")
        assert sum(f"Adviser answer for {ticket_id}" in p["text"] for p in bot_api.sent()) == 1

    # the interrupted self-assessments continue where they were
    for key, kind in done:
        if kind != "assessment" or key not in load.acked:
            continue
        turn = load.say(key, "no")
        assert turn is not None
        said = "\n".join(r["text"] for r in turn["replies"])
        assert "/12" in said or "12" in said, (key, said)

    _redis_down(stack, cache, engine)
    engine.dispose()


def _redis_down(stack: Stack, cache: ProxyProcess, engine) -> None:  # type: ignore[no-untyped-def]
    """Redis goes away: the hubs answer (Rasa's locks fall back to each Rasa process, live updates
    to the streams' safety poll), an adviser's reply still reaches the stream; Redis comes back."""
    url = stack.hub_url
    cache.down()
    load = Load(url)
    started = time.monotonic()
    turns = [load.say(f"rd-{n}-{uuid.uuid4().hex[:6]}", QUESTIONS[lang]) for n, lang in enumerate(QUESTIONS)]
    print(f"redis down: {sum(t is not None for t in turns)} of {len(turns)} turns answered "
          f"in {time.monotonic() - started:.1f} s")
    assert all(t is not None for t in turns), load.failed
    unavailable = {_text("sys_unavailable", lang) for lang in QUESTIONS}
    assert not [t for t in turns if t and any(r["text"] in unavailable for r in t["replies"])]
    # an adviser's reply reaches the customer's stream without Redis's pub/sub
    key = f"rd-handoff-{uuid.uuid4().hex[:6]}"
    assert load.say(key, HUMAN["en"]) is not None
    with Session(engine) as db:
        conversation = db.scalars(select(Conversation.id).where(Conversation.external_id == key)).one()
        ticket = db.scalars(select(Ticket.id).where(Ticket.conversation_id == conversation)).one()
    port = stack.hub_ports()[0]
    token = httpx.post(f"http://127.0.0.1:{port}/api/auth/token",
                       data={"username": "cl.adviser1", "password": f.PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"http://127.0.0.1:{port}/api/tickets/{ticket}/claim", headers=auth).status_code == 200
    assert httpx.post(f"http://127.0.0.1:{port}/api/tickets/{ticket}/reply", headers=auth,
                      json={"text": "Redis is down, this still arrives"}).status_code == 200
    assert [e for e in _stream(url, key) if e.get("text") == "Redis is down, this still arrives"]
    cache.up()
    time.sleep(6)  # Rasa asks Redis again after its pause
    again = Load(url)
    assert all(again.say(f"ru-{n}-{uuid.uuid4().hex[:6]}", QUESTIONS[lang]) is not None
               for n, lang in enumerate(QUESTIONS))
    assert redis.Redis(host="127.0.0.1", port=6379, db=9).ping()


def _text(key: str, language: str) -> str:
    from bot.locales import render

    return render(key, language).text
