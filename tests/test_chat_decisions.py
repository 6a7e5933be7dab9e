"""Decisions the assistant returns and the hub carries out in the same chat turn: a clarifying question
("did you mean", issue 14) and the callback form that ends in a ticket (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import Settings
from bot.locales import catalogues, render
from bot.services.conversations import clarify
from tests.factories import answers
from tests.http_stub import serving


def test_the_question_names_each_topic_in_the_customers_language() -> None:
    asked = clarify(["change_security", "recruiting_help"], "ru")
    assert asked.text == render("sys_clarify", "ru").text
    topics = catalogues()["ru"].topics
    assert [(b.title, b.payload) for b in asked.buttons] == [
        (topics["change_security"], "/change_security"), (topics["recruiting_help"], "/recruiting_help")]


def test_unknown_topics_are_dropped_and_none_left_asks_to_rephrase() -> None:
    assert [b.payload for b in clarify(["pay_subsidy", "<script>", 7, "pay_subsidy"], "fi").buttons] == ["/pay_subsidy"]
    assert clarify(["no_such_topic"], "so").text == render("utter_fallback", "so").text
    assert clarify("not a list", "en").text == render("utter_fallback", "en").text
    assert len(clarify(["pay_subsidy", "hiring_supports", "recruiting_help", "startup_grant"], "en").buttons) == 3


@contextmanager
def rasa_deciding(decide: Callable[[dict], dict]) -> Iterator[str]:  # type: ignore[type-arg]
    """Rasa's REST channel answering each message with one decision (`custom`) made by `decide`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps([{"custom": decide(body)}]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with serving(Handler) as url:
        yield url


@pytest.fixture
def clarifying_rasa() -> Iterator[str]:
    with rasa_deciding(lambda _body: {"luotsi": "clarify", "options": ["hiring_supports", "pay_subsidy"]}) as url:
        yield url


def test_the_chat_api_asks_back_with_buttons(settings: Settings, clarifying_rasa: str) -> None:
    with TestClient(create_app(settings.model_copy(update={"rasa_url": clarifying_rasa}))) as hub:
        turn = hub.post("/api/chat", json={"conversation_id": "c" * 32,
                                           "text": "какую помощь можно получить если взять человека на работу"}).json()
    replies = answers(turn["replies"])
    assert turn["language"] == "ru" and turn["ticket"] is None
    assert replies[0]["text"] == render("sys_clarify", "ru").text
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/hiring_supports", "/pay_subsidy"]


@pytest.fixture
def callback_rasa() -> Iterator[str]:
    """Rasa as it runs the callback form: the first message starts it, every later one is an answer."""
    seen: list[str] = []

    def decide(body: dict) -> dict:  # type: ignore[type-arg]
        seen.append(body["sender"])
        if seen.count(body["sender"]) == 1:
            return {"luotsi": "guidance", "text": None, "start": "callback", "role_hint": None, "topic": None}
        return {"luotsi": "guidance", "text": body["message"]}

    with rasa_deciding(decide) as url:
        yield url


def test_the_chat_turn_that_makes_a_callback_returns_its_ticket(settings: Settings, callback_rasa: str) -> None:
    """Issue 15: the turn's response names the callback ticket it made; a typed window is understood."""
    with TestClient(create_app(settings.model_copy(update={"rasa_url": callback_rasa}))) as hub:
        cid = "d" * 32
        asked = hub.post("/api/chat", json={"conversation_id": cid, "text": "voitteko soittaa minulle"}).json()
        assert answers(asked["replies"])[0]["text"] == render("sys_callback_ask_number", "fi").text
        window = hub.post("/api/chat", json={"conversation_id": cid, "text": "040 123 4567"}).json()
        assert window["ticket"] is None
        done = hub.post("/api/chat", json={"conversation_id": cid, "text": "aamupäivällä kiitos"}).json()
    assert done["ticket"] is not None and done["ticket"]["queue"] == "callbacks"
    assert "+358401234567" in done["replies"][0]["text"]
