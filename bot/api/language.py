from __future__ import annotations

from fastapi import APIRouter

from bot.errors import check_text_characters
from bot.schemas.common import ErrorPublic
from bot.schemas.language import DetectPublic, DetectRequest
from nlu import langid

router = APIRouter(prefix="/api/language", tags=["language"])


@router.post("/detect", response_model=DetectPublic, responses={422: {"model": ErrorPublic}})
def create_detection(body: DetectRequest) -> DetectPublic:
    """Identify the language of a text; `hints` (strongest first) decide ambiguous short texts.

    A text is refused with 422 `{"error": {"code", "message"}}`, as `/api/chat` refuses it, rather than
    silently changed: `control_characters` when it holds NUL or another control character than tab,
    newline and carriage return, `invalid_characters` when it holds a lone surrogate. A client then
    learns that what it sends is not what a customer typed, and the two endpoints agree on what a
    message is. The message is in the first hint's language when it names one we speak.
    """
    hints = body.hints or []
    check_text_characters(body.text, langid.normalise_hint(hints[0]) if hints else None)
    found = langid.detect(body.text, hints)
    return DetectPublic(language=found.language, supported=found.supported, confidence=found.confidence)
