"""Hand the conversation to a human adviser: a decision the hub carries out in the same turn."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import commands

REASONS = {"request_human": "asked_for_human", "request_callback": "callback"}


def last_topic(tracker: Tracker) -> Optional[str]:
    """The most recent understood topic before the hand-off (what the adviser should know)."""
    skip = {"request_human", "request_callback", "nlu_fallback", "out_of_scope", "greet", "thanks",
            "goodbye", "bot_challenge", "switch_language"}
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name and name not in skip:
                return str(name)
    return None


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        reason = REASONS.get(intent or "", "not_understood")
        topic = last_topic(tracker) if intent != "request_callback" else "request_callback"
        commands.handoff(dispatcher, reason=reason, topic=topic)
        return []
