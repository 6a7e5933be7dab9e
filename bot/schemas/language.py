from __future__ import annotations

from pydantic import BaseModel, Field


class DetectRequest(BaseModel):
    text: str = Field(max_length=5000)
    hints: list[str] | None = Field(default=None, max_length=10)


class DetectPublic(BaseModel):
    language: str = Field(description="ISO 639-1 code, or 'und' when unknown")
    supported: bool = Field(description="true for the tier-1 languages served fully")
    confidence: float
