from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.api.deps import get_rasa, get_session
from bot.services.rasa import RasaClient

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready, with the reasons"}})
def read_ready(
    session: Annotated[Session, Depends(get_session)], rasa: Annotated[RasaClient, Depends(get_rasa)]
) -> JSONResponse:
    """200 only when the database and Rasa answer; otherwise 503 says why."""
    problems: list[str] = []
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        problems.append(f"database unavailable ({type(exc).__name__})")
    rasa_problem = rasa.status()
    if rasa_problem:
        problems.append(rasa_problem)
    if problems:
        return JSONResponse(status_code=503, content={"status": "not ready", "problems": problems})
    return JSONResponse(content={"status": "ready", "problems": []})
