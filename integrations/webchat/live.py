"""Server-sent events: adviser replies reach the customer's web chat without a reload.

The stream waits on the event bus (`bot/services/events.py`) for its conversation's key and then
reads the messages after the last one it sent; the bus says only *that* something changed, the
database says what. Replies stored by this hub wake the stream directly; with `LUOTSI_REDIS_URL`,
replies stored by any other hub or worker wake it through Redis pub/sub. A slow safety poll — and
a faster one while Redis is unreachable — means a lost notification delays a message, never loses it.

While the customer's ticket waits the stream also listens to the desk and sends the queue status
(place and estimate, `queue` events) when it changes; the places come from one board per change
shared by every stream of the hub (integrations/webchat/queue_status.py), so a claim costs the
database a few queries, not one per open stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.errors import BadInput
from bot.models import Conversation
from bot.services.conversations import read_messages_after
from bot.services.events import DESK, EventBus, Subscription, conversation_key
from bot.services.interpreting import outgoing_view
from integrations.webchat import wire
from integrations.webchat.queue_status import QueueBoard

router = APIRouter(tags=["web chat"])
SAFETY_POLL_SECONDS = 5.0  # re-read even without a notification: a lost one costs at most this
DEGRADED_POLL_SECONDS = 1.0  # while Redis is unreachable, replies stored by other hubs show within this
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 600.0  # the browser's EventSource reconnects by itself, with Last-Event-ID
# A message id we sent: ASCII digits only ('²'.isdigit() and '٣'.isdigit() are true too), and short
# enough for a 64-bit integer column, so a forged header cannot break the stream's query.
_EVENT_ID_RE = re.compile(r"[0-9]{1,18}")
MAX_EVENT_ID = 10**18 - 1


NO_STATUS: dict[str, object] = {"position": None, "text": ""}


def _queue_board(request: Request) -> QueueBoard:
    """The hub's one queue board, shared by its streams (made with the first stream that needs it)."""
    board: QueueBoard | None = getattr(request.app.state, "queue_board", None)
    if board is None:
        board = QueueBoard(request.app.state.sessionmaker, request.app.state.events,
                           request.app.state.turn_context.hours)
        request.app.state.queue_board = board
    return board


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
    While the conversation's ticket waits, an event `queue` `{"position", "text"}` whenever the place
    or the estimate changes (the page's status line, not a message; position null and text empty
    once an adviser has it).
    A `Last-Event-ID` that is not an id we sent (not 1–18 ASCII digits) is ignored, as a browser would
    ignore a stream's broken id: the stream starts from `after`."""
    if not wire.check_conversation_id(conversation_id):
        raise BadInput("invalid_conversation_id", "sys_error_invalid")
    if last_event_id and _EVENT_ID_RE.fullmatch(last_event_id):
        after = max(after, int(last_event_id))
    factory = request.app.state.sessionmaker
    bus: EventBus = request.app.state.events

    board = _queue_board(request)

    def poll(since: int, stored_id: str | None) -> tuple[str | None, str | None, str | None, list[dict[str, object]]]:
        """Our id of the conversation (None until it exists), who handles it, its language, and what
        came after `since`."""
        with factory() as session:
            if stored_id is None:
                stored_id = session.scalars(select(Conversation.id).where(
                    Conversation.channel == wire.CHANNEL, Conversation.external_id == conversation_id)).first()
            handler, language, messages = read_messages_after(session, channel=wire.CHANNEL,
                                                              external_id=conversation_id, after=since)
            out: list[dict[str, object]] = []
            for m in messages:
                view = outgoing_view(m, language)
                out.append({"id": m.id, "sender": m.sender, "text": view.text, "buttons": m.buttons or [],
                            "marker": view.marker, "original": view.original, "original_label": view.original_label})
            return stored_id, handler, language, out

    async def stream() -> AsyncIterator[str]:
        since, stored_id = after, None
        handler: str | None = None
        language: str | None = None
        told: dict[str, object] | None = None  # the queue status last sent
        read_messages = True
        subscription: Subscription | None = None
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        yield "retry: 2000\n\n"
        with contextlib.ExitStack() as listening:
            while loop.time() - started < STREAM_SECONDS:
                if await request.is_disconnected():
                    return
                if read_messages:
                    stored_id, handler, language, items = await run_in_threadpool(poll, since, stored_id)
                    for item in items:
                        since = int(str(item["id"]))
                        payload = json.dumps({**item, "handler": handler}, ensure_ascii=False)
                        yield f"id: {since}\nevent: message\ndata: {payload}\n\n"
                        last_sent = loop.time()
                if handler == "human" or (told is not None and told["text"]):
                    # while a ticket may wait, its place follows the desk: one shared board per change
                    if subscription is not None:
                        subscription.also(DESK)
                    status = await board.status(stored_id, language) if handler == "human" else NO_STATUS
                    if status != told:
                        told = status
                        yield f"event: queue\ndata: {json.dumps(status, ensure_ascii=False)}\n\n"
                        last_sent = loop.time()
                if loop.time() - last_sent > KEEPALIVE_SECONDS:
                    yield ": keep-alive\n\n"
                    last_sent = loop.time()
                if subscription is None and stored_id is not None:
                    subscription = listening.enter_context(bus.subscribe(conversation_key(stored_id)))
                    continue  # read once more: a reply stored before we listened is not missed
                now = loop.time()
                timeout = min(DEGRADED_POLL_SECONDS if bus.degraded else SAFETY_POLL_SECONDS,
                              last_sent + KEEPALIVE_SECONDS - now + 0.01, started + STREAM_SECONDS - now)
                if subscription is None:  # no such conversation yet: nothing can be published for it
                    await asyncio.sleep(max(timeout, 0.0))
                else:
                    woke = await subscription.wait(max(timeout, 0.0))
                    # the desk alone changed: the board says all; the messages are read on their own
                    # key, and on every safety poll
                    read_messages = not woke or conversation_key(str(stored_id)) in subscription.take_woken()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
