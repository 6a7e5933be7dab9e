"""Server-sent events: adviser replies reach the customer's web chat without a reload.

The stream polls the database (once a second) rather than an in-process bus, so it works the
same with one hub process or several behind a load balancer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.errors import BadInput
from bot.services.conversations import read_messages_after
from bot.services.interpreting import outgoing_view
from integrations.webchat import wire

router = APIRouter(tags=["web chat"])
POLL_SECONDS = 0.25  # one indexed query per open chat; the reply shows within a quarter second
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 600.0  # the browser's EventSource reconnects by itself, with Last-Event-ID
# A message id we sent: ASCII digits only ('²'.isdigit() and '٣'.isdigit() are true too), and short
# enough for a 64-bit integer column, so a forged header cannot break the stream's query.
_EVENT_ID_RE = re.compile(r"[0-9]{1,18}")
MAX_EVENT_ID = 10**18 - 1


@router.get("/api/chat/{conversation_id}/events", response_class=StreamingResponse)
async def read_chat_events(
    conversation_id: str,
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_ID)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """`text/event-stream` of messages for the customer: `{"id", "sender", "text", "handler"}`, and for a
    machine translation `marker` ("Machine translation", in the customer's language), `original` and
    `original_label`; an adviser's reply that could not be translated has only the `marker`.
    A `Last-Event-ID` that is not an id we sent (not 1–18 ASCII digits) is ignored, as a browser would
    ignore a stream's broken id: the stream starts from `after`."""
    if not wire.check_conversation_id(conversation_id):
        raise BadInput("invalid_conversation_id", "sys_error_invalid")
    if last_event_id and _EVENT_ID_RE.fullmatch(last_event_id):
        after = max(after, int(last_event_id))
    factory = request.app.state.sessionmaker

    def poll(since: int) -> tuple[str | None, list[dict[str, object]]]:
        with factory() as session:
            handler, language, messages = read_messages_after(session, channel=wire.CHANNEL,
                                                              external_id=conversation_id, after=since)
            out: list[dict[str, object]] = []
            for m in messages:
                view = outgoing_view(m, language)
                out.append({"id": m.id, "sender": m.sender, "text": view.text, "buttons": m.buttons or [],
                            "marker": view.marker, "original": view.original, "original_label": view.original_label})
            return handler, out

    async def stream() -> AsyncIterator[str]:
        since = after
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        yield "retry: 2000\n\n"
        while loop.time() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            handler, items = await run_in_threadpool(poll, since)
            for item in items:
                since = int(str(item["id"]))
                payload = json.dumps({**item, "handler": handler}, ensure_ascii=False)
                yield f"id: {since}\nevent: message\ndata: {payload}\n\n"
                last_sent = loop.time()
            if loop.time() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = loop.time()
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
