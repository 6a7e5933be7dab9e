from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from sqlalchemy.orm import Session

from bot.api.deps import bearer_token, current_adviser, get_session, get_settings, get_throttle
from bot.config import Settings
from bot.models import Adviser
from bot.schemas.common import ErrorPublic
from bot.schemas.tickets import TokenPublic
from bot.services.auth import (
    AuthError,
    LoginThrottle,
    Throttled,
    check_credentials,
    do_issue_token,
    do_revoke_token,
)

router = APIRouter(prefix="/api/auth", tags=["advisers"])


@router.post("/token", response_model=TokenPublic, responses={
    401: {"model": ErrorPublic, "description": "wrong username or password"},
    429: {"model": ErrorPublic, "description": "too many failed sign-ins; `Retry-After` says when to try again"},
})
def create_token(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    session: Annotated[Session, Depends(get_session)],
    settings: Annotated[Settings, Depends(get_settings)],
    throttle: Annotated[LoginThrottle, Depends(get_throttle)],
) -> TokenPublic:
    """Exchange an adviser's username and password for a bearer token (OAuth2 password form)."""
    client = request.client.host if request.client else "?"
    try:
        throttle.check(username, client)
    except Throttled as exc:
        raise HTTPException(status_code=429, detail="too many failed sign-ins; try again later",
                            headers={"Retry-After": str(exc.retry_after)}) from None
    try:
        adviser = check_credentials(session, username, password)
    except AuthError:
        throttle.failed(username, client)
        raise HTTPException(status_code=401, detail="wrong username or password") from None
    throttle.succeeded(username, client)
    lifetime = timedelta(hours=settings.token_hours)
    token, _ = do_issue_token(session, adviser, kind="bearer", now=datetime.now(timezone.utc), lifetime=lifetime)
    return TokenPublic(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.post("/logout", status_code=204, response_class=Response)
def create_logout(
    _me: Annotated[Adviser, Depends(current_adviser)],
    token: Annotated[str, Depends(bearer_token)],
    session: Annotated[Session, Depends(get_session)],
) -> Response:
    """Revoke the bearer token of this request: any later use of it answers 401."""
    do_revoke_token(session, token)
    return Response(status_code=204)
