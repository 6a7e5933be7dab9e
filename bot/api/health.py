from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.api.deps import get_gate, get_rasa
from bot.services.conversations import TurnGate, in_db
from bot.services.rasa import RasaClient

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def read_health() -> dict[str, str]:
    """200 while the process runs (answered on the event loop, whatever the thread pool is doing)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready, with the reasons"}})
async def read_ready(request: Request, rasa: Annotated[RasaClient, Depends(get_rasa)],
                     gate: Annotated[TurnGate, Depends(get_gate)]) -> JSONResponse:
    """200 only when the database and Rasa answer and the hub has room for another turn;
    otherwise 503 says why (`saturated` when every turn slot is taken)."""
    problems: list[str] = []
    if gate.saturated:
        problems.append(f"saturated ({gate.in_flight} of {gate.limit} turns in flight)")

    def ping(session: Session) -> None:
        session.execute(text("SELECT 1"))

    try:
        await in_db(request.app.state.sessionmaker, ping)
    except SQLAlchemyError as exc:
        problems.append(f"database unavailable ({type(exc).__name__})")
    rasa_problem = await rasa.status()
    if rasa_problem:
        problems.append(rasa_problem)
    body = {"in_flight": gate.in_flight, "limit": gate.limit}
    if problems:
        return JSONResponse(status_code=503, content={"status": "not ready", "problems": problems, **body})
    return JSONResponse(content={"status": "ready", "problems": [], **body})
