"""Issue 15, never silent: outside opening hours a waiting web-chat customer may leave an e-mail
address for a notice or a phone number for a call-back, and the adviser's reply sends the notice —
one short e-mail, without the reply (bot/services/waiting.py)."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.locales import render
from bot.models import Message, Queue, Ticket, TicketEvent
from bot.services.callbacks import parse_windows
from bot.services.guidance import callback_confirmation
from tests import factories as f
from tests.conftest import MailCapture, free_port
from tests.factories import answers
from tests.test_chat_decisions import rasa_deciding

HANDOFF = {"luotsi": "handoff", "reason": "asked_for_human", "topic": "register_jobseeker"}
ASKING = {"fi": "haluan puhua ihmisen kanssa", "ar": "أريد التحدث مع موظف من فضلك",
          "so": "Waxaan rabaa inaan la hadlo la-taliye", "ru": "Я хочу поговорить с консультантом"}


@pytest.fixture
def handoff_rasa() -> Iterator[str]:
    """Rasa deciding a hand-off for whatever it is told (the waiting messages never reach it)."""
    with rasa_deciding(lambda _body: HANDOFF) as url:
        yield url


@pytest.fixture
def hub(settings: Settings, handoff_rasa: str, relay: tuple[str, MailCapture]) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"rasa_url": handoff_rasa, "smtp_relay": relay[0]}))) as c:
        yield c


def chat(hub: TestClient, cid: str, text: str, language: str) -> dict:  # type: ignore[type-arg]
    r = hub.post("/api/chat", json={"conversation_id": cid, "text": text, "locale": language})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def hand_off(hub: TestClient, cid: str, language: str) -> dict:  # type: ignore[type-arg]
    turn = chat(hub, cid, ASKING[language], language)
    assert turn["language"] == language and turn["ticket"]["status"] == "queued"
    return turn


def ticket_of(hub: TestClient, ticket_id: str) -> Ticket:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        ticket = db.get(Ticket, ticket_id)
        assert ticket is not None
        db.expunge(ticket)
        return ticket


def staff_every_queue(hub: TestClient, username: str | None = None) -> None:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        for code in db.scalars(select(Queue.code)).all():
            f.shift(db, "espoo", code)
        if username:
            f.adviser(db, username, languages="fi,en")


@pytest.mark.parametrize("language", ["fi", "ar", "so"])
def test_a_handoff_outside_opening_hours_offers_a_notice_or_a_call_back(hub: TestClient, language: str) -> None:
    turn = hand_off(hub, f"offer-{language}".ljust(32, "0"), language)
    notice = answers(turn["replies"])[-1]
    offer = render("sys_waiting_offer", language)
    closed = render("sys_handoff_closed", language, opens_at="").text
    assert notice["text"].startswith(closed[:25]) and notice["text"].endswith(offer.text)
    assert [(b["title"], b["payload"]) for b in notice["buttons"]] == [(b.title, b.payload) for b in offer.buttons]
    assert [b["payload"] for b in notice["buttons"]] == ["/leave_email", "/leave_phone"]
    # a button asks for the address in the customer's language; the press is kept for the adviser too
    asked = chat(hub, f"offer-{language}".ljust(32, "0"), "/leave_email", language)["replies"]
    assert [r["text"] for r in asked] == [render("sys_waiting_ask_email", language).text]
    asked = chat(hub, f"offer-{language}".ljust(32, "0"), "/leave_phone", language)["replies"]
    assert [r["text"] for r in asked] == [render("sys_callback_ask_number", language).text]
    # a waiting message that leaves nothing is answered with when, and the offer again
    waiting = chat(hub, f"offer-{language}".ljust(32, "0"), "?", language)["replies"]
    assert len(waiting) == 1 and waiting[0]["text"].endswith(offer.text) and len(waiting[0]["buttons"]) == 2


def test_inside_opening_hours_there_is_no_offer(hub: TestClient) -> None:
    staff_every_queue(hub)
    cid = "open-hours".ljust(32, "0")
    turn = hand_off(hub, cid, "fi")
    notice = answers(turn["replies"])[-1]
    # followed by the place in the queue (issue 18): first in line, no claims yet to estimate from
    place = f'{render("sys_queue_next", "fi").text} {render("sys_queue_wait_unknown", "fi").text}'
    assert notice == {"text": f'{render("sys_handoff_on_shift", "fi").text}\n\n{place}', "buttons": []}
    waiting = chat(hub, cid, "onko siellä ketään?", "fi")["replies"]
    assert waiting == [{"text": f'{render("sys_waiting_on_shift", "fi").text}\n\n{place}', "buttons": []}]


@pytest.mark.parametrize(("language", "written", "masked"), [
    ("so", "Iimaylkaygu waa cali.warsame@example.so, mahadsanid", "c***@example.so"),
    ("fi", "maija.meikalainen@example.fi", "m***@example.fi"),
])
def test_an_e_mail_address_written_while_waiting_is_kept_for_the_notice(hub: TestClient, language: str, written: str,
                                                                        masked: str) -> None:
    cid = f"email-{language}".ljust(32, "0")
    ticket_id = hand_off(hub, cid, language)["ticket"]["id"]
    address = next(word.strip(",") for word in written.split() if "@" in word)
    replies = chat(hub, cid, written, language)["replies"]
    assert [r["text"] for r in replies] == [render("sys_waiting_email_saved", language, email=masked).text]
    assert address not in replies[0]["text"] and replies[0]["buttons"] == []
    ticket = ticket_of(hub, ticket_id)
    assert ticket.contact is not None and ticket.contact["notify_email"] == address
    assert ticket.status == "queued" and ticket.queue != "callbacks"
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kept = db.scalars(select(Message).where(Message.conversation_id == ticket.conversation_id,
                                                Message.sender == "customer").order_by(Message.id)).all()
    assert kept[-1].text == written and kept[-1].status == "for_adviser"  # the adviser reads it as written
    # the offer is made no more; the next message is answered with when an adviser answers
    again = chat(hub, cid, "kiitos", language)["replies"]
    assert len(again) == 1 and again[0]["buttons"] == [] and render("sys_waiting_offer", language).text not in again[0]["text"]


def test_a_phone_number_written_while_waiting_arranges_a_call_back(hub: TestClient) -> None:
    cid = "phone-fi".ljust(32, "0")
    ticket_id = hand_off(hub, cid, "fi")["ticket"]["id"]
    replies = chat(hub, cid, "soittakaa minulle iltapäivällä numeroon 040 123 4567", "fi")["replies"]
    ticket = ticket_of(hub, ticket_id)
    assert ticket.queue == "callbacks" and ticket.status == "queued" and ticket.due_at is not None
    assert ticket.contact is not None
    assert ticket.contact["phone"] == "+358401234567"
    assert ticket.contact["window"] == "afternoon"  # the window the message named
    confirmed = callback_confirmation("fi", "+35840 *** **67", ticket.due_at, "afternoon",
                                      parse_windows("morning=08:00-12:00,afternoon=12:00-16:00"))
    assert [r["text"] for r in replies] == [confirmed.text]
    assert "123 4567" not in replies[0]["text"] and "+358401234567" not in replies[0]["text"]
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
        kept = db.scalars(select(Message.status).where(Message.conversation_id == ticket.conversation_id,
                                                       Message.sender == "customer").order_by(Message.id.desc())).first()
    assert "callback_requested" in kinds and kept == "for_adviser"


def test_a_number_without_a_window_gets_the_earliest_call(hub: TestClient) -> None:
    cid = "phone-ru".ljust(32, "0")
    ticket_id = hand_off(hub, cid, "ru")["ticket"]["id"]
    chat(hub, cid, "+358 50 765 4321", "ru")
    ticket = ticket_of(hub, ticket_id)
    assert ticket.contact is not None and ticket.contact["phone"] == "+358507654321"
    assert ticket.contact["window"] in ("morning", "afternoon") and ticket.due_at is not None


def _mails_to(capture: MailCapture, address: str) -> list[EmailMessage]:
    return [message_from_bytes(raw, policy=policy.default) for _from, to, raw in capture.messages  # type: ignore[misc]
            if address in to]


def _adviser(hub: TestClient, username: str) -> dict[str, str]:
    token = hub.post("/api/auth/token", data={"username": username, "password": f.PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_advisers_reply_sends_one_notice_without_the_reply(hub: TestClient, relay: tuple[str, MailCapture]) -> None:
    cid = "notice-ar".ljust(32, "0")
    ticket_id = hand_off(hub, cid, "ar")["ticket"]["id"]
    address = "amina.notice@example.org"
    chat(hub, cid, f"بريدي {address}", "ar")
    # the advisory opens in the morning: an adviser claims the ticket and answers twice
    staff_every_queue(hub, "espoo.notice")
    auth = _adviser(hub, "espoo.notice")
    assert hub.post(f"/api/tickets/{ticket_id}/claim", headers=auth).status_code == 200
    for text in ("Hei Amina, salainen vastaus 4711.", "Toinen vastaus 4712."):
        reply = hub.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": text})
        assert reply.status_code == 200 and reply.json()["transcript"][-1]["status"] == "sent"
    mails = _mails_to(relay[1], address)
    assert len(mails) == 1  # once per ticket, not per reply
    mail = mails[0]
    assert mail["Subject"] == render("sys_answered_mail_subject", "ar").text
    assert mail["From"] == "jobseekers@luotsi.localhost"  # the mailbox of the ticket's queue: a reply reaches us
    body = mail.get_content()
    assert body.strip() == render("sys_answered_mail_web", "ar").text.strip()
    assert "4711" not in body and "4712" not in body and "Amina" not in body and "salainen" not in body
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
    assert kinds.count("notice_emailed") == 1 and "notice_requested" in kinds


def test_a_notice_that_cannot_be_sent_never_fails_the_reply(settings: Settings, handoff_rasa: str) -> None:
    dead_relay = f"127.0.0.1:{free_port()}"
    with TestClient(create_app(settings.model_copy(update={"rasa_url": handoff_rasa, "smtp_relay": dead_relay}))) as hub:
        cid = "notice-dead".ljust(32, "0")
        ticket_id = hand_off(hub, cid, "fi")["ticket"]["id"]
        chat(hub, cid, "ilmoita osoitteeseen pekka@example.fi", "fi")
        staff_every_queue(hub, "espoo.dead")
        auth = _adviser(hub, "espoo.dead")
        hub.post(f"/api/tickets/{ticket_id}/claim", headers=auth)
        for text in ("Vastaus yksi", "Vastaus kaksi"):
            reply = hub.post(f"/api/tickets/{ticket_id}/reply", headers=auth, json={"text": text})
            assert reply.status_code == 200 and reply.json()["transcript"][-1]["status"] == "sent"
        with hub.app.state.sessionmaker() as db:
            kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).all()
    # recorded on the ticket; the next reply tried again
    assert kinds.count("notice_failed") == 2 and "notice_emailed" not in kinds and "undelivered" not in kinds


def test_the_address_left_for_a_notice_is_found_by_a_privacy_export(hub: TestClient) -> None:
    cid = "notice-privacy".ljust(32, "0")
    ticket_id = hand_off(hub, cid, "fi")["ticket"]["id"]
    chat(hub, cid, "Liisa.Privacy@example.fi", "fi")
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.adviser(db, "admin.privacy", role="admin")
    export = hub.post("/api/privacy/export", headers=_adviser(hub, "admin.privacy"),
                      json={"email": "liisa.privacy@example.fi"})
    assert export.status_code == 200
    assert [t["id"] for t in export.json()["tickets"]] == [ticket_id]
