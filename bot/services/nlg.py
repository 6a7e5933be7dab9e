"""Rasa's NLG endpoint: every response text comes from the hub's catalogues."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.locales import UnknownKey, render
from bot.messages import OutboundMessage
from bot.models import Conversation
from nlu import langid


class UnknownResponse(Exception):
    pass


def choose_language(session: Session, tracker: dict[str, Any]) -> str:
    """The `language` slot; the stored conversation language when the slot is empty."""
    slot = (tracker.get("slots") or {}).get("language")
    if isinstance(slot, str) and slot and slot != langid.UNDETERMINED:
        return slot
    sender = tracker.get("sender_id")
    if isinstance(sender, str):
        conversation = session.get(Conversation, sender)
        if conversation is not None and conversation.language:
            return conversation.language
    return "en"


def do_generate(session: Session, response: str, tracker: dict[str, Any]) -> OutboundMessage:
    language = choose_language(session, tracker)
    try:
        return render(response, language)
    except UnknownKey as exc:
        raise UnknownResponse(response) from exc
