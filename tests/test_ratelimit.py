"""bot/api/ratelimit.py: a script cannot flood the assistant or the queues through POST /api/chat."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.ratelimit import ChatLimits, SlidingWindow, is_loopback
from bot.app import create_app
from bot.config import Settings
from bot.locales import render


def test_sliding_window() -> None:
    window = SlidingWindow(3, seconds=60)
    assert [window.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert window.allow("b", now=3)  # another key has its own window
    assert window.allow("a", now=60.5)  # the first event has left the window


def test_loopback_is_exempt_from_the_address_limit_but_not_from_the_conversation_limit() -> None:
    limits = ChatLimits(per_conversation=2, per_address=2)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("192.0.2.7")
    assert all(limits.allow(f"c{n}", "127.0.0.1", now=0) for n in range(10))
    assert [limits.allow(f"d{n}", "192.0.2.7", now=0) for n in range(3)] == [True, True, False]
    assert [limits.allow("same", "127.0.0.1", now=1) for _ in range(3)] == [True, True, False]


def test_too_many_messages_get_a_429_in_the_customers_language(tmp_path: Path, dead_rasa_url: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", rasa_url=dead_rasa_url,
                        chat_rate_per_conversation=3, chat_rate_per_address=5)
    with TestClient(create_app(settings)) as client:
        statuses = [client.post("/api/chat", json={"conversation_id": "flood", "text": "Hei, tarvitsen apua työnhakuun"})
                    for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        body = statuses[-1].json()
        assert body["error"]["code"] == "too_many_messages"
        assert body["error"]["message"] == render("sys_error_rate_limited", "fi").text
        # new conversation ids from the same (non-loopback) address do not get round it
        more = [client.post("/api/chat", json={"conversation_id": f"new{n}", "text": "hello there"}).status_code
                for n in range(3)]
        assert more == [200, 200, 429]
