"""The guided conversations as the hub carries out the assistant's decisions ("start this flow",
"this is an answer": `do_guidance_turn`), and the hub's prediction (`would_finish`) that tells the
Rasa form in the same turn whether an answer ends the flow.

Questions come in the customer's language, answers are buttons or typed in any tier-1 language,
the results are kept with the conversation and reach the hand-off packet of the ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.db import make_engine, make_sessionmaker
from bot.models import Conversation, Ticket
from bot.services import shifts
from bot.services.guidance import GuidanceContext, do_guidance_turn, would_finish
from bot.services.guidance_texts import guidance
from bot.services.tickets import do_handoff
from tests import factories as f

CONTEXT = GuidanceContext(hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7)


@pytest.fixture
def hub(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _db(settings: Settings) -> Session:
    return make_sessionmaker(make_engine(settings.database_url))()


def _conversation(settings: Settings, language: str) -> str:
    with _db(settings) as db:
        return f.conversation(db, f"guided-{language}-{id(db)}", language=language).id


def _turn(hub: TestClient, cid: str, **body: Any) -> dict[str, Any]:
    """One decision of the assistant carried out; for an answer, the hub's prediction of whether it
    ends the flow must agree with what then happens (the Rasa form relies on it)."""
    now = datetime.now(timezone.utc)
    with hub.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        predicted = None
        if body.get("start") is None and isinstance(body.get("text"), str):
            conversation = session.get(Conversation, cid)
            assert conversation is not None
            predicted = would_finish(conversation, body["text"], now=now, context=CONTEXT)
        step = do_guidance_turn(session, cid, now=now, context=CONTEXT, **body)
    if predicted is not None:
        assert predicted == step.done, body
    return {"done": step.done, "messages": [
        {"text": m.text, "buttons": [{"title": b.title, "payload": b.payload} for b in m.buttons]}
        for m in step.messages]}


def _texts(step: dict[str, Any]) -> str:
    return "\n".join(m["text"] for m in step["messages"])


def test_unknown_conversations_and_flows_are_refused(hub: TestClient, settings: Settings) -> None:
    with pytest.raises(LookupError):
        _turn(hub, "nope", start="assessment")
    with pytest.raises(ValueError):
        _turn(hub, _conversation(settings, "en"), start="quiz")


def test_a_full_self_assessment_in_arabic_then_the_ticket_carries_the_result(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "ar")
    cat = guidance("ar")
    first = _turn(hub, cid, start="assessment", text="قيم لغتي الفنلندية")  # names Finnish: not asked again
    assert first["done"] is False
    assert cat["texts"]["assess_intro"] in _texts(first)
    assert cat["statements"]["listening"]["B1"] in _texts(first)  # starts at B1, in Arabic
    assert [b["payload"] for b in first["messages"][-1]["buttons"]] == ["yes", "no", "stop"]
    # listening B2 (typed Arabic yes/no, and a button), reading A2, speaking B1, writing A1
    answers = ["نعم", "لا", "yes",       # listening: B1 yes, C1 no, B2 yes → B2
               "لا", "ايوه", "no",        # reading: B1 no, A1 yes, A2 no → A1
               "نعم", "لا", "لا",         # speaking: B1 yes, C1 no, B2 no → B1
               "لا", "نعم", "نعم"]        # writing: B1 no, A1 yes, A2 yes → A2
    step: dict[str, Any] = {}
    for n, answer in enumerate(answers):
        step = _turn(hub, cid, text=answer)
        assert step["done"] is (n == len(answers) - 1), (n, _texts(step))
    result = _texts(step)
    assert "B2" in result and "(YKI 4)" in result
    assert cat["texts"]["assess_not_certificate"].split(".")[0] in result
    assert any(b["payload"] == "/request_human" for m in step["messages"] for b in m["buttons"])
    with _db(settings) as db:
        conversation = db.get(Conversation, cid)
        assert conversation is not None and conversation.guidance is None
        assert conversation.assessment is not None
        assert conversation.assessment["skills"] == {"listening": "B2", "reading": "A1", "speaking": "B1",
                                                     "writing": "A2"}
        assert conversation.assessment["citizenship_level"] is False and conversation.assessment["complete"]
        handoff = do_handoff(db, conversation_id=cid, reason="asked_for_human", topic=None, now=f.now(),
                             hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo",
                             reopen_days=7)
        assert handoff.ticket.assessment is not None
        assert handoff.ticket.assessment["language"]["skills"]["listening"] == "B2"


def test_typed_answers_in_other_languages_and_stopping(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "so")
    first = _turn(hub, cid, start="assessment")
    assert guidance("so")["texts"]["assess_choose_target"] in _texts(first)  # the language is asked first
    assert _turn(hub, cid, text="sv")["done"] is False
    assert _turn(hub, cid, text="haa")["done"] is False
    confused = _turn(hub, cid, text="maybe on tuesdays")
    assert guidance("so")["texts"]["assess_not_understood"] in _texts(confused)
    assert _turn(hub, cid, text="kyllä")["done"] is False  # Finnish "yes" is understood too
    stopped = _turn(hub, cid, text="jooji")
    assert stopped["done"] is True
    assert guidance("so")["texts"]["assess_stopped"] in _texts(stopped)
    with _db(settings) as db:
        record = db.get(Conversation, cid).assessment  # type: ignore[union-attr]
    assert record is not None and record["complete"] is False and record["target"] == "sv"
    assert record["skills"]["listening"] == "C1" and record["skills"]["reading"] is None


def test_service_needs_asks_only_what_matters_and_skips_what_is_known(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "ar")
    first = _turn(hub, cid, start="needs", role_hint="jobseeker")
    cat = guidance("ar")
    # the role is known from the topics so far, and an Arabic writer is a foreign-language speaker
    assert cat["questions"]["role"]["text"] not in _texts(first)
    assert cat["questions"]["age"]["text"] in _texts(first)
    asked = []
    replies = {"age": "٢٧", "municipality": "espoo", "registered_jobseeker": "نعم", "unemployed_months": "4",
               "goal": "job", "education": "tertiary", "years_since_first_residence_permit": "2",
               "finnish_level": "A2", "dismissed": "لا"}
    step = first
    for _ in range(15):
        if step["done"]:
            break
        question = next(k for k, q in cat["questions"].items() if q["text"] in _texts(step))
        asked.append(question)
        step = _turn(hub, cid, text=replies.get(question, "skip"))
    assert step["done"], asked
    assert "foreign_language_speaker" not in asked and "role" not in asked
    assert "years_with_employer" not in asked  # only matters for a dismissed 55+
    text = _texts(step)
    assert "KOSKE" in text and "kotoutumissuunnitelma" in text.lower()
    with _db(settings) as db:
        record = db.get(Conversation, cid).service_needs  # type: ignore[union-attr]
    assert record is not None and record["profile"]["age"] == 27
    assert {"koske", "integration_plan", "ohjaamo"} <= {s["code"] for s in record["services"]}


def test_an_employer_mapping_with_a_skipped_question(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "fi")
    step = _turn(hub, cid, start="needs")
    cat = guidance("fi")
    assert cat["questions"]["role"]["text"] in _texts(step)
    step = _turn(hub, cid, text="työnantaja")  # typed option title
    assert cat["questions"]["employer_goal"]["text"] in _texts(step)
    step = _turn(hub, cid, text="layoffs")
    assert cat["questions"]["company_size"]["text"] in _texts(step) or \
        cat["questions"]["dismissals_planned"]["text"] in _texts(step)
    for _ in range(4):
        if step["done"]:
            break
        if cat["questions"]["company_size"]["text"] in _texts(step):
            step = _turn(hub, cid, text="ohita")  # skip, in Finnish
        else:
            bad = _turn(hub, cid, text="muutama")
            assert cat["texts"]["needs_number_not_understood"] in _texts(bad)
            step = _turn(hub, cid, text="4")
    assert step["done"]
    text = _texts(step)
    assert "muutosturva" in text.lower()
    assert cat["texts"]["needs_adviser_offer"] in text
    with _db(settings) as db:
        record = db.get(Conversation, cid).service_needs  # type: ignore[union-attr]
        # an open ticket gets the result as soon as it exists
        assert record is not None and "company_size" in record["missing"]


def test_results_reach_an_already_open_ticket(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "en")
    with _db(settings) as db:
        do_handoff(db, conversation_id=cid, reason="asked_for_human", topic=None, now=f.now(),
                   hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7)
    _turn(hub, cid, start="needs", role_hint="jobseeker")
    _turn(hub, cid, text="stop")
    with _db(settings) as db:
        ticket = db.query(Ticket).filter(Ticket.conversation_id == cid).one()
        assert ticket.assessment is not None and "service_needs" in ticket.assessment


def test_an_employer_who_recruits_is_asked_about_the_person_to_hire(hub: TestClient, settings: Settings) -> None:
    cid = _conversation(settings, "en")
    cat = guidance("en")
    _turn(hub, cid, start="needs", role_hint="employer")
    step = _turn(hub, cid, text="recruit")
    asked = []
    replies = {"hiree_age": "25", "hiree_municipality": "espoo", "hiree_unemployed_months": "7",
               "hiree_education": "upper_secondary", "hiree_foreign_language_speaker": "no"}
    for _ in range(10):
        if step["done"]:
            break
        question = next(k for k, q in cat["questions"].items() if q["text"] in _texts(step))
        asked.append(question)
        step = _turn(hub, cid, text=replies.get(question, "skip"))
    assert step["done"] and {"hiree_age", "hiree_unemployed_months"} <= set(asked)
    with _db(settings) as db:
        record = db.get(Conversation, cid).service_needs  # type: ignore[union-attr]
    assert record is not None and record["profile"]["hiree"]["age"] == 25
    assert {"espoo_rekrytointituki", "nuorten_tyollistymisseteli", "palkkatuki"} <= {s["code"] for s in record["services"]}


def test_an_employer_hiring_a_newcomer_is_asked_when_the_first_permit_came(hub: TestClient, settings: Settings) -> None:
    """Pay subsidy's target group 'immigrants with an integration plan' (facts): the mapping asks the
    years since the hiree's first residence permit and offers palkkatuki within 3 years."""
    cid = _conversation(settings, "en")
    cat = guidance("en")
    _turn(hub, cid, start="needs", role_hint="employer")
    step = _turn(hub, cid, text="recruit")
    asked = []
    replies = {"hiree_age": "35", "hiree_municipality": "vantaa", "hiree_unemployed_months": "2",
               "hiree_education": "tertiary", "hiree_foreign_language_speaker": "yes",
               "hiree_years_since_first_residence_permit": "1"}
    for _ in range(12):
        if step["done"]:
            break
        question = next(k for k, q in cat["questions"].items() if q["text"] in _texts(step))
        asked.append(question)
        step = _turn(hub, cid, text=replies.get(question, "skip"))
    assert step["done"] and "hiree_years_since_first_residence_permit" in asked
    with _db(settings) as db:
        record = db.get(Conversation, cid).service_needs  # type: ignore[union-attr]
    assert "palkkatuki" in {s["code"] for s in record["services"]}  # type: ignore[index]
