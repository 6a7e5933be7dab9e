"""POST /api/chat without a running assistant: bad input, faults, and nothing lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.app import create_app
from bot.config import Settings
from tests.factories import answers


def _chat(client: TestClient, **body: object) -> tuple[int, dict]:
    r = client.post("/api/chat", json=body)
    return r.status_code, r.json()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"conversation_id": "c1", "text": ""}, 422, "empty_text"),
        ({"conversation_id": "c1", "text": "   \n\t "}, 422, "empty_text"),
        ({"conversation_id": "c1", "text": "x" * 5001}, 413, "text_too_long"),
        ({"conversation_id": "c1", "text": "hei\x00"}, 422, "control_characters"),
        ({"conversation_id": "c1", "text": "hei\x1b[2J"}, 422, "control_characters"),
        ({"conversation_id": "c1", "text": "hei", "locale": "klingon-XX"}, 422, "unknown_locale"),
        ({"conversation_id": "c1", "text": "hei", "locale": "zz"}, 422, "unknown_locale"),
        ({"text": "hei"}, 422, "missing_field"),
        ({"conversation_id": "", "text": "hei"}, 422, "invalid_conversation_id"),
        ({"conversation_id": "../../etc/passwd", "text": "hei"}, 422, "invalid_conversation_id"),
        ({"conversation_id": 5, "text": "hei"}, 422, "invalid_field"),
        ({"conversation_id": "c1", "text": ["hei"]}, 422, "invalid_field"),
    ],
)
def test_bad_input_is_a_clear_4xx(client: TestClient, body: dict, status: int, code: str) -> None:
    got, payload = _chat(client, **body)
    assert got == status
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]


def test_invalid_json(client: TestClient) -> None:
    r = client.post("/api/chat", content=b'{"conversation_id": "c1", "text": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


def test_error_message_in_customers_language(client: TestClient) -> None:
    _, fi = _chat(client, conversation_id="c1", text=" ", locale="fi-FI")
    _, ar = _chat(client, conversation_id="c1", text=" ", locale="ar")
    _, en = _chat(client, conversation_id="c1", text=" ")
    assert len({fi["error"]["message"], ar["error"]["message"], en["error"]["message"]}) == 3
    assert any("\u0600" <= ch <= "\u06ff" for ch in ar["error"]["message"])


def test_rasa_down_answers_fast_in_customers_language_and_keeps_message(
    client: TestClient, settings: Settings
) -> None:
    _chat(client, conversation_id="warm-up", text="hei")  # the app's first turn loads its catalogues
    started = time.monotonic()
    status, payload = _chat(client, conversation_id="keep-1", text="Miten ilmoittaudun työnhakijaksi?")
    assert time.monotonic() - started < 2.0
    assert status == 200
    assert payload["language"] == "fi"
    assert answers(payload["replies"])[0]["text"] == _catalogue_text("fi", "sys_unavailable")
    engine = create_engine(settings.database_url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT text, status, language FROM message WHERE sender='customer' AND text != 'hei'")
                          ).all()
    assert rows == [("Miten ilmoittaudun työnhakijaksi?", "kept", "fi")]


def test_readyz_says_why(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503
    assert any("rasa" in p for p in r.json()["problems"])


class _SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(5)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_rasa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_slow_rasa_answers_within_two_seconds(tmp_path: Path, slow_rasa: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'slow.db'}", rasa_url=slow_rasa)
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        status, payload = _chat(client, conversation_id="slow", text="Hur ansöker jag om startpeng?", locale="sv")
        elapsed = time.monotonic() - started
    assert status == 200
    assert elapsed < 2.0
    assert answers(payload["replies"])[0]["text"] == _catalogue_text("sv", "sys_unavailable")


def test_conversation_is_kept_by_channel_identity(client: TestClient, settings: Settings) -> None:
    for words in ("hei", "tarvitsen apua työnhaussa", "kiitos"):
        _chat(client, conversation_id="same", text=words)
    _chat(client, conversation_id="other", text="hello")
    engine = create_engine(settings.database_url)
    with engine.connect() as db:
        conversations = db.execute(text("SELECT external_id, id, language FROM conversation ORDER BY external_id")).all()
        count = db.execute(text("SELECT count(*) FROM message WHERE sender='customer'")).scalar()
    assert [c[0] for c in conversations] == ["other", "same"]
    assert all(c[1] != c[0] for c in conversations)  # Rasa sees our id, never the channel's
    assert conversations[1][2] == "fi"
    assert count == 4


def test_language_detect_endpoint(client: TestClient) -> None:
    r = client.post("/api/language/detect", json={"text": "Дякую, а як отримати palkkatuki?"})
    assert r.json()["language"] == "uk" and r.json()["supported"] is True
    assert 0.5 < r.json()["confidence"] <= 1.0
    r = client.post("/api/language/detect", json={"text": "ok", "hints": ["so"]})
    assert r.json()["language"] == "so"
    r = client.post("/api/language/detect", json={"text": "Je cherche du travail à Espoo maintenant"})
    assert r.json()["language"] == "fr" and r.json()["supported"] is False
    r = client.post("/api/language/detect", json={"text": "1234"})
    assert r.json()["language"] == "und"
    r = client.post("/api/language/detect", json={"hints": ["fi"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_field"
    r = client.post("/api/language/detect", json={"text": "x" * 6000})
    assert r.status_code == 422


def test_openapi_documents_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/chat", "/api/language/detect", "/healthz", "/readyz"):
        assert path in spec["paths"]
    # Rasa's call-backs into the hub are gone: no NLG endpoint, no internal API
    assert not [p for p in spec["paths"] if p == "/nlg" or p.startswith("/internal")]
    assert client.get("/docs").status_code == 200


def _catalogue_text(language: str, key: str) -> str:
    from bot.locales import render

    return render(key, language).text


def test_hostile_requests_get_clean_4xx(client: TestClient) -> None:
    huge = client.post("/api/chat", content=b'{"conversation_id": "h", "text": "' + b"a" * 400_000 + b'"}',
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    not_json = client.post("/api/chat", content=b"text=hei", headers={"content-type": "application/x-www-form-urlencoded"})
    assert 400 <= not_json.status_code < 500 and "error" in not_json.json()
    array = client.post("/api/chat", json=["hei"])
    assert array.status_code == 422 and "error" in array.json()
    nested = client.post("/api/chat", content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"})
    assert 400 <= nested.status_code < 500
    wrong_method = client.get("/api/chat")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for gone in ("/nlg", "/internal/handoff", "/internal/guidance"):
        assert client.post(gone, json={}).status_code == 404
    bad_hints = client.post("/api/language/detect", json={"text": "hei", "hints": [1, 2]})
    assert bad_hints.status_code == 422


def test_unicode_edge_cases_are_accepted(client: TestClient) -> None:
    for words in ("👍🏽", "ﷺ", "e\u0301", "\u200f مرحبا", "Z̷̢̛a̸l̴g̵o̶"):
        r = client.post("/api/chat", json={"conversation_id": "u", "text": words})
        assert r.status_code == 200, (words, r.text)


def _raw_chat(client: TestClient, body: bytes) -> tuple[int, dict]:
    """A JSON body as bytes: json= cannot carry a lone surrogate, a hand-written escape can."""
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    return r.status_code, r.json()


def test_a_lone_surrogate_is_a_clear_422_in_the_customers_language(client: TestClient, settings: Settings) -> None:
    status, payload = _raw_chat(client, b'{"conversation_id": "s1", "text": "hei \\udc00", "locale": "fi"}')
    assert status == 422
    assert payload["error"] == {"code": "invalid_characters", "message": _catalogue_text("fi", "sys_error_invalid")}
    status, payload = _raw_chat(client, b'{"conversation_id": "s1", "text": "\\ud83d", "locale": "ar"}')
    assert status == 422 and payload["error"]["message"] == _catalogue_text("ar", "sys_error_invalid")
    engine = create_engine(settings.database_url)
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM message")).scalar() == 0
    # a proper pair, written as two escapes, is one emoji and welcome
    status, _ = _raw_chat(client, b'{"conversation_id": "s1", "text": "\\ud83d\\udc4d"}')
    assert status == 200


def test_numerals_without_letters_are_answered_not_a_500(client: TestClient) -> None:
    for words in ("½ ¹ ²", "²³", "Ⅻ", "¼ ¾ ⅓ ①"):
        status, payload = _chat(client, conversation_id="numerals", text=words, locale="fi")
        assert status == 200, words
        assert payload["replies"]
        r = client.post("/api/language/detect", json={"text": words})
        assert r.status_code == 200 and r.json()["language"] == "und"


def test_language_detect_refuses_control_characters(client: TestClient) -> None:
    for words in ("hei\x00", "\x00", "hei\x1b[2J", "a\x07b", "a\x7fb", "a\x85b"):
        r = client.post("/api/language/detect", json={"text": words, "hints": ["sv"]})
        assert r.status_code == 422, repr(words)
        assert r.json()["error"] == {"code": "control_characters", "message": _catalogue_text("sv", "sys_error_invalid")}
    r = client.post("/api/language/detect", content=b'{"text": "hei \\udc00"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message"}
    r = client.post("/api/language/detect", json={"text": "kiitos\tpaljon\r\nhyvää päivää"})  # tab, CR, LF are text
    assert r.status_code == 200 and r.json()["language"] == "fi"
    spec = client.get("/openapi.json").json()
    assert "422" in spec["paths"]["/api/language/detect"]["post"]["responses"]


def _first_event(client: TestClient, cid: str, last_event_id: bytes) -> tuple[int, dict | None]:
    """The live stream's status and first message event, resumed with a raw Last-Event-ID header."""
    import json

    with client.stream("GET", f"/api/chat/{cid}/events", headers={"Last-Event-ID": last_event_id}) as response:
        if response.status_code != 200:
            return response.status_code, None
        for line in response.iter_lines():
            if line.startswith("data: "):
                return 200, json.loads(line[6:])
            if line.startswith(": keep-alive"):
                break
    return 200, None


