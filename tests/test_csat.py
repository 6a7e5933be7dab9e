"""Issue 18's satisfaction question (bot/services/csat.py): after an adviser closes a ticket the customer
is asked once, in their language and channel — buttons in the web chat, an inline keyboard in Telegram,
a link to a one-question page by e-mail — and may answer 1 to 5 with an optional comment, or not at all.
Everything goes through the public interfaces: POST /api/chat and its live stream, the local Telegram
Bot API, SMTP in and out, the adviser API, the console and the privacy API."""

from __future__ import annotations

import json
import logging
import re
import smtplib
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.locales import render
from bot.models import Conversation, Queue, Ticket
from bot.services import csat
from integrations.email.server import make_controller
from integrations.telegram.render import keyboard
from tests import factories as f
from tests.conftest import MailCapture, free_port, running_capture
from tests.telegram_api import BotApi, callback_update, message_update
from tests.test_chat_decisions import rasa_deciding
from tests.test_telegram import Running, escaped, start_worker

# what the customers write to reach an adviser; everything else the assistant answers with a greeting
ASKING = {"fi": "haluan puhua ihmisen kanssa", "ar": "أريد التحدث مع موظف من فضلك",
          "so": "Waxaan rabaa inaan la hadlo la-taliye", "sv": "jag vill tala med en rådgivare, tack"}
HANDOFF = {"luotsi": "handoff", "reason": "asked_for_human", "topic": "register_jobseeker"}
SCORES = [(str(s), f"/csat {s}") for s in range(1, 6)]
METRICS_TOKEN = "csat-metrics-token-5f1e"


