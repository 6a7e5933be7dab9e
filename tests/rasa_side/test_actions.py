from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionLuotsiFallback, consecutive_misses


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


def test_a_understood_message_resets_the_count() -> None:
    events = [_user("nlu_fallback"), _user("pay_subsidy"), _user("nlu_fallback")]
    assert _run(events)[0]["response"] == "utter_fallback"
