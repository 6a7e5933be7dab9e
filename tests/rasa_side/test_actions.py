from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionLuotsiFallback, close_topics, consecutive_misses


def _user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def _run(events: list[dict]) -> list[dict]:
    latest = events[-1]["parse_data"]
    tracker = Tracker("c", {}, latest, events, False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionLuotsiFallback().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_counts_consecutive_misses() -> None:
    events = [_user("greet"), {"event": "bot"}, _user("nlu_fallback"), {"event": "bot"}, _user("out_of_scope")]
    assert consecutive_misses(events) == 2
    assert consecutive_misses([_user("nlu_fallback"), _user("greet")]) == 0


def test_first_miss_asks_to_rephrase_second_offers_a_human() -> None:
    assert _run([_user("nlu_fallback")])[0]["response"] == "utter_fallback"
    assert _run([_user("out_of_scope")])[0]["response"] == "utter_out_of_scope"
    assert _run([_user("nlu_fallback"), _user("nlu_fallback")])[0]["response"] == "utter_fallback_offer_human"


def _hesitant(ranking: list[tuple[str, float]]) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"},
                                            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}]
                                            + [{"name": n, "confidence": c} for n, c in ranking]}}


def test_close_topics_are_offered_as_a_clarifying_question() -> None:
    said = _run([_hesitant([("change_security", 0.29), ("recruiting_help", 0.27), ("greet", 0.1),
                            ("pay_subsidy", 0.05)])])
    assert said[0]["custom"] == {"luotsi": "clarify", "options": ["change_security", "recruiting_help"]}


def test_no_clarifying_question_when_one_topic_leads_or_nothing_fits() -> None:
    assert close_topics({"intent_ranking": [{"name": "pay_subsidy", "confidence": 0.6},
                                            {"name": "hiring_supports", "confidence": 0.2}]}) == []
    # a scatter of guesses (gibberish) is not a question worth asking
    assert close_topics({"intent_ranking": [{"name": "pay_subsidy", "confidence": 0.12},
                                            {"name": "startup_grant", "confidence": 0.11}]}) == []
    # the best guess is that the message is about something else
    assert close_topics({"intent_ranking": [{"name": "out_of_scope", "confidence": 0.28},
                                            {"name": "contact_info", "confidence": 0.27}]}) == []
    said = _run([_hesitant([("pay_subsidy", 0.25), ("greet", 0.2)])])
    assert said[0]["response"] == "utter_fallback"


def test_an_unsure_guess_of_out_of_scope_says_what_the_assistant_is_for() -> None:
    said = _run([_hesitant([("out_of_scope", 0.25), ("contact_info", 0.05)])])
    assert said[0]["response"] == "utter_out_of_scope"


def test_a_understood_message_resets_the_count() -> None:
    events = [_user("nlu_fallback"), _user("pay_subsidy"), _user("nlu_fallback")]
    assert _run(events)[0]["response"] == "utter_fallback"


# --- guided conversations and hand-off: decisions returned in Rasa's response -------------------

from actions.guidance import ActionGuidanceStart, ValidateGuidanceForm, role_hint  # noqa: E402
from actions.handoff import ActionHandoff  # noqa: E402


def _tracker(events: list, text: str, metadata: dict | None = None) -> Tracker:
    latest = {"intent": events[-1]["parse_data"]["intent"], "text": text, "metadata": metadata or {}}
    return Tracker("conv-1", {}, latest, events, False, None, {"name": "guidance_form"}, "action_listen")


def _commands(dispatcher: CollectingDispatcher) -> list:
    return [m["custom"] for m in dispatcher.messages]


def test_answers_inside_a_form_are_not_misses() -> None:
    events = [_user("nlu_fallback"), {"event": "active_loop", "name": None}, _user("nlu_fallback")]
    assert consecutive_misses(events) == 1