class Assistant:
    """The Rasa stand-in: hands a request for a person to the desk, greets anything else, and
    remembers every text it was told (the satisfaction answers must never reach it)."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        self.told.append(body["message"])
        if body["message"] in ASKING.values():
            return HANDOFF
        return {"luotsi": "say", "key": "utter_greet"}


@pytest.fixture
def assistant() -> Iterator[tuple[str, Assistant]]:
    told = Assistant()
    with rasa_deciding(told) as url:
        yield url, told


@pytest.fixture
def hub(settings: Settings, assistant: tuple[str, Assistant]) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"rasa_url": assistant[0],
                                                           "metrics_token": SecretStr(METRICS_TOKEN)}))) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            for code in db.scalars(select(Queue.code)).all():
                f.shift(db, "espoo", code)
            f.adviser(db, "espoo.csat", languages="fi,sv,en", max_open=20)
            f.adviser(db, "admin.csat", role="admin")
        yield client


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def chat(hub: TestClient, cid: str, text: str, language: str) -> dict[str, Any]:
    r = hub.post("/api/chat", json={"conversation_id": cid, "text": text, "locale": language})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def serve_and_close(client: TestClient, ticket_id: str, outcome: str = "answered", *, claim: bool = True) -> dict:  # type: ignore[type-arg]
    """The adviser claims the ticket, answers and closes it; the closed ticket as the API shows it."""
    auth = sign_in(client, "espoo.csat")
    if claim:
        assert client.post(f"/api/tickets/{ticket_id}/claim", headers=auth).status_code == 200
    assert client.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": "Hei, tässä vastaus."}).status_code == 200
    closed = client.post(f"/api/tickets/{ticket_id}/close", headers=auth, json={"outcome": outcome})
    assert closed.status_code == 200, closed.text
    return closed.json()  # type: ignore[no-any-return]


def ticket_public(client: TestClient, ticket_id: str) -> dict[str, Any]:
    r = client.get(f"/api/tickets/{ticket_id}", headers=sign_in(client, "admin.csat"))
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def stream_until_question(hub: TestClient, cid: str) -> list[dict[str, Any]]:
    """The web chat's live stream from the start, up to the satisfaction question."""
    seen: list[dict[str, Any]] = []
    with hub.stream("GET", f"/api/chat/{cid}/events", params={"after": 0}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["buttons"] and seen[-1]["buttons"][0]["payload"].startswith("/csat"):
                    return seen
            if line.startswith(": keep-alive"):
                break
    raise AssertionError(f"no question in the stream: {seen}")


# --- web chat ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["fi", "ar"])
def test_web_chat_round_trip_score_then_comment(hub: TestClient, assistant: tuple[str, Assistant],
                                                 language: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cid = f"csat-web-{language}".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING[language], language)["ticket"]["id"]
    closed = serve_and_close(hub, ticket_id)
    assert closed["satisfaction"]["score"] is None and closed["satisfaction"]["asked_at"]

    # the closing notice, then the question with a button per score, in the customer's language
    seen = stream_until_question(hub, cid)
    assert seen[-2]["text"] == render("sys_ticket_closed", language).text
    assert seen[-1]["text"] == render("sys_csat_question", language).text
    assert [(b["title"], b["payload"]) for b in seen[-1]["buttons"]] == SCORES

    # a press: the hub answers it — the comment prompt with Skip — and Rasa never hears of it
    told_before = list(assistant[1].told)
    pressed = chat(hub, cid, "/csat 4", language)
    assert pressed["language"] == language
    prompt = render("sys_csat_comment", language)
    assert pressed["replies"] == [{"text": prompt.text, "buttons": [{"title": prompt.buttons[0].title,
                                                                     "payload": "/csat skip"}]}]
    # the next message is the comment (only that one), thanked for in the customer's language
    comment = {"fi": "Neuvoja oli ystävällinen, mutta odotin kauan.", "ar": "كان المستشار لطيفا جدا، شكرا."}[language]
    thanked = chat(hub, cid, comment, language)
    assert [r["text"] for r in thanked["replies"]] == [render("sys_csat_thanks", language).text]
    assert assistant[1].told == told_before
    # the message after it is an ordinary question for the assistant again
    after = chat(hub, cid, "Miten ilmoittaudun työnhakijaksi?", language)
    assert assistant[1].told == [*told_before, "Miten ilmoittaudun työnhakijaksi?"]
    assert render("sys_csat_thanks", language).text not in [r["text"] for r in after["replies"]]

    stored = ticket_public(hub, ticket_id)["satisfaction"]
    assert stored["score"] == 4 and stored["comment"] == comment and stored["answered_at"]
    assert "csat.answered" in caplog.text and comment not in caplog.text  # the comment is never logged

    # the adviser sees the score and the comment on the console's ticket page
    page_csrf = hub.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page_csrf.text)
    assert token is not None
    hub.post("/console/login", data={"username": "admin.csat", "password": f.PASSWORD, "csrf": token.group(1)})
    page = hub.get(f"/console/tickets/{ticket_id}")
    assert page.status_code == 200
    shown = re.search(r'<td id="satisfaction">(.*?)</td>', page.text, re.S)
    assert shown is not None and "4/5" in shown.group(1) and comment.split(",")[0] in shown.group(1)


