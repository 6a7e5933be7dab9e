"""The friendly fallback: rephrase once, then offer a human."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
MISSES_BEFORE_HUMAN = 2  # offer a human
MISSES_BEFORE_HANDOFF = 3  # hand off without asking again


def consecutive_misses(events: List[Dict[str, Any]]) -> int:
    """How many of the customer's latest messages in a row were not understood."""
    misses = 0
    for event in reversed(events):
        if event.get("event") == "active_loop":
            break  # answers inside a guided conversation (a form) are not misses
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in FALLBACK_INTENTS:
            misses += 1
        else:
            break
    return misses


class ActionLuotsiFallback(Action):
    def name(self) -> str:
        return "action_luotsi_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        misses = consecutive_misses(tracker.events)
        if misses >= MISSES_BEFORE_HANDOFF:
            return [FollowupAction("action_handoff")]
        if misses >= MISSES_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_fallback_offer_human")
        elif intent == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope")
        else:
            dispatcher.utter_message(response="utter_fallback")
        return []
