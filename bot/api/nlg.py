from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from bot.api.deps import get_session
from bot.schemas.common import ButtonPublic
from bot.schemas.nlg import NLGPublic, NLGRequest
from bot.services.nlg import UnknownResponse, do_generate

router = APIRouter(tags=["nlg"])


@router.post("/nlg", response_model=NLGPublic)
def create_response(body: NLGRequest, session: Annotated[Session, Depends(get_session)]) -> NLGPublic:
    """Rasa's NLG endpoint: the response named by Rasa, in the conversation's language."""
    try:
        message = do_generate(session, body.response, body.tracker)
    except UnknownResponse:
        raise HTTPException(status_code=404, detail=f"no response named {body.response!r}") from None
    return NLGPublic(
        text=message.text, buttons=[ButtonPublic(title=b.title, payload=b.payload) for b in message.buttons]
    )
