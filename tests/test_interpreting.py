"""Interpreter mode end to end through the public interfaces, with a local LibreTranslate server:
an Arabic-writing customer and a Finnish-working adviser, from the first message to the close;
the markers in the web chat, Telegram and e-mail; time-outs and unreliable translations."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.console.words import gettext
from bot.locales import render, ui_strings
from bot.models import Conversation, Ticket, TicketEvent
from bot.services import shifts
from bot.services.tickets import do_handoff
from tests import factories as f
from tests.factories import answers
from tests.libretranslate_api import LibreTranslateApi, running_libretranslate

HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
ARABIC = "أريد التسجيل كباحث عن عمل. رقمي 0401234567"


@pytest.fixture
def lt() -> Iterator[LibreTranslateApi]:
    with running_libretranslate() as api:
        yield api


@pytest.fixture
def hub(settings: Settings, lt: LibreTranslateApi) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"translator": lt.url, "translator_timeout": 0.8}))) as c:
        yield c


def _customer_hands_off(hub: TestClient, cid: str, text: str) -> str:
    assert hub.post("/api/chat", json={"conversation_id": cid, "text": text}).status_code == 200  # Rasa is down here
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        conversation = db.scalars(select(Conversation).where(Conversation.external_id == cid)).one()
        assert conversation.language == "ar"
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "fi.adviser", languages="fi,en")
        ticket = do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic=None, now=f.now(),
                            hours=HOURS, home_area="espoo", reopen_days=7).ticket
        assert ticket.needs_interpreter  # nobody on shift speaks Arabic: claimable by anyone
        return ticket.id


def _auth(hub: TestClient) -> dict[str, str]:
    token = hub.post("/api/auth/token", data={"username": "fi.adviser", "password": f.PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _events(hub: TestClient, cid: str) -> list[dict]:  # type: ignore[type-arg]
    """The web chat's live stream, read until it has sent what is there."""
    with hub.stream("GET", f"/api/chat/{cid}/events", params={"after": 0}) as response:
        items = []
        for line in response.iter_lines():
            if line.startswith("data: "):
                items.append(json.loads(line[6:]))
            if line.startswith(": keep-alive") or len(items) >= 1:
                break
        return items


def test_an_arabic_customer_and_a_finnish_adviser_from_first_message_to_close(hub: TestClient,
                                                                             lt: LibreTranslateApi) -> None:
    cid = "a" * 32
    ticket_id = _customer_hands_off(hub, cid, ARABIC)
    auth = _auth(hub)
    claimed = hub.post("/api/tickets/claim", headers=auth).json()
    assert claimed["id"] == ticket_id
    first = next(e for e in claimed["transcript"] if e["sender"] == "customer")
    assert first["text"] == ARABIC  # the original, always
    assert first["translation"] == "Haluan ilmoittautua työnhakijaksi. Numeroni 0401234567"
    assert first["translation_language"] == "fi"
    assert "0401234567" not in " ".join(c["q"] for c in lt.calls)  # the number never left Luotsi
    reply = hub.post(f"/api/tickets/{ticket_id}/reply", headers=auth,
                     json={"text": "Hei! Voit ilmoittautua Työmarkkinatori:ssa."}).json()
    sent = reply["transcript"][-1]
    assert sent["text"] == "Hei! Voit ilmoittautua Työmarkkinatori:ssa."
    assert sent["translation"] == "مرحبا! يمكنك التسجيل في Työmarkkinatori." and sent["translation_language"] == "ar"
    # the customer reads Arabic, marked as machine translation, with the original one step away
    [item] = _events(hub, cid)
    ui = ui_strings("ar")
    assert item["text"] == "مرحبا! يمكنك التسجيل في Työmarkkinatori."
    assert item["marker"] == ui["mt_marker"] and item["original"] == sent["text"]
    assert item["original_label"] == ui["mt_original"]
    closed = hub.post(f"/api/tickets/{ticket_id}/close", headers=auth, json={"outcome": "answered"})
    assert closed.status_code == 200
    ticket = hub.get(f"/api/tickets/{ticket_id}", headers=auth).json()
    assert ticket["status"] == "closed"
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
    assert "interpreter_recommended" not in kinds and "translation_unavailable" not in kinds


