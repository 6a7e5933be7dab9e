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


# --- guided conversations -------------------------------------------------------------------

from actions.guidance import ActionGuidanceStart, ValidateGuidanceForm, role_hint  # noqa: E402
from actions.hub_client import GuidanceStep, HubUnavailable  # noqa: E402


class FakeHub:
    def __init__(self, steps: list, fail: bool = False) -> None:
        self.steps = steps
        self.calls: list = []
        self.fail = fail

    async def guidance(self, **body):  # type: ignore[no-untyped-def]
        self.calls.append(body)
        if self.fail:
            raise HubUnavailable("down")
        return self.steps.pop(0)


def _tracker(events: list, text: str) -> Tracker:
    latest = {"intent": events[-1]["parse_data"]["intent"], "text": text}
    return Tracker("conv-1", {}, latest, events, False, None, {"name": "guidance_form"}, "action_listen")


def test_answers_inside_a_form_are_not_misses() -> None:
    events = [_user("nlu_fallback"), {"event": "active_loop", "name": None}, _user("nlu_fallback")]
    assert consecutive_misses(events) == 1


def test_the_start_passes_the_flow_the_words_and_the_role_known_so_far() -> None:
    hub = FakeHub([GuidanceStep(done=False, messages=[{"text": "intro", "buttons": []},
                                                      {"text": "Q1", "buttons": [{"title": "Yes", "payload": "yes"}]}])])
    events = [_user("pay_subsidy"), {"event": "bot"}, _user("service_needs")]
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ActionGuidanceStart(hub).run(dispatcher, _tracker(events, "which services fit us"), {}))
    assert hub.calls == [{"conversation_id": "conv-1", "start": "needs", "text": "which services fit us",
                          "role_hint": "employer", "topic": None}]
    assert [m["text"] for m in dispatcher.messages] == ["intro", "Q1"]
    assert dispatcher.messages[1]["buttons"] == [{"title": "Yes", "payload": "yes"}]
    assert result == [{"event": "slot", "timestamp": None, "name": "guidance_answer", "value": None}]
    assert role_hint(_tracker([_user("startup_grant")], "x")) == "jobseeker"
    assert role_hint(_tracker([_user("greet")], "x")) is None


def test_each_answer_goes_to_the_hub_and_the_form_ends_when_it_is_done() -> None:
    hub = FakeHub([GuidanceStep(done=False, messages=[{"text": "Q2"}]),
                   GuidanceStep(done=True, messages=[{"text": "result"}])])
    form = ValidateGuidanceForm(hub)
    tracker = _tracker([_user("nlu_fallback")], "نعم")
    dispatcher = CollectingDispatcher()
    assert asyncio.run(form.validate_guidance_answer("نعم", dispatcher, tracker, {})) == {"guidance_answer": None}
    assert asyncio.run(form.validate_guidance_answer("لا", dispatcher, tracker, {})) == {"guidance_answer": "done"}
    assert [c["text"] for c in hub.calls] == ["نعم", "نعم"]  # the latest message's own text
    assert [m["text"] for m in dispatcher.messages] == ["Q2", "result"]


def test_a_hub_outage_ends_the_form_politely() -> None:
    form = ValidateGuidanceForm(FakeHub([], fail=True))
    dispatcher = CollectingDispatcher()
    result = asyncio.run(form.validate_guidance_answer("yes", dispatcher, _tracker([_user("thanks")], "yes"), {}))
    assert result == {"guidance_answer": "unavailable"}
    assert dispatcher.messages[0]["response"] == "utter_request_human"


def test_a_callback_request_carries_the_topic_so_far() -> None:
    hub = FakeHub([GuidanceStep(done=False, messages=[{"text": "number?"}])])
    events = [_user("pay_subsidy"), {"event": "bot"}, _user("request_callback")]
    asyncio.run(ActionGuidanceStart(hub).run(CollectingDispatcher(), _tracker(events, "call me"), {}))
    assert hub.calls[0]["start"] == "callback" and hub.calls[0]["topic"] == "pay_subsidy"
