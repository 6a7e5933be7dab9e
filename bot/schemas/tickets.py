from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class TicketRefPublic(BaseModel):
    id: str
    queue: str
    status: str


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class TranscriptEntry(BaseModel):
    id: int
    sender: str
    text: str
    language: str | None
    translation: str | None
    translation_language: str | None
    # for the desk's own messages: "sent", "pending" (a channel worker still has to push it) or
    # "undelivered" (the customer blocked the bot, the mail bounced)
    status: str
    attachments: list[AttachmentPublic] = []
    created_at: datetime


class SatisfactionPublic(BaseModel):
    """The customer's answer to the question after the close (bot/services/csat.py)."""

    asked_at: datetime
    score: int | None = Field(default=None, description="1 (not at all satisfied) to 5 (very satisfied); "
                              "None while not answered")
    comment: str | None = None
    answered_at: datetime | None = None


class TicketPublic(BaseModel):
    id: str
    channel: str
    queue: str
    status: str
    priority: int
    language: str | None
    city_on_shift: str | None
    needs_interpreter: bool
    reason: str
    topic: str | None
    summary: str | None
    contact: dict[str, Any] | None
    consent: bool
    assessment: dict[str, Any] | None
    intake: dict[str, Any] | None = None  # an employer's assignment or change notice (bot/services/employer.py)
    assigned_to: str | None
    outcome: str | None
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None = None  # a callback's due time
    attempts: int = 0  # a callback's failed calls so far
    satisfaction: SatisfactionPublic | None = None  # None: the customer was not asked
    transcript: list[TranscriptEntry] = []


class TicketList(BaseModel):
    tickets: list[TicketPublic]
    total: int | None = Field(default=None, description="how many tickets match in all (the list is one page)")


class ReplyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    written_in: str | None = Field(default=None, max_length=8, description=(
        "the language the reply is written in, when it is the customer's (an authored answer, a saved "
        "reply in that language): sent as written, without machine translation"))


class NoteRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class NotePublic(BaseModel):
    id: int
    author: str | None
    text: str
    created_at: datetime


class NoteList(BaseModel):
    notes: list[NotePublic]


class TransferRequest(BaseModel):
    queue: str = Field(min_length=1, max_length=40)


class AssignRequest(BaseModel):
    adviser: str = Field(min_length=1, max_length=64, description="the colleague's username")


class CallRequest(BaseModel):
    outcome: Literal["reached", "no_answer", "busy", "wrong_number"]


class CloseRequest(BaseModel):
    outcome: str = Field(min_length=1, max_length=32)


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class QueuePublic(BaseModel):
    queue: str
    name: str
    depth: int
    oldest_wait_seconds: int
    response_target_minutes: int
    city_on_shift: str | None


class QueueList(BaseModel):
    queues: list[QueuePublic]