def test_a_silent_backend_lets_the_reply_through_untranslated_marked_and_noted(hub: TestClient,
                                                                             lt: LibreTranslateApi) -> None:
    cid = "b" * 32
    ticket_id = _customer_hands_off(hub, cid, "مرحبا، عندي سؤال عن الإعانة")
    auth = _auth(hub)
    hub.post("/api/tickets/claim", headers=auth)
    lt.delay = 3.0
    reply = hub.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": "Hetkinen, tarkistan."})
    assert reply.status_code == 200 and reply.json()["transcript"][-1]["translation"] is None
    [item] = _events(hub, cid)
    assert item["text"] == "Hetkinen, tarkistan." and item["marker"] == ui_strings("ar")["mt_untranslated"]
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
    assert "translation_unavailable" in kinds


def test_an_unreliable_translation_recommends_an_interpreter(hub: TestClient, lt: LibreTranslateApi) -> None:
    cid = "c" * 32
    ticket_id = _customer_hands_off(hub, cid, "أحتاج مساعدة بخصوص palkkatuki للشركة")
    lt.drop_placeholders = True  # the engine loses "palkkatuki"
    auth = _auth(hub)
    ticket = hub.post("/api/tickets/claim", headers=auth).json()
    assert ticket["id"] == ticket_id
    ticket = hub.get(f"/api/tickets/{ticket_id}", headers=auth).json()
    assert ticket["needs_interpreter"] is True
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
        assert "interpreter_recommended" in kinds
        assert db.get(Ticket, ticket_id).needs_interpreter  # type: ignore[union-attr]


def test_without_a_translator_replies_flow_as_they_are_marked_untranslated(settings: Settings) -> None:
    with TestClient(create_app(settings)) as hub:
        cid = "d" * 32
        ticket_id = _customer_hands_off(hub, cid, "مرحبا، عندي سؤال")
        auth = _auth(hub)
        hub.post("/api/tickets/claim", headers=auth)
        reply = hub.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": "Hei!"}).json()
        assert reply["transcript"][0]["translation"] is None
        [item] = _events(hub, cid)
        assert item["text"] == "Hei!" and item["marker"] == ui_strings("ar")["mt_untranslated"]


def test_the_markers_in_telegram(api, tg_settings: Settings, lt: LibreTranslateApi) -> None:  # type: ignore[no-untyped-def]
    from tests.telegram_api import message_update
    from tests.test_telegram import start_worker

    settings = tg_settings.model_copy(update={"translator": lt.url})
    running = start_worker(api, settings)
    try:
        update = message_update(8800, ARABIC, language_code="ar")
        api.push(update)
        api.wait_for(lambda: running.processed(update["update_id"]), what="the customer's message")
        with TestClient(create_app(settings)) as hub:
            with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
                conversation = db.scalars(select(Conversation).where(Conversation.external_id == "8800")).one()
                f.shift(db, "espoo", "jobseeker_espoo")
                f.adviser(db, "fi.adviser", languages="fi,en")
                do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic=None, now=f.now(),
                           hours=HOURS, home_area="espoo", reopen_days=7)
            auth = _auth(hub)
            ticket = hub.post("/api/tickets/claim", headers=auth).json()
            before = len(api.sent(8800))
            hub.post(f"/api/tickets/{ticket['id']}/reply", headers=auth,
                     json={"text": "Hei! Voit ilmoittautua Työmarkkinatori:ssa."})
        text = api.wait_sent(8800, before + 1)[-1]["text"]
        ui = ui_strings("ar")
        assert "مرحبا! يمكنك التسجيل في Työmarkkinatori." in text
        assert ui["mt_marker"] in text and ui["mt_original"] in text
        assert text.rstrip().endswith("Hei! Voit ilmoittautua Työmarkkinatori:ssa.")
    finally:
        running.stop()


def test_the_markers_in_e_mail(settings: Settings, lt: LibreTranslateApi) -> None:
    from email import message_from_bytes, policy

    from tests.conftest import free_port, running_capture
    from tests.test_email import _wait_for, intake_server, send, tickets

    with running_capture() as (relay, capture):
        settings = settings.model_copy(update={"smtp_relay": relay, "smtp_port": free_port()})
        with intake_server(settings):
            _mail_conversation(settings, capture, lt, message_from_bytes, policy, _wait_for, send, tickets)


