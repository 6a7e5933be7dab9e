"""HTTP shell of the web chat."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from bot.api.deps import get_context, get_gate, get_rasa, get_settings
from bot.config import Settings
from bot.errors import BadInput
from bot.locales import catalogues, ui_strings
from bot.schemas.common import ErrorPublic
from bot.services.conversations import TurnGate, do_receive_message
from bot.services.guidance import GuidanceContext
from bot.services.rasa import RasaClient
from integrations.webchat import wire
from integrations.webchat.schemas import ChatPublic, ChatRequest, UiStringsPublic
from nlu import langid

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(tags=["web chat"])
_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorPublic} for status in (400, 413, 422, 429)
}


@router.post("/api/chat", response_model=ChatPublic, responses=_ERRORS)
async def create_chat_turn(
    body: ChatRequest,
    rasa: Annotated[RasaClient, Depends(get_rasa)],
    settings: Annotated[Settings, Depends(get_settings)],
    gate: Annotated[TurnGate, Depends(get_gate)],
    context: Annotated[GuidanceContext, Depends(get_context)],
    request: Request,
) -> ChatPublic:
    """One customer message in, the assistant's answers out.

    The message is stored before the assistant is asked; when the assistant is down, slow or busy
    the answer says so at once, in the customer's language, and the message stays kept. The route
    holds no thread and no database connection while the assistant thinks.
    """
    message = wire.parse(body, max_chars=settings.max_text_chars)
    client = request.client.host if request.client else None
    if not request.app.state.chat_limits.allow(body.conversation_id, client):
        detected = langid.detect(message.text, [message.locale] if message.locale else [], thorough=False)
        raise BadInput("too_many_messages", "sys_error_rate_limited", detected.language, status=429)
    turn = await do_receive_message(request.app.state.sessionmaker, rasa, message, now=datetime.now(timezone.utc),
                                    context=context, translator=request.app.state.translator, gate=gate)
    return wire.render(turn, body.conversation_id)


@router.get("/api/webchat/strings/{language}", response_model=UiStringsPublic)
def read_ui_strings(language: str) -> UiStringsPublic:
    """The widget's chrome (buttons, labels) in a language; English for unknown languages."""
    code = langid.normalise_hint(language) or "en"
    shown = code if code in catalogues() else "en"
    return UiStringsPublic(
        language=shown, dir="rtl" if langid.is_rtl(code) else "ltr", strings=ui_strings(shown)
    )


@router.get("/", include_in_schema=False)
def read_chat_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/widget.js", include_in_schema=False)
def read_widget() -> FileResponse:
    return FileResponse(STATIC / "luotsi-widget.js", media_type="text/javascript; charset=utf-8")


@router.get("/widget-demo", include_in_schema=False)
def read_widget_demo() -> FileResponse:
    path = STATIC / "embed-demo.html"
    if not path.exists():
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type="text/html; charset=utf-8")
