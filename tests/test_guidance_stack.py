"""The guided conversations through the web chat, with the real Rasa form and action server:
a self-assessment to the end, then a hand-off with the result on the adviser's ticket."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.models import Conversation
from bot.services.guidance_texts import guidance
from bot.services.rasa import bearer_token
from tests import factories as f
from tests.factories import answers

pytestmark = pytest.mark.rasa


def _chat(stack, cid: str, text: str, locale: str = "en") -> dict:  # type: ignore[no-untyped-def]
    r = httpx.post(f"{stack.hub_url}/api/chat", json={"conversation_id": cid, "text": text, "locale": locale},
                   timeout=30)
    assert r.status_code == 200, r.text
    payload = dict(r.json())
    return {**payload, "replies": answers(payload["replies"])}  # the AI disclosure: tests/test_stack.py


def _all(turn: dict) -> str:
    return "\n".join(r["text"] for r in turn["replies"])


def test_web_chat_self_assessment_then_hand_off_with_the_result_on_the_ticket(stack) -> None:  # type: ignore[no-untyped-def]
    f.staff_the_stack(stack.settings.database_url, "espoo.guidance", languages="fi,en")
    cid = uuid.uuid4().hex
    cat = guidance("en")
    first = _chat(stack, cid, "i want to test my finnish level")
    assert cat["texts"]["assess_intro"] in _all(first)
    assert cat["statements"]["listening"]["B1"] in _all(first)
    assert [b["payload"] for b in first["replies"][-1]["buttons"]] == ["yes", "no", "stop"]
    # speaking and writing at B1 reach the citizenship level; buttons and typed words mixed
    plan = ["yes", "no", "no",          # listening B1
            "yes", "nope", "yes",       # reading B2
            "yes", "no", "no",          # speaking B1
            "yes", "no", "no"]          # writing B1
    turn: dict = {}
    for n, answer in enumerate(plan):
        turn = _chat(stack, cid, answer)
        assert turn["replies"], n
        if n < len(plan) - 1:
            assert "12" in turn["replies"][-1]["text"], (n, _all(turn))  # "Question n/12"
    result = _all(turn)
    assert cat["texts"]["assess_citizenship_yes"] in result
    assert cat["texts"]["assess_not_certificate"].split(".")[0] in result
    # the assistant is back in charge after the form: a question is answered normally
    after = _chat(stack, cid, "how do i get the start-up grant")
    assert "starttiraha" in _all(after).lower()
    handed = _chat(stack, cid, "i want to talk to a person")
    assert handed["ticket"] is not None
    token = httpx.post(f"{stack.hub_url}/api/auth/token", data={"username": "espoo.guidance", "password": f.PASSWORD},
                       timeout=10).json()["access_token"]
    ticket = httpx.get(f"{stack.hub_url}/api/tickets/{handed['ticket']['id']}",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    language = ticket["assessment"]["language"]
    assert language["target"] == "fi" and language["complete"] is True
    assert language["skills"] == {"listening": "B1", "reading": "B2", "speaking": "B1", "writing": "B1"}
    assert language["yki"]["reading"] == 4 and language["citizenship_level"] is True


def test_web_chat_service_needs_in_arabic(stack) -> None:  # type: ignore[no-untyped-def]
    cid = uuid.uuid4().hex
    cat = guidance("ar")
    first = _chat(stack, cid, "ايش الخدمات اللي تناسبني", locale="ar")
    assert first["language"] == "ar"
    assert cat["texts"]["needs_intro"] in _all(first)
    assert cat["questions"]["role"]["text"] in _all(first)
    turn = _chat(stack, cid, "jobseeker", locale="ar")  # the button's payload
    for _ in range(12):
        if any(b["payload"] == "/request_human" for r in turn["replies"] for b in r["buttons"]):
            break
        turn = _chat(stack, cid, "تخطي", locale="ar")  # "skip", typed in Arabic
    assert cat["texts"]["needs_uncertain"] in _all(turn)


@pytest.mark.parametrize(("language", "ask", "number", "window"), [
    ("fi", "voitteko soittaa minulle", "040 765 4321", "afternoon"),
    ("ru", "перезвоните мне пожалуйста", "+358 50 111 2233", "morning"),
])
def test_web_chat_callback_request(stack, language: str, ask: str, number: str, window: str) -> None:  # type: ignore[no-untyped-def]
    from bot.locales import render
    from bot.services.callbacks import check_phone_number

    cid = uuid.uuid4().hex
    first = _chat(stack, cid, ask, locale=language)
    assert first["replies"][-1]["text"] == render("sys_callback_ask_number", language).text
    wrong = _chat(stack, cid, "12", locale=language)
    assert wrong["replies"][-1]["text"] == render("sys_callback_invalid_number", language).text
    windows = _chat(stack, cid, number, locale=language)
    assert [b["payload"] for b in windows["replies"][-1]["buttons"]] == ["morning", "afternoon"]
    done = _chat(stack, cid, window, locale=language)
    text = done["replies"][-1]["text"]
    assert check_phone_number(number) in text and render(f"sys_callback_window_{window}", language).text in text
    # the assistant answers again at once (the adviser will phone)
    assert _chat(stack, cid, "kiitos" if language == "fi" else "спасибо", locale=language)["replies"]


def test_asking_for_a_person_in_the_middle_of_the_self_assessment_hands_off(stack) -> None:  # type: ignore[no-untyped-def]
    cid = uuid.uuid4().hex
    first = _chat(stack, cid, "i want to test my finnish level")
    assert [b["payload"] for b in first["replies"][-1]["buttons"]] == ["yes", "no", "stop"]
    _chat(stack, cid, "yes")
    handed = _chat(stack, cid, "i want to talk to a person")
    assert handed["ticket"] is not None


def test_a_self_assessment_continues_after_rasa_is_killed_and_restarted(stack) -> None:  # type: ignore[no-untyped-def]
    """Rasa's dialogue state is in its SQL tracker store, not its memory (issue 16): a Rasa killed
    mid-form comes back with the conversation where it was — the form still active, the next answer
    taken as an answer, not as a new question."""
    cid = uuid.uuid4().hex
    cat = guidance("en")
    first = _chat(stack, cid, "i want to test my finnish level")
    assert cat["statements"]["listening"]["B1"] in _all(first)
    for answer in ("yes", "no", "no", "yes"):
        turn = _chat(stack, cid, answer)
        assert "12" in turn["replies"][-1]["text"]
    question = turn["replies"][-1]["text"]

    auth = {"Authorization": f"Bearer {bearer_token(stack.rasa_token)}"}
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as db:  # Rasa knows the conversation by the hub's id, not the widget's
        sender = db.execute(select(Conversation.id).where(Conversation.external_id == cid)).scalar_one()
    engine.dispose()
    tracker = httpx.get(f"{stack.settings.rasa_url}/conversations/{sender}/tracker", headers=auth, timeout=10).json()
    assert (tracker.get("active_loop") or {}).get("name") == "guidance_form"
    events_before = len(tracker["events"])

    stack.restart("rasa", kill=True)  # SIGKILL: nothing saved on the way out
    stack.wait_ready(timeout=300)

    tracker = httpx.get(f"{stack.settings.rasa_url}/conversations/{sender}/tracker", headers=auth, timeout=10).json()
    assert (tracker.get("active_loop") or {}).get("name") == "guidance_form"
    assert len(tracker["events"]) == events_before  # every event of the conversation came back
    nxt = _chat(stack, cid, "no")  # "no" is the answer to question 5, not a new intent
    assert "12" in nxt["replies"][-1]["text"] and nxt["replies"][-1]["text"] != question, _all(nxt)


def test_web_chat_change_notice_from_the_button_to_the_ticket(stack) -> None:  # type: ignore[no-untyped-def]
    """Issue 17 with the real form: the button under the change-security answer starts the intake,
    every answer (a business ID, an e-mail address, numbers) is taken as an answer, "send" ends the
    form in the same turn, and the answer carries the ticket; the assistant answers normally after."""
    from datetime import date, timedelta

    from bot.services.employer_flow import texts

    cid = uuid.uuid4().hex
    asked = _chat(stack, cid, "what is change security", locale="en")
    assert "/change_notice" in [b["payload"] for r in asked["replies"] for b in r["buttons"]]
    first = _chat(stack, cid, "/change_notice", locale="en")
    assert texts("en")["intro"]["change_notice"] in _all(first)
    soon = date.today() + timedelta(days=30)
    for answer in ("Vantaa Logistics Ltd", "9666972-8", "John Smith", "john.smith@vlog.example.com",
                   "+358 44 555 6666", "120", "4", "dismissal", f"{soon.day}.{soon.month}.{soon.year}", "skip"):
        turn = _chat(stack, cid, answer, locale="en")
        assert turn["ticket"] is None, (answer, _all(turn))
    assert [b["payload"] for b in turn["replies"][-1]["buttons"]] == ["send", "change", "stop"]
    sent = _chat(stack, cid, "send", locale="en")
    assert sent["ticket"] is not None and sent["ticket"]["queue"] == "employer_advisory"
    assert sent["ticket"]["id"] in _all(sent)
    engine = create_engine(stack.settings.database_url)
    with engine.connect() as db:
        conversation = db.execute(select(Conversation.guidance, Conversation.handler)
                                  .where(Conversation.external_id == cid)).one()
    engine.dispose()
    assert conversation.guidance is None and conversation.handler == "human"  # the advisers' now
