"""The Telegram channel: the real python-telegram-bot application against a local Bot API server.

The assistant is down here (a dead Rasa address): these tests are about the channel — commands,
buttons, files, groups, duplicates, blocked users, webhooks and the adviser's replies. The
conversations with the real assistant are in test_telegram_stack.py.
"""

from __future__ import annotations

import asyncio
import html
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render
from bot.models import Attachment, Conversation, Message, TelegramChat, TelegramUpdate, TicketEvent
from bot.services import shifts
from bot.services.rasa import RasaClient
from bot.services.tickets import do_handoff
from integrations.telegram.worker import TelegramWorker
from tests import factories as f
from tests.telegram_api import BotApi, callback_update, message_update, running_bot_api

FIXTURES = Path(__file__).parent / "data" / "telegram"


def fixture(name: str, **chat: Any) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def escaped(key: str, language: str) -> str:
    return html.escape(render(key, language).text, quote=False)


@dataclass
class Running:
    api: BotApi
    settings: Settings
    factory: sessionmaker[Session]
    worker: TelegramWorker
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the worker did not stop"

    def db(self) -> Session:
        return self.factory()

    def processed(self, update_id: int) -> bool:
        with self.db() as db:
            row = db.get(TelegramUpdate, update_id)
            return row is not None and row.status == "done"


def start_worker(api: BotApi, settings: Settings) -> Running:
    migrate(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    worker = TelegramWorker(settings, factory, RasaClient(settings.rasa_url, timeout=0.5))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(worker.run()), daemon=True)
    thread.start()
    running = Running(api, settings, factory, worker, loop, thread)
    method = "setWebhook" if settings.telegram_mode == "webhook" else "getUpdates"
    api.wait_for(lambda: any(c.method == method for c in api.calls), what=f"the worker's first {method}")
    return running


@pytest.fixture
def tg(api: BotApi, tg_settings: Settings) -> Iterator[Running]:
    running = start_worker(api, tg_settings)
    try:
        yield running
    finally:
        running.stop()


def test_start_greets_in_the_telegram_language_and_offers_languages_in_their_own_names(tg: Running) -> None:
    update = fixture("start_ar")
    chat = update["message"]["chat"]["id"]
    tg.api.push(update)
    sent = tg.api.wait_sent(chat, 1)
    assert sent[0]["text"] == escaped("sys_telegram_start", "ar")  # language_code "ar" is the hint
    assert sent[0]["parse_mode"] == "HTML"
    names = [b["text"] for row in sent[0]["reply_markup"]["inline_keyboard"] for b in row]
    assert names == ["Suomi", "Svenska", "English", "Русский", "Українська", "Eesti", "العربية", "Soomaali"]
    # the command menu exists in every tier-1 language; polling mode removed any webhook
    menus = {c.params.get("language_code") for c in tg.api.calls if c.method == "setMyCommands"}
    assert {None, "fi", "ar", "so"} <= menus
    assert any(c.method == "deleteWebhook" for c in tg.api.calls)
    tg.api.wait_for(lambda: tg.api.acknowledged > update["update_id"], what="the offset confirming /start")
    with tg.db() as db:
        conversation = db.scalars(select(Conversation).where(Conversation.external_id == str(chat))).one()
        assert conversation.channel == "telegram" and conversation.language == "ar"
        assert conversation.id != str(chat)  # Rasa and the desk see our id, never the chat id


def test_a_language_button_answers_the_press_and_switches_the_language(tg: Running) -> None:
    update = fixture("callback_language")
    chat = update["callback_query"]["message"]["chat"]["id"]
    tg.api.push(update)
    sent = tg.api.wait_sent(chat, 2)  # the AI disclosure, then the answer
    answered = tg.api.sent(method="answerCallbackQuery")
    assert answered and answered[0]["callback_query_id"] == update["callback_query"]["id"]
    edits = tg.api.sent(chat, method="editMessageReplyMarkup")
    assert edits and edits[0]["message_id"] == update["callback_query"]["message"]["message_id"]
    # the assistant is down: the customer is told so, in the language they chose, after the disclosure
    assert sent[0]["text"] == escaped("sys_ai_disclosure", "ar")
    assert sent[1]["text"] == escaped("sys_unavailable", "ar")
    with tg.db() as db:
        language = db.scalars(select(Conversation.language).where(Conversation.external_id == str(chat))).one()
    assert language == "ar"


