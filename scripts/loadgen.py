"""A closed-loop asyncio load generator for the chat benchmarks (scripts/bench.py).

Each simulated customer opens a fresh conversation, asks "how do I register as a jobseeker" in
one of the eight languages a few times, then opens the next conversation; `customers` of them run
at once on one event loop with `httpx.AsyncClient`s, so the generator costs little CPU beside
the stack it measures. (Customers are spread over several clients of at most 32 connections each:
httpx's connection pool does work proportional to its number of connections on every request —
11 ms of CPU per request with 256 connections in one client against 1.3 ms spread over eight,
measured here; encode/httpx#3215.) Every request becomes a `Sample`: its latency (a time-out counts as the
time waited), its HTTP status, and what it was — an answer, the hub's "busy" or "unavailable"
text (recognised from the catalogues), or an error.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx
import yaml

# "How do I register as a jobseeker?" as a customer would type it, one phrasing per language.
QUESTIONS: dict[str, str] = {
    "fi": "Miten ilmoittaudun työnhakijaksi?",
    "sv": "Hur anmäler jag mig som arbetssökande?",
    "en": "How do I register as a jobseeker?",
    "ru": "Как мне зарегистрироваться как ищущий работу?",
    "uk": "Як мені зареєструватися як шукач роботи?",
    "et": "Kuidas ma end tööotsijaks registreerin?",
    "ar": "كيف أسجل نفسي كباحث عن عمل؟",
    "so": "Sideen isugu diiwaangeliyaa qof shaqo raadinaya?",
}
LANGUAGES = tuple(QUESTIONS)

ANSWER, BUSY, UNAVAILABLE, ERROR = "answer", "busy", "unavailable", "error"
CONNECTIONS_PER_CLIENT = 32


class Clients:
    """Enough `httpx.AsyncClient`s for `customers` customers at CONNECTIONS_PER_CLIENT each."""

    def __init__(self, customers: int, timeout: float) -> None:
        self.count = max(1, -(-customers // CONNECTIONS_PER_CLIENT))
        self.timeout = timeout
        self._stack = AsyncExitStack()
        self.clients: list[httpx.AsyncClient] = []

    async def __aenter__(self) -> list[httpx.AsyncClient]:
        limits = httpx.Limits(max_connections=4 * CONNECTIONS_PER_CLIENT,
                              max_keepalive_connections=4 * CONNECTIONS_PER_CLIENT)
        for _ in range(self.count):
            client = httpx.AsyncClient(timeout=self.timeout, limits=limits)
            self.clients.append(await self._stack.enter_async_context(client))
        return self.clients

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


@dataclass(frozen=True)
class Sample:
    latency: float  # seconds, from just before the request to the end of the response body
    status: int | None  # None: no response (time-out, connection error)
    kind: str  # ANSWER, BUSY, UNAVAILABLE or ERROR
    error: str | None = None


Turn = Callable[[httpx.AsyncClient, str, str], Awaitable[Sample]]


class Catalogue:
    """Recognises the hub's own canned texts (`sys_busy`, `sys_unavailable`) in any language."""

    KEYS: ClassVar[dict[str, str]] = {BUSY: "sys_busy", UNAVAILABLE: "sys_unavailable"}

    def __init__(self, folder: Path) -> None:
        self.patterns: dict[str, list[re.Pattern[str]]] = {kind: [] for kind in self.KEYS}
        for path in sorted(folder.glob("*.yml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            responses = doc.get("responses") or {}
            for kind, key in self.KEYS.items():
                for text in _texts(responses.get(key)):
                    self.patterns[kind].append(_template_pattern(text))

    def has(self, kind: str) -> bool:
        return bool(self.patterns[kind])

    def classify(self, texts: list[str]) -> str:
        for kind in (BUSY, UNAVAILABLE):
            for text in texts:
                norm = _normalise(text)
                if any(p.search(norm) for p in self.patterns[kind]):
                    return kind
        return ANSWER


def _texts(entry: object) -> list[str]:
    if isinstance(entry, str):
        return [entry]
    if isinstance(entry, dict):
        return _texts(entry.get("text"))
    if isinstance(entry, list):  # variants
        return [t for item in entry for t in _texts(item)]
    return []


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _template_pattern(text: str) -> re.Pattern[str]:
    """`{placeholder}`s match anything; the rest must appear as written (whitespace aside)."""
    pieces = re.split(r"\{[A-Za-z_][A-Za-z0-9_]*\}", _normalise(text))
    return re.compile(".+?".join(re.escape(p) for p in pieces))


def hub_turn(base_url: str, catalogue: Catalogue) -> Turn:
    url = f"{base_url}/api/chat"

    async def turn(client: httpx.AsyncClient, conversation_id: str, text: str) -> Sample:
        return await _post(client, url, {"conversation_id": conversation_id, "text": text}, catalogue)

    return turn


def bare_turn(rasa_url: str) -> Turn:
    url = f"{rasa_url}/webhooks/rest/webhook"

    async def turn(client: httpx.AsyncClient, conversation_id: str, text: str) -> Sample:
        return await _post(client, url, {"sender": conversation_id, "message": text}, None)

    return turn


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, str], catalogue: Catalogue | None) -> Sample:
    t0 = time.perf_counter()
    try:
        r = await client.post(url, json=body)
    except httpx.TimeoutException:
        return Sample(time.perf_counter() - t0, None, ERROR, "time-out")
    except (httpx.HTTPError, OSError) as exc:
        return Sample(time.perf_counter() - t0, None, ERROR, type(exc).__name__)
    latency = time.perf_counter() - t0
    if r.status_code != 200:
        return Sample(latency, r.status_code, ERROR, f"HTTP {r.status_code}")
    try:
        data = r.json()
    except ValueError:
        return Sample(latency, 200, ERROR, "body not JSON")
    if catalogue is None:
        return Sample(latency, 200, ANSWER)
    texts = [str(reply.get("text") or "") for reply in data.get("replies") or [] if isinstance(reply, dict)]
    return Sample(latency, 200, catalogue.classify(texts))