def test_the_start_passes_the_flow_the_words_and_the_role_known_so_far() -> None:
    events = [_user("pay_subsidy"), {"event": "bot"}, _user("service_needs")]
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionGuidanceStart().run(dispatcher, _tracker(events, "which services fit us"), {}))
    assert _commands(dispatcher) == [{"luotsi": "guidance", "start": "needs", "text": "which services fit us",
                                      "role_hint": "employer", "topic": None}]
    assert result == [{"event": "slot", "timestamp": None, "name": "guidance_answer", "value": None}]
    assert role_hint(_tracker([_user("startup_grant")], "x")) == "jobseeker"
    assert role_hint(_tracker([_user("greet")], "x")) is None


@pytest.mark.parametrize(("intent", "flow"), [("recruitment_assignment", "assignment"), ("change_notice", "change_notice")])
def test_the_employer_intake_buttons_start_their_flows(intent: str, flow: str) -> None:
    """Issue 17: the buttons under the recruiting and change-security answers send these intents."""
    events = [_user("recruiting_help"), {"event": "bot"}, _user(intent)]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionGuidanceStart().run(dispatcher, _tracker(events, f"/{intent}"), {}))
    assert _commands(dispatcher) == [{"luotsi": "guidance", "start": flow, "text": f"/{intent}",
                                      "role_hint": "employer", "topic": None}]


def test_each_answer_goes_to_the_hub_and_the_form_ends_when_the_hub_said_it_would() -> None:
    form = ValidateGuidanceForm()
    dispatcher = CollectingDispatcher()
    going_on = _tracker([_user("nlu_fallback")], "نعم", {"guidance": {"finishes": False}})
    last = _tracker([_user("nlu_fallback")], "لا", {"guidance": {"finishes": True}})
    assert asyncio.run(form.validate_guidance_answer("نعم", dispatcher, going_on, {})) == {"guidance_answer": None}
    assert asyncio.run(form.validate_guidance_answer("x", dispatcher, last, {})) == {"guidance_answer": "done"}
    # the latest message's own text, not the slot's value
    assert _commands(dispatcher) == [{"luotsi": "guidance", "text": "نعم"}, {"luotsi": "guidance", "text": "لا"}]


def test_without_the_hubs_word_the_form_goes_on() -> None:
    """Through Rasa's bare channel (no metadata) nothing ends the form by accident."""
    result = asyncio.run(ValidateGuidanceForm().validate_guidance_answer(
        "yes", CollectingDispatcher(), _tracker([_user("thanks")], "yes"), {}))
    assert result == {"guidance_answer": None}


def test_a_callback_request_carries_the_topic_so_far() -> None:
    events = [_user("pay_subsidy"), {"event": "bot"}, _user("request_callback")]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionGuidanceStart().run(dispatcher, _tracker(events, "call me"), {}))
    command = _commands(dispatcher)[0]
    assert command["start"] == "callback" and command["topic"] == "pay_subsidy"


def test_the_handoff_is_a_decision_in_the_answer_not_a_call() -> None:
    events = [_user("pay_subsidy"), {"event": "bot"}, _user("request_human")]
    dispatcher = CollectingDispatcher()
    assert asyncio.run(ActionHandoff().run(dispatcher, _tracker(events, "a person please"), {})) == []
    assert _commands(dispatcher) == [{"luotsi": "handoff", "reason": "asked_for_human", "topic": "pay_subsidy"}]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionHandoff().run(dispatcher, _tracker([_user("nlu_fallback")], "???"), {}))
    assert _commands(dispatcher)[0]["reason"] == "not_understood"


def test_the_action_server_has_no_way_to_call_the_hub() -> None:
    """Data flows hub → Rasa → hub: no action module imports an HTTP client or knows the hub's URL."""
    from pathlib import Path

    for path in (Path(__file__).resolve().parents[2] / "actions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for word in ("aiohttp", "httpx", "requests", "urllib", "LUOTSI_HUB_URL", "/internal/"):
            assert word not in source, (path.name, word)