def test_the_same_update_delivered_twice_is_processed_once(api: BotApi, tg_settings: Settings) -> None:
    update = message_update(8100, "hei, tarvitsen apua", language_code="fi")
    running = start_worker(api, tg_settings)
    api.push(update, json.loads(json.dumps(update)))  # a duplicate in the same batch
    api.wait_sent(8100, 2)
    api.wait_for(lambda: running.processed(update["update_id"]), what="processing")
    running.stop()
    # Telegram delivers it again after a restart (as if our acknowledgement had been lost)
    api.push(json.loads(json.dumps(update)))
    running = start_worker(api, tg_settings)
    api.wait_for(lambda: api.acknowledged > update["update_id"], what="the redelivery confirmed")
    running.stop()
    assert len(api.sent(8100)) == 2  # the AI disclosure and the answer, once
    with running.db() as db:
        texts = db.scalars(select(Message.text).join(Conversation).where(
            Conversation.external_id == "8100", Message.sender == "customer")).all()
    assert texts == ["hei, tarvitsen apua"]


def test_a_group_is_told_once_to_write_privately_and_nothing_is_kept(tg: Running) -> None:
    added, message = fixture("group_added"), fixture("group_message")
    group = added["my_chat_member"]["chat"]["id"]
    again = json.loads(json.dumps(message))
    again["update_id"] += 1000
    tg.api.push(added, message, again)
    tg.api.wait_sent(group, 1)
    tg.api.wait_for(lambda: tg.processed(again["update_id"]), what="the last group update")
    sent = tg.api.sent(group)
    assert len(sent) == 1
    assert sent[0]["text"] == escaped("sys_telegram_private_only", "fi")
    with tg.db() as db:
        assert db.scalars(select(Conversation).where(Conversation.external_id == str(group))).first() is None
        assert db.get(TelegramChat, group).group_notice_at is not None  # type: ignore[union-attr]


def test_documents_and_photos_are_kept_with_the_conversation(tg: Running) -> None:
    document, photo = fixture("document"), fixture("photo")
    chat = document["message"]["chat"]["id"]
    pdf = b"%PDF-1.4 Hodan CV " + bytes(range(256)) * 40
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 2000
    tg.api.add_file(document["message"]["document"]["file_id"], "documents/file_7.pdf", pdf)
    tg.api.add_file(photo["message"]["photo"][-1]["file_id"], "photos/file_8.jpg", jpeg)
    tg.api.push(document, photo)
    sent = tg.api.wait_sent(chat, 2)
    assert sent[0]["text"] == escaped("sys_telegram_file_kept", "so")
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/request_human"
    fetched = [c.params["file_id"] for c in tg.api.calls if c.method == "getFile"]
    assert fetched == [document["message"]["document"]["file_id"], photo["message"]["photo"][-1]["file_id"]]
    with tg.db() as db:
        files = db.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(a.filename, a.content_type, a.data) for a in files] == [
            ("CV Hodan 2026.pdf", "application/pdf", pdf), ("photo-89.jpg", "image/jpeg", jpeg)]
        message = db.get(Message, files[0].message_id)
        assert message is not None and message.text == "Waa CV-gayga"  # the caption is the message


def test_voice_messages_get_a_polite_answer_and_the_offer_of_an_adviser(tg: Running) -> None:
    voice, sticker = fixture("voice"), fixture("sticker")
    chat = voice["message"]["chat"]["id"]
    tg.api.push(voice, sticker)
    sent = tg.api.wait_sent(chat, 2)
    assert sent[0]["text"] == escaped("sys_telegram_voice", "so")
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "/request_human"
    assert sent[1]["text"] == escaped("sys_telegram_unsupported", "so")
    assert not [c for c in tg.api.calls if c.method == "getFile"]  # voice is not downloaded


def test_an_edited_message_is_read_again(tg: Running) -> None:
    update = fixture("edited_message")
    chat = update["edited_message"]["chat"]["id"]
    tg.api.push(update)
    sent = tg.api.wait_sent(chat, 2)  # the AI disclosure, then the answer
    assert sent[0]["text"] == escaped("sys_ai_disclosure", "uk")
    assert sent[1]["text"] == escaped("sys_unavailable", "uk")
    with tg.db() as db:
        stored = db.scalars(select(Message).join(Conversation).where(
            Conversation.external_id == str(chat), Message.sender == "customer")).one()
    assert stored.text == update["edited_message"]["text"] and stored.status == "kept"


