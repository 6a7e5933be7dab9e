"""Webhook mode: Telegram posts each update to the hub, which keeps it before answering 200.

Every request must carry the secret set with setWebhook in `X-Telegram-Bot-Api-Secret-Token`;
without it, or with another one, the answer is 403 and nothing is stored. The Telegram worker
processes what was stored, exactly as it does with updates it polled itself.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from bot.api.errors import error_response
from bot.services.conversations import in_db
from integrations.telegram.intake import BadUpdate, check_secret_token, check_update, do_store_updates

router = APIRouter(tags=["telegram"])


@router.post("/telegram/webhook", include_in_schema=False)
async def create_update(
    request: Request,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> JSONResponse:
    if not check_secret_token(secret, request.app.state.settings.telegram_webhook_secret):
        return error_response(403, "forbidden", "wrong or missing secret token")
    try:
        payload = check_update(json.loads(await request.body()))
    except (ValueError, UnicodeDecodeError, BadUpdate):
        return error_response(400, "bad_update", "the body is not a Telegram update")
    now = datetime.now(timezone.utc)
    new = await in_db(request.app.state.sessionmaker, lambda session: do_store_updates(session, [payload], now))
    return JSONResponse({"ok": True, "new": bool(new)})
