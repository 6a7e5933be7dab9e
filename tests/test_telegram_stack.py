"""Telegram end to end: Bot API ⇄ python-telegram-bot worker ⇄ hub ⇄ Rasa ⇄ adviser, in Arabic and Somali.

The whole stack runs (the `stack` fixture spawns the Telegram worker next to Rasa and the hub, with
`LUOTSI_TELEGRAM_API_URL` pointing at the local Bot API server).
"""

from __future__ import annotations

import html

import httpx
import pytest

from bot.locales import render, ui_strings
from tests import factories as f
from tests.telegram_api import callback_update, message_update

CASES = [
    # language, chat id, a question in that language, the answer it must get, "I want an adviser"
    ("ar", 9100, "كيف أسجل كباحث عن عمل؟", "utter_register_jobseeker", "أريد التحدث مع موظف"),
    ("so", 9200, "Sideen isu diiwaangeliyaa qof shaqo raadinaya?", "utter_register_jobseeker",
     "Waxaan rabaa inaan la hadlo la-taliye"),
]


def _text(key: str, language: str) -> str:
    return html.escape(render(key, language).text, quote=False)


@pytest.mark.parametrize(("language", "chat", "question", "answer", "ask_human"), CASES)
def test_from_start_to_an_advisers_reply(stack, bot_api, language: str, chat: int, question: str, answer: str,  # type: ignore[no-untyped-def]
                                         ask_human: str) -> None:
    username = f"espoo.tg.{language}"
    # an adviser who speaks only the customer's language is offered this ticket before the other
    # channels' older ones in the shared stack (claiming prefers the adviser's languages)
    f.staff_the_stack(stack.settings.database_url, username, languages=language)
    # /start: a greeting and the languages, each in its own name (the phone says English)
    bot_api.push(message_update(chat, "/start", language_code="en"))
    start = bot_api.wait_sent(chat, 1)[-1]
    assert start["text"] == _text("sys_telegram_start", "en")
    assert len([b for row in start["reply_markup"]["inline_keyboard"] for b in row]) == 8
    # the customer picks their language: the assistant greets in it, with its topic buttons
    bot_api.push(callback_update(chat, f"lang:{language}", language_code="en"))
    greeting = bot_api.wait_sent(chat, 2)[-1]
    assert greeting["text"] == _text("utter_greet", language)
    assert greeting["reply_markup"]["inline_keyboard"]
    # a question, understood and answered in the customer's language
    bot_api.push(message_update(chat, question, language_code="en"))
    assert bot_api.wait_sent(chat, 3)[-1]["text"] == _text(answer, language)
    # asking for a person hands off to the shift queue, told in the customer's language
    bot_api.push(message_update(chat, ask_human, language_code="en"))
    notice = bot_api.wait_sent(chat, 4)[-1]
    # followed by the place in the queue (issue 18; other tests' tickets may wait in it too)
    place = notice["text"].removeprefix(_text("sys_handoff_on_shift", language) + "\n\n")
    assert place != notice["text"] and (place.startswith(_text("sys_queue_next", language))
                                        or place.startswith(_text("sys_queue_place", language).split("{position}")[0]))
    # the adviser claims the ticket, sees the conversation and answers
    hub = stack.hub_url
    token = httpx.post(f"{hub}/api/auth/token", data={"username": username, "password": f.PASSWORD},
                       timeout=10).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ticket = httpx.post(f"{hub}/api/tickets/claim", headers=auth, timeout=10).json()
    assert ticket["channel"] == "telegram" and ticket["language"] == language
    assert not ticket["needs_interpreter"]
    customer_texts = [e["text"] for e in ticket["transcript"] if e["sender"] == "customer"]
    assert question in customer_texts and ask_human in customer_texts
    assert str(chat) not in str(ticket["contact"])  # the chat id stays with the channel
    reply = httpx.post(f"{hub}/api/tickets/{ticket['id']}/reply", headers=auth, timeout=10,
                       json={"text": "Hei! I am an adviser from Espoo. How can I help?"})
    assert reply.status_code == 200
    delivered = bot_api.wait_sent(chat, 5)[-1]
    assert delivered["text"].startswith(f"<b>{html.escape(ui_strings(language)['adviser'])}</b>\n"
                                        "Hei! I am an adviser from Espoo. How can I help?")
    # no translator in this stack: the reply goes as it is, marked untranslated in the customer's language
    assert html.unescape(delivered["text"]).endswith(ui_strings(language)["mt_untranslated"])
    # while the adviser owns the conversation the assistant stays quiet
    bot_api.push(message_update(chat, "شكرا" if language == "ar" else "Mahadsanid", language_code="en"))
    bot_api.wait_for(lambda: [e for e in httpx.get(f"{hub}/api/tickets/{ticket['id']}", headers=auth, timeout=10)
                              .json()["transcript"] if e["sender"] == "customer"][-1]["text"]
                     in ("شكرا", "Mahadsanid"), what="the customer's thanks on the ticket")
    assert len(bot_api.sent(chat)) == 5
    closed = httpx.post(f"{hub}/api/tickets/{ticket['id']}/close", headers=auth, json={"outcome": "answered"},
                        timeout=10)
    assert closed.status_code == 200
    # the closing notice, then the one satisfaction question (1–5 as one keyboard row)
    closing, question = bot_api.wait_sent(chat, 7)[5:7]
    assert closing["text"] == _text("sys_ticket_closed", language)
    assert html.unescape(question["text"]).startswith(_text("sys_csat_question", language).split("\n")[0][:40])
    assert [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row][:5] == [
        f"/csat {n}" for n in range(1, 6)]


def test_the_self_assessment_works_with_telegram_buttons(stack, bot_api) -> None:  # type: ignore[no-untyped-def]
    from bot.services.guidance_texts import guidance

    chat, cat = 9300, guidance("so")
    bot_api.push(message_update(chat, "heerkayga af finishka", language_code="so"))
    sent = bot_api.wait_sent(chat, 3)  # the AI disclosure, the introduction, the first question
    question = sent[-1]
    assert html.unescape(question["text"]).endswith(cat["texts"]["assess_question"].rsplit("\n", 1)[-1])
    callbacks = [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert callbacks == ["yes", "no", "stop"]
    bot_api.push(callback_update(chat, "yes", language_code="so"))  # the customer presses "yes"
    following = bot_api.wait_sent(chat, 4)[-1]
    assert cat["statements"]["listening"]["C1"] in html.unescape(following["text"])  # B1 yes → C1 next