@dataclass
class Level:
    path: str
    customers: int
    samples: list[Sample] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # the generator process's CPU seconds during the level
    stored: int | None = None  # customer messages found in the database afterwards
    recovery: float | None = None  # seconds until the hub answered /healthz again (overload levels)

    @property
    def sent(self) -> int:
        return len(self.samples)

    def count(self, kind: str) -> int:
        return sum(s.kind == kind for s in self.samples)

    @property
    def answers_per_second(self) -> float:
        return self.count(ANSWER) / self.wall if self.wall else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.sent / self.wall if self.wall else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of every request's latency (time-outs at the time waited)."""
        values = sorted(s.latency for s in self.samples)
        if not values:
            return float("nan")
        rank = max(1, -(-len(values) * q // 100))
        return values[int(rank) - 1] * 1000

    @property
    def within_2s(self) -> int:
        return sum(s.status == 200 and s.latency < 2.0 for s in self.samples)

    @property
    def lost(self) -> int | None:
        return None if self.stored is None else self.sent - self.stored

    def error_kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.samples:
            if s.error:
                out[s.error] = out.get(s.error, 0) + 1
        return out


async def run_level(
    clients: Sequence[httpx.AsyncClient], turn: Turn, *, path: str, customers: int, turns_per_conversation: int,
    seconds: float | None, turns: int | None, pause_after_failure: float,
) -> Level:
    """`customers` closed-loop customers until `turns` requests were sent (when given), else for
    `seconds`; requests in flight at the end are waited for and counted."""
    level = Level(path=path, customers=customers)
    budget = turns if turns is not None else -1
    started = time.perf_counter()
    deadline = started + (seconds or 0.0)

    def claim() -> bool:
        nonlocal budget
        if turns is not None:
            if budget <= 0:
                return False
            budget -= 1
            return True
        return time.perf_counter() < deadline

    async def customer(index: int) -> None:
        client = clients[index % len(clients)]
        n = index
        while True:
            conversation_id = uuid.uuid4().hex
            text = QUESTIONS[LANGUAGES[n % len(LANGUAGES)]]
            n += customers
            for i in range(turns_per_conversation):
                if not claim():
                    return
                if i == 0:
                    level.conversations.append(conversation_id)
                sample = await turn(client, conversation_id, text)
                level.samples.append(sample)
                if sample.kind != ANSWER and pause_after_failure > 0:
                    # a customer told "busy" (or who got nothing) does not resend at once
                    await asyncio.sleep(pause_after_failure)

    cpu0 = time.process_time()
    await asyncio.gather(*(customer(i) for i in range(customers)))
    level.wall = time.perf_counter() - started
    level.cpu = time.process_time() - cpu0
    return level
