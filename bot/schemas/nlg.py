from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.schemas.common import ButtonPublic


class NLGRequest(BaseModel):
    """What Rasa's NLG client posts (rasa/core/nlg/callback.py)."""

    response: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] = {}
    tracker: dict[str, Any] = {}
    channel: dict[str, Any] = {}


class NLGPublic(BaseModel):
    text: str
    buttons: list[ButtonPublic] = []