def _hand_off(running: Running, chat: int, text: str, language_code: str) -> str:
    """The customer writes; then the conversation is handed to the Espoo desk (which is on shift)."""
    update = message_update(chat, text, language_code=language_code)
    running.api.push(update)
    running.api.wait_for(lambda: running.processed(update["update_id"]), what="the customer's message")
    with running.db() as db:
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, f"espoo.tg{chat}", languages="fi,en,ar,so")
        conversation = db.scalars(select(Conversation).where(Conversation.external_id == str(chat))).one()
        handoff = do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic=None,
                             now=f.now(), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                             home_area="espoo", reopen_days=7)
        return handoff.ticket.id


def _adviser_client(settings: Settings, username: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(settings))
    client.__enter__()
    token = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD}).json()["access_token"]
    return client, {"Authorization": f"Bearer {token}"}


def test_adviser_replies_reach_the_customer_and_a_block_shows_as_undelivered(tg: Running) -> None:
    chat = 8200
    ticket_id = _hand_off(tg, chat, "أريد التحدث مع موظف", "ar")
    client, auth = _adviser_client(tg.settings, f"espoo.tg{chat}")
    try:
        assert client.post("/api/tickets/claim", headers=auth).json()["id"] == ticket_id
        before = len(tg.api.sent(chat))
        reply = client.post(f"/api/tickets/{ticket_id}/reply", headers=auth,
                            json={"text": "Hei! Olen neuvoja. <b>Tervetuloa</b> & kiitos"})
        assert reply.status_code == 200
        assert reply.json()["transcript"][-1]["status"] == "pending"  # the worker sends it
        sent = tg.api.wait_sent(chat, before + 1)[-1]
        assert sent["text"].startswith("<b>") and "&lt;b&gt;Tervetuloa&lt;/b&gt; &amp; kiitos" in sent["text"]
        entry = tg.api.wait_for(lambda: [e for e in client.get(f"/api/tickets/{ticket_id}", headers=auth)
                                         .json()["transcript"] if e["sender"] == "adviser" and e["status"] == "sent"],
                                what="the reply marked sent")
        assert entry
        # a long reply is split at Telegram's limit, nothing lost
        long_text = ("Tämä on pitkä vastaus. " * 300).strip()
        before = len(tg.api.sent(chat))
        client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": long_text[:5000]})
        parts = tg.api.wait_sent(chat, before + 2)[before:]
        assert len(parts) == 2 and all(len(p["text"]) <= 4096 for p in parts)
        # the customer blocks the bot: the next reply is marked undelivered on the ticket
        tg.api.blocked.add(chat)
        client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": "Oletko vielä siellä?"})
        tg.api.wait_for(lambda: [e for e in client.get(f"/api/tickets/{ticket_id}", headers=auth)
                                 .json()["transcript"] if e["status"] == "undelivered"], what="undelivered")
        with tg.db() as db:
            kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
            assert "undelivered" in kinds
            assert db.get(TelegramChat, chat).blocked_at is not None  # type: ignore[union-attr]
        # known blocked: the next reply is refused at once instead of queued
        again = client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": "Soitan sinulle."})
        assert again.json()["transcript"][-1]["status"] == "undelivered"
    finally:
        client.__exit__(None, None, None)


def test_a_bot_api_outage_delays_messages_but_loses_none_and_keeps_their_order(tg: Running) -> None:
    chat = 8300
    ticket_id = _hand_off(tg, chat, "I need help with my registration", "en")
    client, auth = _adviser_client(tg.settings, f"espoo.tg{chat}")
    try:
        client.post("/api/tickets/claim", headers=auth)
        before = len(tg.api.sent(chat))
        tg.api.fail_sends = 3
        for n in range(3):
            client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": f"reply {n}"})
        sent = tg.api.wait_sent(chat, before + 3, timeout=30)[before:]
        # "<b>Adviser</b>", the reply, and (the adviser works in Finnish, no translator) "Not translated"
        assert [s["text"].split("\n")[1] for s in sent] == ["reply 0", "reply 1", "reply 2"]
        closed = client.post(f"/api/tickets/{ticket_id}/close", headers=auth, json={"outcome": "answered"})
        assert closed.status_code == 200
        notice, asked = tg.api.wait_sent(chat, before + 5)[before + 3:]  # and the satisfaction question after it
        assert notice["text"] == escaped("sys_ticket_closed", "en")
        assert asked["text"] == escaped("sys_csat_question", "en")
    finally:
        client.__exit__(None, None, None)