def test_skip_ends_the_question_and_the_next_message_goes_to_the_assistant(
        hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    cid = "csat-skip".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    serve_and_close(hub, ticket_id)
    chat(hub, cid, "/csat 2", "fi")
    skipped = chat(hub, cid, "/csat skip", "fi")
    assert [r["text"] for r in skipped["replies"]] == [render("sys_csat_thanks", "fi").text]
    told = len(assistant[1].told)
    chat(hub, cid, "kiitos ja hei", "fi")
    assert assistant[1].told[told:] == ["kiitos ja hei"]
    stored = ticket_public(hub, ticket_id)["satisfaction"]
    assert stored["score"] == 2 and stored["comment"] is None


def test_another_button_after_the_score_is_not_a_comment(hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    cid = "csat-button".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    serve_and_close(hub, ticket_id)
    chat(hub, cid, "/csat 4", "fi")
    told = len(assistant[1].told)
    chat(hub, cid, "/hiring_supports", "fi")  # an older answer's button
    assert assistant[1].told[told:] == ["/hiring_supports"]
    assert ticket_public(hub, ticket_id)["satisfaction"]["comment"] is None
    chat(hub, cid, "Kiitos!", "fi")  # no longer right after the score: a question for the assistant
    assert assistant[1].told[told:] == ["/hiring_supports", "Kiitos!"]


def test_no_answer_is_fine_the_conversation_goes_on(hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    cid = "csat-ignored".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    serve_and_close(hub, ticket_id)
    told = len(assistant[1].told)
    turn = chat(hub, cid, "Mikä on starttiraha?", "fi")
    assert assistant[1].told[told:] == ["Mikä on starttiraha?"]  # a new question for the assistant
    assert turn["replies"] and all(r["text"] != render("sys_csat_thanks", "fi").text for r in turn["replies"])
    stored = ticket_public(hub, ticket_id)["satisfaction"]
    assert stored["score"] is None and stored["comment"] is None  # not a comment either
    # a score pressed later still counts; the message after that is the comment
    chat(hub, cid, "/csat 5", "fi")
    assert ticket_public(hub, ticket_id)["satisfaction"]["score"] == 5


def test_never_asked_twice_and_never_overwritten(hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    cid = "csat-twice".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    first = serve_and_close(hub, ticket_id)
    # the customer passes the question by and asks for a person again: the same ticket reopens, and
    # is closed again — without a second question
    assert chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"] == ticket_id
    closed = serve_and_close(hub, ticket_id)
    assert closed["satisfaction"] == first["satisfaction"]  # asked when it first closed
    questions = [e for e in ticket_public(hub, ticket_id)["transcript"]
                 if e["sender"] == "system" and e["text"] == render("sys_csat_question", "fi").text]
    assert len(questions) == 1  # asked once
    assert chat(hub, cid, "/csat 3", "fi")["replies"][0]["text"] == render("sys_csat_comment", "fi").text
    chat(hub, cid, "/csat skip", "fi")
    # a second press: already answered, the first score stays
    again = chat(hub, cid, "/csat 1", "fi")
    assert [r["text"] for r in again["replies"]] == [render("sys_csat_already", "fi").text]
    assert ticket_public(hub, ticket_id)["satisfaction"]["score"] == 3


@pytest.mark.parametrize("outcome", ["spam", "duplicate", "no_response", "callback_done"])
def test_not_asked_when_nobody_was_served(hub: TestClient, outcome: str) -> None:
    cid = f"csat-{outcome}".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    closed = serve_and_close(hub, ticket_id, outcome)
    assert closed["satisfaction"] is None
    assert all(e["text"] != render("sys_csat_question", "fi").text for e in ticket_public(hub, ticket_id)["transcript"])


def test_a_score_out_of_range_asks_again_and_stores_nothing(hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    cid = "csat-garbage".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    serve_and_close(hub, ticket_id)
    told = len(assistant[1].told)
    for garbage in ("/csat 9", "/csat 0", "/csat four"):
        replies = chat(hub, cid, garbage, "fi")["replies"]
        assert [(r["text"], [b["payload"] for b in r["buttons"]]) for r in replies] == [
            (render("sys_csat_question", "fi").text, [p for _t, p in SCORES])]
    assert assistant[1].told[told:] == []
    assert ticket_public(hub, ticket_id)["satisfaction"]["score"] is None


def test_a_press_without_a_question_is_an_ordinary_message(hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    chat(hub, "csat-none".ljust(32, "0"), "/csat 5", "fi")
    assert assistant[1].told == ["/csat 5"]


# --- Telegram ---------------------------------------------------------------------------------------

@pytest.fixture
def tg(api: BotApi, tg_settings: Settings, assistant: tuple[str, Assistant]) -> Iterator[Running]:
    running = start_worker(api, tg_settings.model_copy(update={"rasa_url": assistant[0]}))
    try:
        with running.db() as db:
            for code in db.scalars(select(Queue.code)).all():
                f.shift(db, "espoo", code)
            f.adviser(db, "espoo.csat", languages="fi,sv,en", max_open=20)
            f.adviser(db, "admin.csat", role="admin")
        yield running
    finally:
        running.stop()


def _keyboard(sent: dict[str, Any]) -> list[list[tuple[str, str]]]:
    return [[(b["text"], b["callback_data"]) for b in row] for row in sent["reply_markup"]["inline_keyboard"]]


@pytest.mark.parametrize(("language", "chat_id", "comment"), [
    ("so", 9410, "La-taliyuhu aad buu ii caawiyay, mahadsanid."),
    ("sv", 9420, "Snabbt och vänligt svar, tack så mycket."),
])
def test_telegram_round_trip_with_the_inline_keyboard(tg: Running, assistant: tuple[str, Assistant], language: str,
                                                      chat_id: int, comment: str) -> None:
    tg.api.push(message_update(chat_id, ASKING[language], language_code=language))
    tg.api.wait_sent(chat_id, 2)  # the AI disclosure and the hand-off
    with tg.db() as db:
        ticket = db.scalars(select(Ticket).join(Conversation, Conversation.id == Ticket.conversation_id)
                            .where(Conversation.external_id == str(chat_id))).one()
        ticket_id = ticket.id
    with TestClient(create_app(tg.settings)) as client:
        serve_and_close(client, ticket_id)
        sent = tg.api.wait_sent(chat_id, 5)  # the reply, the closing notice, the question
        assert sent[3]["text"] == escaped("sys_ticket_closed", language)
        assert sent[4]["text"] == escaped("sys_csat_question", language)
        assert _keyboard(sent[4]) == [SCORES]  # one row of five; callback data well under 64 bytes
        assert all(len(p.encode()) <= 64 for _t, p in SCORES)

        told = len(assistant[1].told)
        tg.api.push(callback_update(chat_id, "/csat 5", language_code=language))
        prompt = tg.api.wait_sent(chat_id, 6)[-1]
        assert prompt["text"] == escaped("sys_csat_comment", language)
        assert _keyboard(prompt) == [[(render("sys_csat_comment", language).buttons[0].title, "/csat skip")]]
        tg.api.push(message_update(chat_id, comment, language_code=language))
        assert tg.api.wait_sent(chat_id, 7)[-1]["text"] == escaped("sys_csat_thanks", language)
        assert assistant[1].told[told:] == []  # the hub answered both itself

        # pressed once more (an old keyboard): already answered, nothing overwritten
        tg.api.push(callback_update(chat_id, "/csat 1", language_code=language))
        assert tg.api.wait_sent(chat_id, 8)[-1]["text"] == escaped("sys_csat_already", language)
        stored = ticket_public(client, ticket_id)["satisfaction"]
    assert stored["score"] == 5 and stored["comment"] == comment


def test_a_scale_is_one_keyboard_row_and_phrases_one_per_row() -> None:
    assert keyboard([{"title": str(s), "payload": f"/csat {s}"} for s in range(1, 6)]) == [
        [{"text": str(s), "callback_data": f"/csat {s}"} for s in range(1, 6)]]
    assert keyboard([{"title": "Talk to an adviser", "payload": "/request_human"}, {"title": "Ok", "payload": "/ok"}]) \
        == [[{"text": "Talk to an adviser", "callback_data": "/request_human"}], [{"text": "Ok", "callback_data": "/ok"}]]


# --- e-mail -----------------------------------------------------------------------------------------

@pytest.fixture
def relay() -> Iterator[tuple[str, MailCapture]]:
    """A fresh capture per test."""
    with running_capture() as running:
        yield running


@pytest.fixture
def mail_hub(tmp_path: Any, relay: tuple[str, MailCapture]) -> Iterator[tuple[TestClient, Settings, MailCapture]]:
    """The mail intake and the hub on one database, outgoing mail to the relay stand-in."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'csat-mail.db'}", smtp_port=free_port(),
                        smtp_relay=relay[0], rasa_url=f"http://127.0.0.1:{free_port()}",
                        public_url="https://luotsi.example.fi")
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    controller = make_controller(settings, make_sessionmaker(engine))
    controller.start()
    try:
        with TestClient(create_app(settings)) as client:
            with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
                for code in db.scalars(select(Queue.code)).all():
                    f.shift(db, "espoo", code)
                f.adviser(db, "espoo.csat", languages="fi,sv,en", max_open=20)
                f.adviser(db, "admin.csat", role="admin")
            yield client, settings, relay[1]
    finally:
        controller.stop()
        engine.dispose()


MAILS = {
    "sv": "Hej! Jag har blivit uppsagd från mitt arbete och vill anmäla mig som arbetssökande. Hur gör jag det, "
          "och vilka dokument behöver jag ha med mig? Tack på förhand för hjälpen.",
    "ar": "مرحبا، لقد فقدت عملي وأريد أن أسجل نفسي كباحث عن عمل. كيف أفعل ذلك، وما هي الوثائق التي أحتاجها؟ "
          "شكرا جزيلا على مساعدتكم.",
}


def _send_mail(settings: Settings, sender: str, language: str) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "jobseekers@luotsi.localhost", "Työnhaku"
    mail["Message-ID"] = f"<csat-{language}@example.net>"
    mail.set_content(MAILS[language])
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        client.send_message(mail, from_addr=sender, to_addrs=["jobseekers@luotsi.localhost"])


def _mails_to(capture: MailCapture, address: str, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [message_from_bytes(raw, policy=policy.default) for _f, to, raw in capture.messages if address in to]
        if len(found) >= count:
            return found  # type: ignore[return-value]
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} mails to {address}")


def _body(mail: EmailMessage) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content()).replace("\r\n", "\n")  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["sv", "ar"])
def test_email_link_to_the_one_question_page(mail_hub: tuple[TestClient, Settings, MailCapture], language: str) -> None:
    client, settings, capture = mail_hub
    sender = f"customer.{language}@example.net"
    _send_mail(settings, sender, language)
    _mails_to(capture, sender, 1)  # the acknowledgement
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        ticket = db.scalars(select(Ticket)).one()
        assert ticket.channel == "email" and ticket.language == language
        ticket_id = ticket.id
    serve_and_close(client, ticket_id)
    ack, reply, asked = _mails_to(capture, sender, 3)
    assert len(_mails_to(capture, sender, 3)) == 3  # the close itself sends no mail: only the question
    assert ack["Auto-Submitted"] == "auto-replied" and "tässä vastaus" in _body(reply)
    assert asked["Auto-Submitted"] == "auto-replied" and f"[Luotsi #{ticket_id}]" in asked["Subject"]
    assert asked["In-Reply-To"] == f"<csat-{language}@example.net>"
    body = _body(asked)
    link = re.search(r"https://luotsi\.example\.fi(/feedback/\S+)", body)
    assert link is not None
    path = link.group(1)
    expected = render("sys_csat_mail", language, ticket=ticket_id, link=link.group(0)).text
    assert body.strip() == expected.strip()
    token = path.rsplit("/", 1)[1]
    assert token != ticket_id and len(token) > 30  # the ticket id and a random part, never the id alone
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        assert token.split(".", 1)[1] not in json.dumps(ticket_public(client, ticket_id))  # only its hash is kept

    # the page: the ticket's language and direction, five choices, a comment, no script
    page = client.get(path)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert f'lang="{language}"' in page.text and f'dir="{"rtl" if language == "ar" else "ltr"}"' in page.text
    assert re.findall(r'type="radio" id="score-(\d)" name="score"', page.text) == ["1", "2", "3", "4", "5"]
    assert 'name="comment"' in page.text and "<script" not in page.text
    assert render("sys_csat_page_question", language).text in page.text

    # garbage: a clear error in the customer's language, nothing stored
    for bad in ({"score": "7"}, {"score": "abc"}, {}, {"score": "3", "comment": "x" * (csat.MAX_COMMENT + 1)},
                {"score": "3", "comment": "a\x00b"}):
        refused = client.post(path, data=bad)
        assert refused.status_code == 422, bad
        assert 'role="alert"' in refused.text and f'lang="{language}"' in refused.text
    assert render("sys_csat_page_error", language).text in client.post(path, data={"score": "0"}).text
    assert ticket_public(client, ticket_id)["satisfaction"]["score"] is None

    comment = {"sv": "Bra hjälp, men svaret dröjde.", "ar": "خدمة ممتازة، شكرا لكم."}[language]
    answered = client.post(path, data={"score": "5", "comment": comment})
    assert answered.status_code == 200 and render("sys_csat_thanks", language).text in answered.text
    # answered twice: already answered, thank you — the first answer stays
    twice = client.post(path, data={"score": "1", "comment": "changed my mind"})
    assert twice.status_code == 409 and render("sys_csat_already", language).text in twice.text
    assert render("sys_csat_already", language).text in client.get(path).text
    stored = ticket_public(client, ticket_id)["satisfaction"]
    assert stored["score"] == 5 and stored["comment"] == comment

    # a made-up or altered link finds nothing
    assert client.get(f"/feedback/{ticket_id}").status_code == 404
    assert client.get(f"/feedback/{ticket_id}.{'A' * 32}").status_code == 404
    assert client.post(f"/feedback/{ticket_id}.{'A' * 32}", data={"score": "5"}).status_code == 404


def test_privacy_export_includes_the_answer_and_erasure_clears_the_comment(
        mail_hub: tuple[TestClient, Settings, MailCapture]) -> None:
    client, settings, capture = mail_hub
    sender = "erase.me@example.net"
    _send_mail(settings, sender, "sv")
    _mails_to(capture, sender, 1)
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        ticket_id = db.scalars(select(Ticket.id)).one()
    serve_and_close(client, ticket_id)
    path = re.search(r"https://luotsi\.example\.fi(/feedback/\S+)", _body(_mails_to(capture, sender, 3)[-1]))
    assert path is not None
    comment = "Rådgivaren Anna hjälpte mig, mitt nummer är 040 765 4321."
    assert client.post(path.group(1), data={"score": "4", "comment": comment}).status_code == 200

    admin = sign_in(client, "admin.csat")
    export = client.post("/api/privacy/export", headers=admin, json={"email": sender})
    assert export.status_code == 200
    [exported] = export.json()["tickets"]
    assert exported["satisfaction"]["score"] == 4 and exported["satisfaction"]["comment"] == comment

    assert client.post("/api/privacy/erase", headers=admin, json={"email": sender}).status_code == 200
    stored = ticket_public(client, ticket_id)["satisfaction"]
    assert stored["comment"] is None and stored["score"] == 4  # the score stays for the statistics
    assert client.get(path.group(1)).status_code == 404  # the link ends with the erasure


def test_phone_tickets_are_not_asked(hub: TestClient) -> None:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        conversation = f.conversation(db, "+358401112223", channel="phone")
        from bot.services.shifts import OpeningHours
        from bot.services.tickets import do_handoff
        ticket_id = do_handoff(db, conversation_id=conversation.id, reason="asked_for_human", topic=None, now=f.now(),
                               hours=OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo",
                               reopen_days=7).ticket.id
    assert serve_and_close(hub, ticket_id)["satisfaction"] is None


def test_answers_are_counted_by_channel_and_score_without_personal_data(
        hub: TestClient, assistant: tuple[str, Assistant]) -> None:
    def value(text: str, name: str, **labels: str) -> float:
        wanted = "".join(f'{k}="{v}"' for k, v in labels.items())
        found = re.search(rf"^{name}\{{{wanted}\}} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    before = hub.get("/metrics", headers=scrape).text
    cid = "csat-metrics".ljust(32, "0")
    ticket_id = chat(hub, cid, ASKING["fi"], "fi")["ticket"]["id"]
    serve_and_close(hub, ticket_id)
    chat(hub, cid, "/csat 3", "fi")
    chat(hub, cid, "/csat 4", "fi")  # already answered: not counted again
    after = hub.get("/metrics", headers=scrape).text
    assert value(after, "luotsi_csat_answers_total", channel="web") == value(before, "luotsi_csat_answers_total",
                                                                             channel="web") + 1
    assert value(after, "luotsi_csat_scores_total", score="3") == value(before, "luotsi_csat_scores_total", score="3") + 1
    assert value(after, "luotsi_csat_scores_total", score="4") == value(before, "luotsi_csat_scores_total", score="4")
    assert ticket_id not in after and cid not in after
