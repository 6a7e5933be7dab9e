"""Employers' structured intake: the answers of the public API (the bodies are checked by
bot/services/employer.py, which names every wrong field at once)."""

from __future__ import annotations

from pydantic import BaseModel

from bot.schemas.tickets import TicketRefPublic


class AssignmentPublic(BaseModel):
    ticket: TicketRefPublic
    supports: list[str]  # service-need codes that may apply
    next: str  # what happens next, in the request's language


class ChangeNoticePublic(BaseModel):
    ticket: TicketRefPublic
    duties: list[str]  # notify_authority, action_plan, operating_principles, training_duty, …
    coordination: bool  # 10 or more affected: coordinated by the three cities
    next: str


class IntakeFieldError(BaseModel):
    field: str
    code: str
    message: str


class IntakeErrorBody(BaseModel):
    code: str
    message: str
    fields: list[IntakeFieldError]


class IntakeErrorPublic(BaseModel):
    error: IntakeErrorBody