def test_the_files_are_on_the_ticket_for_advisers_who_may_see_it(tg: Running) -> None:
    chat = 8400
    document = message_update(chat, "", language_code="so", document={
        "file_name": "<script>x.html", "mime_type": "text/html", "file_id": "doc-8400", "file_unique_id": "u8400",
        "file_size": 12})
    tg.api.add_file("doc-8400", "documents/file_9.html", b"<script>alert(1)</script>")
    tg.api.push(document)
    tg.api.wait_for(lambda: tg.processed(document["update_id"]), what="the document")
    ticket_id = _hand_off(tg, chat, "Waxaan rabaa la-taliye", "so")
    client, auth = _adviser_client(tg.settings, f"espoo.tg{chat}")
    try:
        files = [a for e in client.get(f"/api/tickets/{ticket_id}", headers=auth).json()["transcript"]
                 for a in e["attachments"]]
        assert [a["filename"] for a in files] == ["script_x.html"]
        download = client.get(files[0]["url"], headers=auth)
        assert download.status_code == 200 and download.content == b"<script>alert(1)</script>"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
        assert client.get(files[0]["url"]).status_code == 401
        assert client.get(f"/api/tickets/{ticket_id}/attachments/999999", headers=auth).status_code == 404
        with tg.db() as db:  # a Helsinki adviser off this shift does not see the ticket or its files
            f.adviser(db, "helsinki.tg", city="helsinki")
        other, other_auth = _adviser_client(tg.settings, "helsinki.tg")
        try:
            assert other.get(files[0]["url"], headers=other_auth).status_code == 404
        finally:
            other.__exit__(None, None, None)
    finally:
        client.__exit__(None, None, None)


def test_a_block_reported_by_telegram_is_recorded(tg: Running) -> None:
    update = fixture("blocked")
    chat = update["my_chat_member"]["chat"]["id"]
    tg.api.push(update)
    tg.api.wait_for(lambda: tg.processed(update["update_id"]), what="the block")
    with tg.db() as db:
        assert db.get(TelegramChat, chat).blocked_at is not None  # type: ignore[union-attr]
    assert tg.api.sent(chat) == []


def test_a_wrong_token_stops_the_worker_with_a_clear_error(api: BotApi, tg_settings: Settings) -> None:
    from telegram.error import InvalidToken

    wrong = tg_settings.model_copy(update={"telegram_token": "999:wrong"})
    migrate(wrong.database_url)
    worker = TelegramWorker(wrong, make_sessionmaker(make_engine(wrong.database_url)), RasaClient(wrong.rasa_url, 0.5))
    with pytest.raises(InvalidToken):
        asyncio.run(worker.run())


def test_the_worker_waits_for_an_unreachable_bot_api(tg_settings: Settings) -> None:
    from tests.conftest import free_port

    port = free_port()
    settings = tg_settings.model_copy(update={"telegram_api_url": f"http://127.0.0.1:{port}/bot"})
    migrate(settings.database_url)
    worker = TelegramWorker(settings, make_sessionmaker(make_engine(settings.database_url)),
                            RasaClient(settings.rasa_url, 0.5))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(worker.run()), daemon=True)
    thread.start()
    time.sleep(1.5)  # refused connections meanwhile; the worker keeps trying
    assert thread.is_alive()
    with running_bot_api(port=port) as api:
        api.wait_for(lambda: any(c.method == "getUpdates" for c in api.calls), timeout=30, what="polling")
        api.push(message_update(8700, "/help", language_code="fi"))
        assert api.wait_sent(8700, 1)[0]["text"] == escaped("sys_telegram_help", "fi")
        loop.call_soon_threadsafe(worker.stop)
        thread.join(timeout=15)
    assert not thread.is_alive()


# --- webhook mode ----------------------------------------------------------------------------

SECRET = "s3cret-token_for-webhooks"


@pytest.fixture
def hook_settings(tg_settings: Settings) -> Settings:
    return tg_settings.model_copy(update={"telegram_mode": "webhook", "telegram_webhook_secret": SECRET,
                                          "telegram_webhook_url": "https://luotsi.example/telegram/webhook"})


