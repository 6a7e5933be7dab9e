from __future__ import annotations

from fastapi import APIRouter

from bot.schemas.language import DetectPublic, DetectRequest
from nlu import langid

router = APIRouter(prefix="/api/language", tags=["language"])


@router.post("/detect", response_model=DetectPublic)
def create_detection(body: DetectRequest) -> DetectPublic:
    """Identify the language of a text; `hints` (strongest first) decide ambiguous short texts."""
    found = langid.detect(body.text, body.hints or [])
    return DetectPublic(language=found.language, supported=found.supported, confidence=found.confidence)
