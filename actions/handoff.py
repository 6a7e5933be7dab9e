"""Hand the conversation to a human adviser through the hub."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.hub_client import HubClient, HubUnavailable

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
    def __init__(self, client: Optional[HubClient] = None) -> None:
        self.client = client or HubClient()

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        reason = REASONS.get(intent or "", "not_understood")
        topic = last_topic(tracker) if intent != "request_callback" else "request_callback"
        try:
            result = await self.client.handoff(conversation_id=tracker.sender_id, reason=reason, topic=topic)
        except HubUnavailable:
            dispatcher.utter_message(response="utter_request_human")
            return []
        dispatcher.utter_message(text=result.notice_text, buttons=result.notice_buttons or None)
        return []
