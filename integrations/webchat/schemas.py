from __future__ import annotations

from pydantic import BaseModel, Field

from bot.schemas.common import ReplyPublic


class ChatRequest(BaseModel):
    conversation_id: str = Field(description="the client's id for this conversation (1–128 of A-Z a-z 0-9 _ -)")
    text: str = Field(description="the customer's message, at most 5,000 characters")
    locale: str | None = Field(default=None, description="the page's or browser's language, e.g. 'fi' or 'ar-IQ'")
    language: str | None = Field(default=None, description="a language the customer picked in the chat's header "
                                 "(fi, sv, en, ru, uk, et, ar, so): the conversation continues in it")


class TicketPublic(BaseModel):
    id: str
    queue: str
    status: str


class ChatPublic(BaseModel):
    conversation_id: str
    language: str
    replies: list[ReplyPublic]
    ticket: TicketPublic | None = None


class UiStringsPublic(BaseModel):
    language: str
    dir: str
    strings: dict[str, str]
