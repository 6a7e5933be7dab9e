from __future__ import annotations

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorPublic(BaseModel):
    error: ErrorBody


class ButtonPublic(BaseModel):
    title: str
    payload: str


class ReplyPublic(BaseModel):
    text: str
    buttons: list[ButtonPublic] = []
