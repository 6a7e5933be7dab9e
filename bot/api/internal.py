"""The hub's internal API for the action server (shared-secret header, loopback only)."""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException
from sqlalchemy.orm import Session

from bot.api.deps import get_session, get_settings
from bot.config import Settings
from bot.schemas.common import ButtonPublic, ReplyPublic
from bot.schemas.tickets import (
    GuidancePublic,
    GuidanceRequest,
    HandoffPublic,
    HandoffRequest,
    TicketRefPublic,
)
from bot.services import shifts
from bot.services.guidance import GuidanceContext, do_guidance_turn
from bot.services.tickets import do_handoff

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


def check_internal_token(
    settings: Annotated[Settings, Depends(get_settings)],
    x_luotsi_internal_token: Annotated[str | None, Header()] = None,
) -> None:
    expected = settings.internal_token
    if not expected or not x_luotsi_internal_token or not hmac.compare_digest(expected, x_luotsi_internal_token):
        raise HTTPException(status_code=401, detail="internal token required")


@router.post("/handoff", response_model=HandoffPublic, dependencies=[Depends(check_internal_token)])
def create_handoff(
    body: HandoffRequest,
    session: Annotated[Session, Depends(get_session)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> HandoffPublic:
    result = do_handoff(
        session, conversation_id=body.conversation_id, reason=body.reason, topic=body.topic,
        now=datetime.now(timezone.utc), hours=shifts.OpeningHours.parse(settings.opening_hours),
        home_area=settings.home_area, reopen_days=settings.reopen_days,
    )
    t = result.ticket
    return HandoffPublic(
        ticket=TicketRefPublic(id=t.id, queue=t.queue, status=t.status),
        notice=ReplyPublic(text=result.notice.text,
                           buttons=[ButtonPublic(title=b.title, payload=b.payload) for b in result.notice.buttons]),
    )


@router.post("/guidance", response_model=GuidancePublic, dependencies=[Depends(check_internal_token)])
def create_guidance_turn(body: GuidanceRequest, session: Annotated[Session, Depends(get_session)],
                         settings: Annotated[Settings, Depends(get_settings)]) -> GuidancePublic:
    """One turn of a guided conversation (self-assessment, service needs, a callback request):
    start it, or take an answer."""
    context = GuidanceContext(hours=shifts.OpeningHours.parse(settings.opening_hours), home_area=settings.home_area,
                              reopen_days=settings.reopen_days)
    try:
        step = do_guidance_turn(session, body.conversation_id, now=datetime.now(timezone.utc), context=context,
                                text=body.text, start=body.start, role_hint=body.role_hint, topic=body.topic)
    except LookupError:
        raise HTTPException(status_code=404, detail="no such conversation") from None
    return GuidancePublic(done=step.done, messages=[
        ReplyPublic(text=m.text, buttons=[ButtonPublic(title=b.title, payload=b.payload) for b in m.buttons])
        for m in step.messages])
