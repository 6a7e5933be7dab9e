"""The friendly fallback: ask which topic was meant when two were close, else rephrase once, then
offer a human."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import commands

FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
# Intents that are not a topic to offer as "did you mean": the conversation's own moves.
NOT_TOPICS = frozenset({"nlu_fallback", "out_of_scope", "greet", "thanks", "goodbye", "bot_challenge",
                        "switch_language", "request_human"})
# A message is worth a clarifying question when its two most likely topics are both at least
# CLARIFY_FLOOR likely and the runner-up is within CLARIFY_GAP of the first (docs/quality.md):
# below the floor the model is guessing, and a list of guesses helps nobody.
CLARIFY_FLOOR = 0.15
CLARIFY_GAP = 0.2
CLARIFY_OPTIONS = 3
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


def close_topics(message: Dict[str, Any], floor: float = CLARIFY_FLOOR, gap: float = CLARIFY_GAP) -> List[str]:
    """The two or three topics the classifier hesitated between, most likely first; empty when
    one clearly led, when the message fits no topic, or when the best guess is out of scope."""
    ranking = _guesses(message)
    if not ranking or ranking[0].get("name") in NOT_TOPICS:
        return []
    topics = [(str(r["name"]), float(r.get("confidence") or 0.0)) for r in ranking if r.get("name") not in NOT_TOPICS]
    if len(topics) < 2 or topics[1][1] < floor or topics[0][1] - topics[1][1] > gap:
        return []
    best = topics[0][1]
    return [name for name, confidence in topics[:CLARIFY_OPTIONS] if confidence >= floor and best - confidence <= gap]


def _guesses(message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The classifier's ranking without the fallback Rasa puts first in it, most likely first."""
    return [r for r in message.get("intent_ranking") or [] if isinstance(r, dict) and r.get("name") != "nlu_fallback"]


def _likeliest(message: Dict[str, Any]) -> Optional[str]:
    """The classifier's best guess under the fallback."""
    guesses = _guesses(message)
    return str(guesses[0].get("name")) if guesses else None


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
        options = close_topics(tracker.latest_message or {}) if intent == "nlu_fallback" else []
        if options:
            commands.clarify(dispatcher, options=options)
        elif misses >= MISSES_BEFORE_HUMAN:
            dispatcher.utter_message(response="utter_fallback_offer_human")
        elif intent == "out_of_scope" or _likeliest(tracker.latest_message or {}) == "out_of_scope":
            # unsure, but most likely about something else: say what the assistant is for
            dispatcher.utter_message(response="utter_out_of_scope")
        else:
            dispatcher.utter_message(response="utter_fallback")
        return []
