"""Issue 15 in Telegram: a customer whose ticket waits is answered in their language every time they
write, is offered a notice or a call-back outside opening hours (an inline keyboard), and the
adviser's reply sends the notice e-mail — the real python-telegram-bot application against the
local Bot API (tests/telegram_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.locales import render
from bot.models import Conversation, Message, Queue, Ticket
from tests import factories as f
from tests.conftest import MailCapture
from tests.telegram_api import BotApi, callback_update, message_update
from tests.test_chat_decisions import rasa_deciding
from tests.test_telegram import Running, _adviser_client, escaped, start_worker
from tests.test_waiting_contact import HANDOFF


@pytest.fixture
def tg(api: BotApi, tg_settings: Settings, relay: tuple[str, MailCapture]) -> Iterator[Running]:
    """The Telegram worker with an assistant that hands every conversation to the desk (nobody is on
    shift: closed), and the notice mail going to the relay stand-in."""
    with rasa_deciding(lambda _body: HANDOFF) as rasa_url:
        running = start_worker(api, tg_settings.model_copy(update={"rasa_url": rasa_url, "smtp_relay": relay[0]}))
        try:
            yield running
        finally:
            running.stop()


def _keyboard(sent: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(b["text"], b["callback_data"]) for row in sent["reply_markup"]["inline_keyboard"] for b in row]


def _ticket(running: Running, chat: int) -> Ticket:
    with running.db() as db:
        ticket = db.scalars(select(Ticket).join(Conversation, Conversation.id == Ticket.conversation_id)
                            .where(Conversation.external_id == str(chat))).one()
        db.expunge(ticket)
        return ticket


@pytest.mark.parametrize(("language", "asking", "again"), [
    ("so", "Waxaan rabaa inaan la hadlo la-taliye", "Ma jiraa qof halkan joga?"),
    ("ar", "أريد التحدث مع موظف من فضلك", "هل يوجد أحد هنا؟"),
])
def test_a_waiting_telegram_customer_is_answered_in_their_language_and_offered_a_notice(
        tg: Running, language: str, asking: str, again: str) -> None:
    chat = {"so": 8710, "ar": 8720}[language]
    offer = render("sys_waiting_offer", language)
    buttons = [(b.title, b.payload) for b in offer.buttons]
    tg.api.push(message_update(chat, asking, language_code=language))
    handed = tg.api.wait_sent(chat, 2)[-1]  # the AI disclosure, then the hand-off with the offer
    assert escaped("sys_handoff_closed", language).split("{opens_at}")[0][:25] in handed["text"]
    assert handed["text"].endswith(escaped("sys_waiting_offer", language)) and _keyboard(handed) == buttons

    # writing while the ticket waits: kept for the adviser, answered at once in the customer's language
    tg.api.push(message_update(chat, again, language_code=language))
    waiting = tg.api.wait_sent(chat, 3)[-1]
    assert waiting["text"].startswith(escaped("sys_waiting_closed", language).split("{opens_at}")[0])
    assert _keyboard(waiting) == buttons

    # the e-mail button asks for the address; the address typed is taken and shown masked
    tg.api.push(callback_update(chat, "/leave_email", language_code=language))
    assert tg.api.wait_sent(chat, 4)[-1]["text"] == escaped("sys_waiting_ask_email", language)
    address = f"customer.{chat}@example.net"
    tg.api.push(message_update(chat, address, language_code=language))
    confirmed = tg.api.wait_sent(chat, 5)[-1]
    assert confirmed["text"] == escaped("sys_waiting_email_saved", language).replace("{email}", "c***@example.net")
    ticket = _ticket(tg, chat)
    assert ticket.status == "queued" and ticket.contact is not None and ticket.contact["notify_email"] == address
    with tg.db() as db:
        kept = db.scalars(select(Message.text).where(Message.conversation_id == ticket.conversation_id,
                                                     Message.status == "for_adviser").order_by(Message.id)).all()
    assert kept == [again, "/leave_email", address]


def test_the_advisers_reply_in_telegram_sends_one_notice_mail(tg: Running, relay: tuple[str, MailCapture]) -> None:
    chat = 8730
    tg.api.push(message_update(chat, "Я хочу поговорить с консультантом", language_code="ru"))
    tg.api.wait_sent(chat, 2)
    address = f"notice.{chat}@example.net"
    tg.api.push(message_update(chat, f"Моя почта: {address}", language_code="ru"))
    tg.api.wait_sent(chat, 3)
    ticket_id = _ticket(tg, chat).id
    with tg.db() as db:  # morning: the advisory opens
        for code in db.scalars(select(Queue.code)).all():
            f.shift(db, "espoo", code)
        f.adviser(db, f"espoo.tg{chat}", languages="fi,en,ru")
    client, auth = _adviser_client(tg.settings, f"espoo.tg{chat}")
    try:
        assert client.post(f"/api/tickets/{ticket_id}/claim", headers=auth).status_code == 200
        for text in ("Здравствуйте! Ваш ответ 5150.", "Ещё одно 5151."):
            assert client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": text}).status_code == 200
        sent = tg.api.wait_sent(chat, 5)
        assert "5150" in sent[3]["text"] and "5151" in sent[4]["text"]  # the replies themselves go to Telegram
    finally:
        client.__exit__(None, None, None)
    mails = [message_from_bytes(raw, policy=policy.default) for _f, to, raw in relay[1].messages if address in to]
    assert len(mails) == 1
    body = mails[0].get_content()  # type: ignore[attr-defined]
    assert body.strip() == render("sys_answered_mail_telegram", "ru").text.strip() and "515" not in body
