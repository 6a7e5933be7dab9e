"""Employers' intakes as guided chat conversations (issue 17), through POST /api/chat and Telegram.

The assistant here is a stand-in that decides as the real Rasa form does (a button payload starts
the flow, every other message during it is an answer, "person" hands off); the real one runs in
tests/test_guidance_stack.py. Each dialogue goes from the button's payload to the ticket, and the
ticket's intake is checked field by field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from bot.locales import HELSINKI, catalogues, fill
from bot.models import Conversation, Ticket
from bot.services import employer_flow
from bot.services.employer_flow import read_date, read_languages, texts
from integrations.telegram import render as wire
from nlu import langid
from tests import factories as f
from tests.http_stub import serving
from tests.telegram_api import BotApi, callback_update, message_update

STARTS = {"/recruitment_assignment": "assignment", "/change_notice": "change_notice"}


class FormRasa(BaseHTTPRequestHandler):
    """Rasa's decisions for these dialogues: the intents' rules, the form, the hand-off rule. It
    keeps what the hub predicted for each answer (`metadata.guidance.finishes`)."""

    finishes: ClassVar[list[tuple[str, bool]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        text, sender = str(body.get("message")), body.get("sender")
        guidance = (body.get("metadata") or {}).get("guidance")
        if text in STARTS:
            custom: dict[str, Any] = {"luotsi": "guidance", "start": STARTS[text], "text": text}
        elif "person" in text:
            custom = {"luotsi": "handoff", "reason": "asked_for_human", "topic": "job_search_help"}
        elif guidance is not None:
            FormRasa.finishes.append((text, bool(guidance.get("finishes"))))
            custom = {"luotsi": "guidance", "text": text}  # what validate_guidance_form sends
        else:
            custom = {"luotsi": "say", "key": "utter_recruiting_help"}
        data = json.dumps([{"recipient_id": sender, "custom": custom}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    FormRasa.finishes = []
    with serving(FormRasa) as url:
        yield url


@pytest.fixture
def hub(settings: Settings, rasa_url: str) -> Iterator[TestClient]:
    # an intake is some twenty quick answers: the chat's rate limits are not what is tested here
    quick = {"rasa_url": rasa_url, "chat_rate_per_conversation": 1000, "chat_rate_per_address": 1000}
    with TestClient(create_app(settings.model_copy(update=quick))) as c:
        yield c


def _chat(hub: TestClient, cid: str, text: str, locale: str) -> dict[str, Any]:
    r = hub.post("/api/chat", json={"conversation_id": cid, "text": text, "locale": locale})
    assert r.status_code == 200, r.text
    payload = dict(r.json())
    return {**payload, "replies": f.answers(payload["replies"])}


def _said(turn: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in turn["replies"])


def _payloads(turn: dict[str, Any]) -> list[str]:
    return [b["payload"] for r in turn["replies"] for b in r["buttons"]]


def _today() -> date:
    return datetime.now(timezone.utc).astimezone(HELSINKI).date()


def _dmy(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


START = _today() + timedelta(days=45)
NEGOTIATIONS = _today() + timedelta(days=20)
SOON = _today() + timedelta(days=40)


def _tickets(hub: TestClient) -> list[Ticket]:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        return list(db.scalars(select(Ticket)))


def _conversation(hub: TestClient, cid: str) -> Conversation:
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        found = db.scalars(select(Conversation).where(Conversation.external_id == cid)).one()
        db.expunge(found)
        return found


def _run(hub: TestClient, cid: str, lang: str, answers: list[str]) -> dict[str, Any]:
    turn: dict[str, Any] = {}
    for n, answer in enumerate(answers):
        turn = _chat(hub, cid, answer, lang)
        assert turn["replies"], (n, answer)
        if n < len(answers) - 1:
            assert turn["ticket"] is None, (n, answer, _said(turn))
    return turn


# --- a recruitment assignment, from the button to the ticket, in three languages -------------------

ASSIGNMENTS: dict[str, tuple[list[str], dict[str, Any]]] = {
    "fi": (["/recruitment_assignment", "Rakennus Virtanen Oy", "3982597-4", "Maija Virtanen",
            "maija.virtanen@example.fi", "040 765 4321", "Kirvesmies", "2", "Espoo", _dmy(START), "määräaikainen",
            "12", "37,5", "suomi B1", "siinä kaikki", "ammattitutkinto, työturvallisuuskortti", "kyllä", "ei",
            "kyllä", "rakennusautomaatio", "lähetä"],
           {"company": {"name": "Rakennus Virtanen Oy", "business_id": "3982597-4"},
            "contact": {"name": "Maija Virtanen", "email": "maija.virtanen@example.fi", "phone": "+358407654321"},
            "job": {"title": "Kirvesmies", "positions": 2, "municipality": "Espoo", "start_date": START.isoformat(),
                    "permanent": False, "months": 12, "hours_per_week": 37.5,
                    "languages": [{"language": "fi", "level": "B1"}],
                    "requirements": "ammattitutkinto, työturvallisuuskortti"},
            "training_route_welcome": True, "subsidy_welcome": False, "share_across_region": True,
            "skills_needed": "rakennusautomaatio"}),
    "sv": (["/recruitment_assignment", "Bygg Lindström Ab", "9190748-3", "Erik Lindström", "erik@lindstrom.fi",
            "+358 50 123 4567", "Lagerarbetare", "1", "vanda", START.isoformat(), "fast", "40",
            "svenska B2, finska A2", "truckkort", "nej", "ja", "nej", "hoppa över", "skicka"],
           {"company": {"name": "Bygg Lindström Ab", "business_id": "9190748-3"},
            "contact": {"name": "Erik Lindström", "email": "erik@lindstrom.fi", "phone": "+358501234567"},
            "job": {"title": "Lagerarbetare", "positions": 1, "municipality": "Vantaa", "start_date": START.isoformat(),
                    "permanent": True, "months": None, "hours_per_week": 40,
                    "languages": [{"language": "sv", "level": "B2"}, {"language": "fi", "level": "A2"}],
                    "requirements": "truckkort"},
            "training_route_welcome": False, "subsidy_welcome": True, "share_across_region": False,
            "skills_needed": None}),
    # English, with the buttons: their payloads are what a press sends
    "en": (["/recruitment_assignment", "Helsinki Code Ltd", "3378876-2", "Amina Yusuf", "amina@code.example.com",
            "045 111 2222", "Software developer", "3", "Helsinki", f"{SOON.day}.{SOON.month}.", "permanent", "37.5",
            "lang:en", "B2", "more", "lang:fi", "A2", "done", "Python, SQL", "yes", "yes", "yes",
            "AI and data skills", "send"],
           {"company": {"name": "Helsinki Code Ltd", "business_id": "3378876-2"},
            "contact": {"name": "Amina Yusuf", "email": "amina@code.example.com", "phone": "+358451112222"},
            "job": {"title": "Software developer", "positions": 3, "municipality": "Helsinki",
                    "start_date": SOON.isoformat(), "permanent": True, "months": None, "hours_per_week": 37.5,
                    "languages": [{"language": "en", "level": "B2"}, {"language": "fi", "level": "A2"}],
                    "requirements": "Python, SQL"},
            "training_route_welcome": True, "subsidy_welcome": True, "share_across_region": True,
            "skills_needed": "AI and data skills"}),
}


@pytest.mark.parametrize("lang", sorted(ASSIGNMENTS))
def test_a_recruitment_assignment_from_the_button_to_the_ticket(hub: TestClient, lang: str) -> None:
    answers, expected = ASSIGNMENTS[lang]
    cid = f"assignment-{lang}"
    first = _chat(hub, cid, answers[0], lang)
    assert texts(lang)["intro"]["assignment"] in _said(first)
    assert first["replies"][-1]["text"] == texts(lang)["questions"]["company.name"]
    turn = _run(hub, cid, lang, answers[1:])
    ticket_ref = turn["ticket"]
    assert ticket_ref is not None and ticket_ref["queue"] == "employer_advisory" and ticket_ref["status"] == "queued"
    assert ticket_ref["id"] in _said(turn)  # the result names the ticket
    # the hub told the form that only "send" ends the flow
    assert [done for _, done in FormRasa.finishes] == [False] * (len(answers) - 2) + [True]
    [ticket] = _tickets(hub)
    assert ticket.id == ticket_ref["id"] and ticket.language == lang and ticket.channel == "web"
    intake = ticket.intake
    assert intake is not None and intake["type"] == "assignment"
    for section, values in expected.items():
        if isinstance(values, dict):
            for name, value in values.items():
                assert intake[section].get(name) == value, (section, name)
        else:
            assert intake.get(section) == values, section
    conversation = _conversation(hub, cid)
    assert conversation.guidance is None and ticket.conversation_id == conversation.id


CHANGE_NOTICES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "fi": (["/change_notice", "Konepaja Mäkinen Oy", "2328601-3", "Pekka Mäkinen", "pekka@konepaja.fi", "09 123 4567",
            "45", "12", "irtisanomisia", _dmy(NEGOTIATIONS), "hitsausautomaatio", "lähetä"],
           {"company": {"name": "Konepaja Mäkinen Oy", "business_id": "2328601-3"},
            "contact": {"name": "Pekka Mäkinen", "email": "pekka@konepaja.fi", "phone": "+35891234567"},
            "staff": 45, "affected": 12, "kind": "dismissal", "negotiations_start": NEGOTIATIONS.isoformat(),
            "skills_needed": "hitsausautomaatio"}),
    "sv": (["/change_notice", "Tryckeri Nyström Ab", "2904047-9", "Anna Nyström", "anna@nystrom.fi",
            "040 222 3333", "25", "5", "permitteringar", NEGOTIATIONS.isoformat(), "hoppa över", "skicka"],
           {"company": {"name": "Tryckeri Nyström Ab", "business_id": "2904047-9"},
            "contact": {"name": "Anna Nyström", "email": "anna@nystrom.fi", "phone": "+358402223333"},
            "staff": 25, "affected": 5, "kind": "layoff", "negotiations_start": NEGOTIATIONS.isoformat(),
            "skills_needed": None}),
    "en": (["/change_notice", "Vantaa Logistics Ltd", "9666972-8", "John Smith", "john.smith@vlog.example.com",
            "+358 44 555 6666", "120", "30", "dismissal", _dmy(NEGOTIATIONS), "skip", "send"],
           {"company": {"name": "Vantaa Logistics Ltd", "business_id": "9666972-8"},
            "contact": {"name": "John Smith", "email": "john.smith@vlog.example.com", "phone": "+358445556666"},
            "staff": 120, "affected": 30, "kind": "dismissal", "negotiations_start": NEGOTIATIONS.isoformat(),
            "skills_needed": None}),
}


@pytest.mark.parametrize("lang", sorted(CHANGE_NOTICES))
def test_a_change_notice_from_the_button_to_the_ticket(hub: TestClient, lang: str) -> None:
    answers, expected = CHANGE_NOTICES[lang]
    cid = f"notice-{lang}"
    first = _chat(hub, cid, answers[0], lang)
    assert texts(lang)["intro"]["change_notice"] in _said(first)
    turn = _run(hub, cid, lang, answers[1:])
    assert turn["ticket"] is not None and turn["ticket"]["queue"] == "employer_advisory"
    [ticket] = _tickets(hub)
    intake = ticket.intake
    assert intake is not None and intake["type"] == "change_notice"
    for name, value in expected.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                assert intake[name].get(inner) == v, (name, inner)
        else:
            assert intake.get(name) == value, name
    assert intake["coordination"] is (expected["affected"] >= 10)
    assert ticket.priority > 0  # change security goes first in the employer advisory


# --- wrong answers, changes, stopping, a person --------------------------------------------------------

def test_wrong_answers_are_explained_and_the_same_question_is_asked_again(hub: TestClient) -> None:
    cid, lang = "wrong-fi", "fi"
    cat = texts(lang)
    errors, questions = cat["errors"], cat["questions"]

    def refused(answer: str, error: str, question: str, **values: str) -> None:
        turn = _chat(hub, cid, answer, lang)
        assert [r["text"] for r in turn["replies"]] == [fill(errors[error], values), questions[question]]

    _chat(hub, cid, "/change_notice", lang)
    _chat(hub, cid, "Testi Oy", lang)
    refused("3982597-5", "invalid_business_id", "company.business_id")  # a wrong check digit
    refused("12345", "invalid_business_id", "company.business_id")
    _chat(hub, cid, "3982597-4", lang)
    _chat(hub, cid, "Testi Henkilö", lang)
    refused("testi(at)yritys.fi", "invalid_email", "contact.email")
    _chat(hub, cid, "testi@yritys.fi", lang)
    refused("123", "invalid_phone", "contact.phone")
    _chat(hub, cid, "040 123 4567", lang)
    refused("noin kymmenen", "not_a_number", "staff")
    refused("0", "out_of_range", "staff")
    refused("5000000", "out_of_range", "staff")  # the API's own limit
    _chat(hub, cid, "8", lang)
    refused("9", "affected_over_staff", "affected", staff="8")
    _chat(hub, cid, "3", lang)
    refused("ehkä", "invalid_choice", "kind")
    _chat(hub, cid, "lomautuksia", lang)
    refused("31.2.2027", "invalid_date", "negotiations_start")
    refused(_dmy(_today() + timedelta(days=4000)), "date_out_of_range", "negotiations_start")
    assert _tickets(hub) == []  # nothing half-saved
    _chat(hub, cid, _dmy(NEGOTIATIONS), lang)
    summary = _chat(hub, cid, "ohita", lang)
    assert summary["replies"][-1]["text"].startswith(cat["texts"]["summary_header"])
    assert _payloads(summary) == ["send", "change", "stop"]
    done = _chat(hub, cid, "send", lang)
    assert done["ticket"] is not None
    [ticket] = _tickets(hub)
    assert ticket.intake is not None
    assert (ticket.intake["staff"], ticket.intake["affected"], ticket.intake["kind"]) == (8, 3, "layoff")


def test_a_start_date_in_the_past_and_absurd_numbers_in_an_assignment(hub: TestClient) -> None:
    cid, lang = "wrong-en", "en"
    errors, questions = texts(lang)["errors"], texts(lang)["questions"]
    for answer in ["/recruitment_assignment", "Acme Ltd", "3982597-4", "A Person", "a@acme.fi", "0401234567", "Cook"]:
        _chat(hub, cid, answer, lang)
    for bad, error in (("0", "out_of_range"), ("-2", "out_of_range"), ("501", "out_of_range"), ("2.5", "out_of_range")):
        turn = _chat(hub, cid, bad, lang)
        assert [r["text"] for r in turn["replies"]] == [errors[error], questions["job.positions"]], bad
    _chat(hub, cid, "1", lang)
    _chat(hub, cid, "Kauniainen", lang)
    yesterday = _today() - timedelta(days=1)
    for bad, error in ((_dmy(yesterday), "date_in_past"), (yesterday.isoformat(), "date_in_past"),
                       ("next spring", "invalid_date")):
        turn = _chat(hub, cid, bad, lang)
        assert [r["text"] for r in turn["replies"]] == [errors[error], questions["job.start_date"]], bad
    assert _payloads(_chat(hub, cid, _dmy(START), lang)) == ["permanent", "fixed_term"]
    _chat(hub, cid, "fixed_term", lang)
    turn = _chat(hub, cid, "100", lang)
    assert [r["text"] for r in turn["replies"]] == [errors["out_of_range"], questions["job.months"]]
    _chat(hub, cid, "6", lang)
    turn = _chat(hub, cid, "168", lang)
    assert [r["text"] for r in turn["replies"]] == [errors["out_of_range"], questions["job.hours_per_week"]]
    _chat(hub, cid, "30", lang)
    turn = _chat(hub, cid, "Klingon C1", lang)
    assert turn["replies"][0]["text"] == errors["unknown_language"]
    turn = _chat(hub, cid, "Finnish B1, English", lang)
    assert turn["replies"][0]["text"] == errors["missing_level"]
    turn = _chat(hub, cid, "none", lang)
    assert turn["replies"][-1]["text"] == questions["job.requirements"]
    assert _tickets(hub) == []


def test_one_answer_is_changed_from_the_summary_without_starting_over(hub: TestClient) -> None:
    answers, expected = ASSIGNMENTS["en"]
    cid, lang = "change-en", "en"
    summary = _run(hub, cid, lang, answers[:-1])
    assert _payloads(summary) == ["send", "change", "stop"]
    assert "• E-mail: amina@code.example.com" in summary["replies"][-1]["text"]
    # typed: "change e-mail" asks the e-mail again, then the summary comes back
    asked = _chat(hub, cid, "change e-mail", lang)
    assert asked["replies"][-1]["text"] == texts(lang)["questions"]["contact.email"]
    wrong = _chat(hub, cid, "amina at code", lang)
    assert wrong["replies"][0]["text"] == texts(lang)["errors"]["invalid_email"]
    back = _chat(hub, cid, "recruiting@code.example.com", lang)
    assert "• E-mail: recruiting@code.example.com" in back["replies"][-1]["text"]
    # with the buttons: the list of answers, then the one to change; a fixed-term job asks its months
    listed = _chat(hub, cid, "change", lang)
    assert "edit:contact.email" in _payloads(listed) and "edit:job.months" not in _payloads(listed)
    assert all(len(wire.callback_data("", p).encode()) <= 64 for p in _payloads(listed))
    assert _payloads(_chat(hub, cid, "edit:job.permanent", lang)) == ["permanent", "fixed_term"]
    months = _chat(hub, cid, "fixed_term", lang)
    assert months["replies"][-1]["text"] == texts(lang)["questions"]["job.months"]
    again = _chat(hub, cid, "18", lang)
    assert "fixed-term, 18 months" in again["replies"][-1]["text"]
    unclear = _chat(hub, cid, "hmm", lang)
    assert unclear["replies"][0]["text"] == texts(lang)["texts"]["summary_not_understood"]
    done = _chat(hub, cid, "send", lang)
    assert done["ticket"] is not None
    [ticket] = _tickets(hub)
    intake = ticket.intake
    assert intake is not None and intake["contact"]["email"] == "recruiting@code.example.com"
    assert intake["job"]["permanent"] is False and intake["job"]["months"] == 18
    assert intake["job"]["title"] == expected["job"]["title"] and intake["company"] == expected["company"]


@pytest.mark.parametrize(("lang", "stop"), [("fi", "lopeta"), ("sv", "avbryt"), ("en", "cancel")])
def test_stopping_half_way_sends_nothing(hub: TestClient, lang: str, stop: str) -> None:
    answers, _ = ASSIGNMENTS[lang]
    cid = f"stop-{lang}"
    _run(hub, cid, lang, answers[:6])
    stopped = _chat(hub, cid, stop, lang)
    assert stopped["replies"][0]["text"] == texts(lang)["texts"]["stopped"]
    assert _payloads(stopped) == ["/recruitment_assignment"]  # start again
    assert FormRasa.finishes[-1] == (stop, True)
    assert _tickets(hub) == [] and _conversation(hub, cid).guidance is None
    # the assistant answers as usual again; the summary's stop button also sends nothing
    assert _chat(hub, cid, "kiitos", lang)["replies"]
    _run(hub, cid, lang, answers[:-1])
    assert _chat(hub, cid, "stop", lang)["ticket"] is None
    assert _tickets(hub) == []


def test_asking_for_a_person_mid_intake_goes_to_the_employer_advisory(hub: TestClient) -> None:
    _run(hub, "person-en", "en", ["/change_notice", "Acme Ltd", "3982597-4"])
    handed = _chat(hub, "person-en", "I want to talk to a person", "en")
    assert handed["ticket"] is not None and handed["ticket"]["queue"] == "employer_advisory"
    [ticket] = _tickets(hub)
    assert ticket.topic == "change_security" and ticket.intake is None
    assert _conversation(hub, "person-en").guidance is None  # the intake ended with the hand-off


# --- Telegram: the same hub turn, its buttons as inline keyboards ----------------------------------

def test_telegram_shows_the_intakes_buttons_and_sends_the_notice(api: BotApi, tg_settings: Settings,
                                                                  rasa_url: str) -> None:
    from tests.test_telegram import start_worker

    tg = start_worker(api, tg_settings.model_copy(update={"rasa_url": rasa_url}))
    chat = 7_700_001
    try:
        def press(data: str, count: int) -> list[dict[str, Any]]:
            before = len(api.sent(chat))
            api.push(callback_update(chat, data, language_code="fi"))
            return api.wait_sent(chat, before + count)[before:]

        def write(text: str, count: int = 1) -> list[dict[str, Any]]:
            before = len(api.sent(chat))
            api.push(message_update(chat, text, language_code="fi"))
            return api.wait_sent(chat, before + count)[before:]

        def keyboard(sent: dict[str, Any]) -> list[str]:
            return [b["callback_data"] for row in sent["reply_markup"]["inline_keyboard"] for b in row]

        first = press("/change_notice", 3)  # the AI disclosure, the intro, the first question
        assert first[-1]["text"] == texts("fi")["questions"]["company.name"]
        for answer in ("Konepaja Oy", "2328601-3", "Pekka Mäkinen", "pekka@konepaja.fi", "040 123 4567", "45"):
            write(answer)
        kind = write("3")[-1]
        assert keyboard(kind) == ["dismissal", "layoff"]
        assert [b["text"] for row in kind["reply_markup"]["inline_keyboard"] for b in row] == ["Irtisanomisia",
                                                                                               "Lomautuksia"]
        press("layoff", 1)
        skills = write(_dmy(NEGOTIATIONS))[-1]
        assert keyboard(skills) == ["skip"]
        summary = press("skip", 1)[-1]
        assert keyboard(summary) == ["send", "change", "stop"]
        assert "Konepaja Oy" in summary["text"]
        result = press("send", 3)
        with tg.db() as db:
            ticket = db.scalars(select(Ticket)).one()
        assert ticket.channel == "telegram" and ticket.intake is not None and ticket.intake["type"] == "change_notice"
        assert any(ticket.id in sent["text"] for sent in result)
    finally:
        tg.stop()


# --- pieces -----------------------------------------------------------------------------------------

def test_dates_are_read_in_the_usual_ways_and_a_date_without_a_year_is_the_next_one() -> None:
    today = date(2026, 11, 15)
    assert read_date("1.3.2027", today) == date(2027, 3, 1)
    assert read_date("01.03.27", today) == date(2027, 3, 1)
    assert read_date("2027-03-01", today) == date(2027, 3, 1)
    assert read_date("1/3/2027", today) == date(2027, 3, 1)
    assert read_date("1.3.", today) == date(2027, 3, 1)  # March has passed this year
    assert read_date("20.11.", today) == date(2026, 11, 20)
    assert read_date("١.٣.٢٠٢٧", today) == date(2027, 3, 1)  # Arabic digits
    for bad in ("31.2.2027", "tomorrow", "2027-13-01", ""):
        with pytest.raises(employer_flow._Wrong):
            read_date(bad, today)


def test_languages_are_read_with_their_levels_in_several_languages() -> None:
    assert read_languages("suomi B1, englanti B2", "fi") == [{"language": "fi", "level": "B1"},
                                                            {"language": "en", "level": "B2"}]
    assert read_languages("svenska C1 och finska", "sv") == [{"language": "sv", "level": "C1"},
                                                             {"language": "fi", "level": None}]
    assert read_languages("Russian b2", "en") == [{"language": "ru", "level": "B2"}]


def test_the_catalogues_offer_the_intakes_under_the_answers_in_every_language() -> None:
    for lang in langid.TIER1:
        responses = catalogues()[lang].responses
        assert responses["utter_recruiting_help"]["buttons"][0]["payload"] == "/recruitment_assignment", lang
        assert responses["utter_change_security"]["buttons"][0]["payload"] == "/change_notice", lang


def _keys(data: Any, prefix: str = "") -> set[str]:
    if isinstance(data, dict):
        return {k for key, value in data.items() for k in _keys(value, f"{prefix}{key}/")}
    return {prefix}


def test_every_language_of_the_intake_has_every_text() -> None:
    files = sorted(Path(employer_flow.TEXTS_DIR).glob("*.yml"))
    assert {"fi", "sv", "en"} <= {p.stem for p in files}
    english = yaml.safe_load((employer_flow.TEXTS_DIR / "en.yml").read_text(encoding="utf-8"))
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["language"] == path.stem
        own = {k for k in _keys(data) if not k.startswith(("words/", "aliases/", "language/"))}
        wanted = {k for k in _keys(english) if not k.startswith(("words/", "aliases/", "language/"))}
        assert own == wanted, (path.stem, own ^ wanted)
        for section in ("questions", "errors", "texts"):
            for key, text in data[section].items():
                assert sorted(set(re.findall(r"\{\w+\}", text))) == \
                    sorted(set(re.findall(r"\{\w+\}", english[section][key]))), (path.stem, key)


# every other tier-1 language: its own texts, its own typed words, buttons for the rest
OTHER_LANGUAGES = {"ru": ("пропустить", "отправить"), "uk": ("пропустити", "надіслати"),
                   "et": ("jäta vahele", "saada"), "ar": ("تخطي", "ارسل"), "so": ("ka bood", "dir")}


@pytest.mark.parametrize("lang", sorted(OTHER_LANGUAGES))
def test_a_change_notice_in_the_other_tier1_languages(hub: TestClient, lang: str) -> None:
    skip, send = OTHER_LANGUAGES[lang]
    cid = f"notice-{lang}"
    first = _chat(hub, cid, "/change_notice", lang)
    assert first["language"] == lang and texts(lang)["intro"]["change_notice"] in _said(first)
    _run(hub, cid, lang, ["Acme Oy", "3982597-4"])
    wrong = _chat(hub, cid, "x@", lang)  # the contact's name may be anything; then the e-mail
    assert wrong["replies"][-1]["text"] == texts(lang)["questions"]["contact.email"]
    refused = _chat(hub, cid, "x@", lang)
    assert refused["replies"][0]["text"] == texts(lang)["errors"]["invalid_email"]
    _run(hub, cid, lang, ["x@acme.fi", "0401234567", "50", "٣" if lang == "ar" else "3", "layoff",
                          _dmy(NEGOTIATIONS)])
    summary = _chat(hub, cid, skip, lang)
    assert summary["replies"][-1]["text"].startswith(texts(lang)["texts"]["summary_header"]), _said(summary)
    done = _chat(hub, cid, send, lang)
    assert done["ticket"] is not None
    [ticket] = _tickets(hub)
    assert ticket.intake is not None and (ticket.intake["affected"], ticket.intake["kind"]) == (3, "layoff")
    assert ticket.language == lang