def _mail_conversation(settings, capture, lt, message_from_bytes, policy, _wait_for, send, tickets) -> None:  # type: ignore[no-untyped-def]
    raw = ("From: Yasmin <yasmin@example.com>\r\nTo: jobseekers@luotsi.localhost\r\nSubject: سؤال\r\n"
           "Message-ID: <ar-1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + ARABIC + "\r\n").encode()
    send(settings, raw, sender="yasmin@example.com", to="jobseekers@luotsi.localhost")
    _wait_for(capture, 1)
    [ticket] = tickets(settings)
    hub_settings = settings.model_copy(update={"translator": lt.url})
    with TestClient(create_app(hub_settings)) as hub:
        with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", ticket.queue)
            f.adviser(db, "fi.adviser", languages="fi,en")
            db.get(Ticket, ticket.id).needs_interpreter = True  # type: ignore[union-attr]  # it arrived off shift
            db.commit()
        auth = _auth(hub)
        claimed = hub.post("/api/tickets/claim", headers=auth).json()
        first = claimed["transcript"][0]
        assert first["translation_language"] == "fi" and first["translation"].startswith("[fi] ")
        assert "0401234567" in first["translation"] and "0401234567" not in lt.calls[0]["q"]
        hub.post(f"/api/tickets/{ticket.id}/reply", headers=auth,
                 json={"text": "Hei! Voit ilmoittautua Työmarkkinatori:ssa."})
    _wait_for(capture, 2)
    mail = message_from_bytes(capture.messages[-1][2], policy=policy.default)
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    ui = ui_strings("ar")
    assert body.startswith("مرحبا! يمكنك التسجيل في Työmarkkinatori.")
    assert ui["mt_marker"] in body and "Hei! Voit ilmoittautua Työmarkkinatori:ssa." in body



class FakeRasa:
    """Rasa's REST channel, answering in English whatever it is told (to see what it was told)."""

    def __init__(self) -> None:
        self.received: list[dict] = []  # type: ignore[type-arg]

    def __enter__(self) -> str:
        from http.server import BaseHTTPRequestHandler

        from tests.http_stub import serving

        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.received.append(body)
                data = json.dumps([{"text": "Register in Työmarkkinatori on your first day.",
                                    "buttons": [{"title": "Talk to an adviser", "payload": "/request_human"}]}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serving = serving(Handler)
        return self._serving.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)


def test_a_tier2_customer_is_understood_and_answered_through_translation(settings: Settings,
                                                                        lt: LibreTranslateApi) -> None:
    rasa = FakeRasa()
    with rasa as rasa_url:
        app = create_app(settings.model_copy(update={"translator": lt.url, "rasa_url": rasa_url}))
        with TestClient(app) as hub:
            turn = hub.post("/api/chat", json={"conversation_id": "e" * 32,
                                               "text": "سلام، چطور می‌توانم به عنوان جوینده کار ثبت نام کنم؟"}).json()
    assert turn["language"] == "fa"
    assert rasa.received[0]["message"].startswith("[en] ")  # the assistant read the English translation
    assert rasa.received[0]["metadata"]["language_hints"] == ["en"]
    disclosure, answer = turn["replies"]  # the AI disclosure first, translated and marked like every answer
    assert disclosure["text"].endswith(render("sys_ai_disclosure", "en").text)
    assert answer["text"].startswith("[fa] Register in Työmarkkinatori on your first day.")
    assert ui_strings("fa")["mt_marker"] in answer["text"]
    assert answer["text"].endswith("Register in Työmarkkinatori on your first day.")  # the original
    assert answer["buttons"][0]["payload"] == "/request_human"


def test_without_a_translator_a_tier2_customer_gets_english_and_the_offer(settings: Settings) -> None:
    rasa = FakeRasa()
    with rasa as rasa_url:
        with TestClient(create_app(settings.model_copy(update={"rasa_url": rasa_url}))) as hub:
            turn = hub.post("/api/chat", json={"conversation_id": "f" * 32,
                                               "text": "سلام، چطور می‌توانم به عنوان جوینده کار ثبت نام کنم؟"}).json()
    assert rasa.received[0]["message"].startswith("سلام")
    texts = [r["text"] for r in answers(turn["replies"])]
    assert "Persian" in texts[0] and texts[1] == "Register in Työmarkkinatori on your first day."


def test_the_adviser_chooses_a_working_language(settings: Settings) -> None:
    from tests.test_console import sign_in

    with TestClient(create_app(settings), follow_redirects=False) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.adviser(db, "sv.adviser", languages="sv,fi")
        csrf = sign_in(client, "sv.adviser")
        assert gettext("fi")("I read and write in") in client.get("/console").text
        r = client.post("/console/settings", data={"csrf": csrf, "working_language": "sv"})
        assert r.status_code == 303 and "settings_saved" in r.headers["location"]
        assert "bad_language" in client.post("/console/settings", data={"csrf": csrf, "working_language": "xx"}
                                             ).headers["location"]
        assert client.post("/console/settings", data={"csrf": "forged", "working_language": "en"}).status_code == 403
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            from bot.models import Adviser

            adviser = db.scalars(select(Adviser).where(Adviser.username == "sv.adviser")).one()
            assert adviser.working_language == "sv"
