"""What the actions decide, returned to the hub in Rasa's own response (never a call into the hub).

Each decision is one `json_message` that Rasa's REST channel passes on as `{"custom": {...}}`;
the hub carries it out in the same turn (bot/services/assistant.py) and says the result in the
customer's language. The hub in turn tells the actions what they need through the message's
metadata (`metadata.guidance`), so data flows one way: hub → Rasa → hub.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

KEY = "luotsi"  # the custom payload's discriminator


def handoff(dispatcher: CollectingDispatcher, *, reason: str, topic: Optional[str]) -> None:
    """Hand the conversation to a human adviser: the hub makes (or reopens) the ticket."""
    dispatcher.utter_message(json_message={KEY: "handoff", "reason": reason, "topic": topic})


def guidance(dispatcher: CollectingDispatcher, *, text: Optional[str], start: Optional[str] = None,
             role_hint: Optional[str] = None, topic: Optional[str] = None) -> None:
    """Start a guided conversation (`start`) or give it the customer's answer (`text`)."""
    body: Dict[str, Any] = {KEY: "guidance", "text": text}
    if start is not None:
        body.update(start=start, role_hint=role_hint, topic=topic)
    dispatcher.utter_message(json_message=body)


def clarify(dispatcher: CollectingDispatcher, *, options: List[str]) -> None:
    """Ask which of these topics the customer meant: the hub says it with a button for each."""
    dispatcher.utter_message(json_message={KEY: "clarify", "options": list(options)})


def hub_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The metadata the hub sent with the latest message (empty through Rasa's bare channel)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}
