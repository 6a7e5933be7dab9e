"""The data subject's rights for admins: export (art. 15, 20) and erase (art. 17) one person's data.
Routes stay thin; bot.services.privacy finds, exports, erases and audits."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bot.api.deps import current_adviser, get_session
from bot.api.errors import error_response
from bot.config import VAR
from bot.models import Adviser
from bot.services import privacy as svc

router = APIRouter(prefix="/api/privacy", tags=["privacy"])
Db = Annotated[Session, Depends(get_session)]

_ERROR = {"content": {"application/json": {"example": {"error": {"code": "...", "message": "..."}}}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid admin bearer token", **_ERROR},
    403: {"description": "the token is not an admin's", **_ERROR},
    422: {"description": "not exactly one key, or a key that is not valid (the message names it)", **_ERROR},
}


def current_admin(adviser: Annotated[Adviser, Depends(current_adviser)]) -> Adviser:
    """Only admins see or erase a person's data as a whole; 403 for advisers and supervisors."""
    if adviser.role != "admin":
        raise HTTPException(status_code=403, detail="admins only")
    return adviser


Admin = Annotated[Adviser, Depends(current_admin)]


class PersonKeyRequest(BaseModel):
    """Exactly one of the keys."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    # what the database's BIGINT holds: a larger number was a 500 (OverflowError) at the query
    telegram_user_id: int | None = Field(default=None, strict=False, ge=-(2**63 - 1), le=2**63 - 1)


def _key(body: PersonKeyRequest) -> svc.PersonKey | JSONResponse:
    try:
        return svc.check_person_key(body.model_dump())
    except svc.PrivacyError as exc:
        return error_response(422, exc.code, str(exc))


@router.post("/export", responses=RESPONSES)
def create_export(body: PersonKeyRequest, admin: Admin, session: Db) -> Any:
    """Everything Luotsi holds about the person, as JSON; the export is audited."""
    key = _key(body)
    if isinstance(key, JSONResponse):
        return key
    return svc.do_export_person(session, key, actor=admin, now=datetime.now(timezone.utc))


@router.post("/erase", responses=RESPONSES)
def create_erasure(body: PersonKeyRequest, admin: Admin, session: Db, request: Request) -> Any:
    """Erase the person's data and delete their conversations from Rasa's tracker store; what was
    erased, counted (`rasa_forgotten` false when the tracker store could not be reached: the
    erasure in the hub's database stands)."""
    key = _key(body)
    if isinstance(key, JSONResponse):
        return key
    outbox = getattr(request.app.state, "outbox", VAR / "outbox")
    return svc.do_erase_person(session, key, actor=admin, now=datetime.now(timezone.utc),
                               forget=request.app.state.forget, outbox=outbox)
