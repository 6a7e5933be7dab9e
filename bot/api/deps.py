"""Dependencies: one database session per request; collaborators from the app state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import Adviser
from bot.services.auth import AuthError, LoginThrottle, access_adviser_by_token
from bot.services.conversations import TurnGate
from bot.services.guidance import GuidanceContext
from bot.services.rasa import RasaClient


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for one request. Its clean-up runs on the event loop, not as a second trip through
    the thread pool, so it also runs when the client goes away or the request is cancelled: an
    abandoned request never keeps its connection."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


def get_rasa(request: Request) -> RasaClient:
    rasa: RasaClient = request.app.state.rasa
    return rasa


def get_gate(request: Request) -> TurnGate:
    gate: TurnGate = request.app.state.turns
    return gate


def get_context(request: Request) -> GuidanceContext:
    context: GuidanceContext = request.app.state.turn_context
    return context


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    """The token of the `Authorization: Bearer …` header; 401 without one. Async: it does no I/O,
    so it runs on the event loop rather than costing every request a trip through the thread pool."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(status_code=401, detail="bearer token required", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def adviser_of(session: Session, token: str) -> Adviser:
    """The adviser behind the bearer token; 401 without a valid one. For routes that look the
    adviser up in the same thread-pool trip as their own work (`Token` instead of `current_adviser`)."""
    try:
        adviser, _ = access_adviser_by_token(session, token, kind="bearer", now=datetime.now(timezone.utc))
    except AuthError:
        raise HTTPException(status_code=401, detail="token expired or unknown",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    return adviser


def current_adviser(
    session: Annotated[Session, Depends(get_session)],
    token: Annotated[str, Depends(bearer_token)],
) -> Adviser:
    """The adviser behind the bearer token; 401 without a valid one."""
    return adviser_of(session, token)


def get_now() -> datetime:
    """The clock, as a dependency: tests move it to a public holiday or across a summer-time change."""
    return datetime.now(timezone.utc)