def test_webhook_refuses_requests_without_the_secret_and_keeps_good_ones_once(hook_settings: Settings) -> None:
    update = message_update(8500, "hello", language_code="en")
    with TestClient(create_app(hook_settings)) as client:
        assert client.post("/telegram/webhook", json=update).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
        assert client.post("/telegram/webhook", json=update, headers=wrong).status_code == 403
        ok = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        bad = client.post("/telegram/webhook", content=b"{not json", headers={**ok, "Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_update"
        assert client.post("/telegram/webhook", json={"update_id": "1"}, headers=ok).status_code == 400
        first = client.post("/telegram/webhook", json=update, headers=ok)
        again = client.post("/telegram/webhook", json=update, headers=ok)
        assert first.status_code == again.status_code == 200
        assert first.json()["new"] is True and again.json()["new"] is False
    engine = make_engine(hook_settings.database_url)
    with make_sessionmaker(engine)() as db:
        assert db.scalars(select(TelegramUpdate.update_id)).all() == [update["update_id"]]
    engine.dispose()


def test_without_webhook_mode_the_hub_has_no_webhook(tg_settings: Settings) -> None:
    with TestClient(create_app(tg_settings)) as client:
        response = client.post("/telegram/webhook", json={"update_id": 1},
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 404


def test_webhook_mode_registers_the_secret_and_answers_what_the_hub_received(
        api: BotApi, hook_settings: Settings) -> None:
    running = start_worker(api, hook_settings)
    try:
        assert api.webhook["url"] == "https://luotsi.example/telegram/webhook"
        assert api.webhook["secret_token"] == SECRET
        assert "getUpdates" not in {c.method for c in api.calls}
        with TestClient(create_app(hook_settings)) as client:
            update = callback_update(8600, "lang:so", language_code="so")
            response = client.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert response.status_code == 200
        sent = api.wait_sent(8600, 2)  # the AI disclosure, then the answer
        assert sent[0]["text"] == escaped("sys_ai_disclosure", "so")
        assert sent[1]["text"] == escaped("sys_unavailable", "so")
    finally:
        running.stop()


def _customer_texts(running: Running, chat: int) -> list[str]:
    with running.db() as db:
        return list(db.scalars(select(Message.text).join(Conversation).where(
            Conversation.external_id == str(chat), Message.sender == "customer")))


def test_a_message_of_numerals_only_is_answered(tg: Running) -> None:
    """Language identification crashed on '½ ¹ ²': the update failed three times and was set aside."""
    update = message_update(8800, "½ ¹ ²", language_code="fi")
    tg.api.push(update)
    sent = tg.api.wait_sent(8800, 2)  # the AI disclosure, then the answer
    assert sent[0]["text"] == escaped("sys_ai_disclosure", "fi")
    assert sent[1]["text"] == escaped("sys_unavailable", "fi")
    tg.api.wait_for(lambda: tg.processed(update["update_id"]), what="processing")
    assert _customer_texts(tg, 8800) == ["½ ¹ ²"]


def test_a_lone_surrogate_or_nul_in_an_update_is_kept_as_a_replacement_character(tg: Running) -> None:
    """JSON can carry "\\udc00" and "\\u0000": they failed at the commit (NUL on PostgreSQL), so the
    message failed on every attempt and its sender never had an answer."""
    update = message_update(8801, "hei \udc00 apua\x00", language_code="fi")
    tg.api.push(update)
    sent = tg.api.wait_sent(8801, 2)  # the AI disclosure, then the answer
    assert sent[0]["text"] == escaped("sys_ai_disclosure", "fi")
    assert sent[1]["text"] == escaped("sys_unavailable", "fi")
    tg.api.wait_for(lambda: tg.processed(update["update_id"]), what="processing")
    assert _customer_texts(tg, 8801) == ["hei \ufffd apua\ufffd"]


def test_the_webhook_keeps_an_update_with_a_lone_surrogate_storable(hook_settings: Settings) -> None:
    body = json.dumps(message_update(8802, "hei \udc00", language_code="fi")).encode()  # ASCII, escaped
    assert b"\\udc00" in body
    with TestClient(create_app(hook_settings)) as client:
        r = client.post("/telegram/webhook", content=body,
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["new"] is True
    engine = make_engine(hook_settings.database_url)
    with make_sessionmaker(engine)() as db:
        [payload] = db.scalars(select(TelegramUpdate.payload)).all()
    engine.dispose()
    assert payload is not None and payload["message"]["text"] == "hei \ufffd"