def test_a_forged_last_event_id_is_ignored_not_a_broken_stream(client: TestClient) -> None:
    from datetime import datetime, timezone

    from bot.models import Conversation, Message

    _chat(client, conversation_id="live1", text="hei")
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        conversation = db.query(Conversation).filter_by(external_id="live1").one()
        db.add(Message(conversation_id=conversation.id, sender="adviser", text="Hei, autan mielelläni.",
                       status="sent", created_at=datetime.now(timezone.utc)))
        db.commit()
    # '²³' (Latin-1 bytes) passes str.isdigit(); 19+ digits overflow the id column; neither is an id we sent
    for header in (b"\xb2\xb3", b"9" * 19, b"9" * 40, b"1e3", b"-1", b" 12", b"\xd9\xa3"):
        status, first = _first_event(client, "live1", header)
        assert status == 200, header
        assert first is not None and first["text"] == "Hei, autan mielelläni.", header
    assert client.get("/api/chat/live1/events", params={"after": 10**19}).status_code == 422


def test_a_language_picked_in_the_chat_decides_and_an_unknown_one_is_refused(client: TestClient) -> None:
    """Issue 15: the widget's language picker sends `language`; only tier-1 languages are accepted."""
    refused = client.post("/api/chat", json={"conversation_id": "pick1", "text": "hello", "language": "xx"})
    assert refused.status_code == 422
    picked = client.post("/api/chat", json={"conversation_id": "pick2", "text": "hello", "language": "so"})
    assert picked.status_code == 200 and picked.json()["language"] == "so"
