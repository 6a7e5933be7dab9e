"""GET /metrics: Prometheus's text format for this hub process (bot/services/metrics.py).

Open to loopback (Prometheus on the same machine, scraping each hub on its own port) and otherwise
only with `Authorization: Bearer <LUOTSI_METRICS_TOKEN>`; a request forwarded by a proxy for a
client elsewhere is not loopback (`check_scrape_access`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.api.errors import error_response
from bot.services import metrics
from bot.services.conversations import in_db

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)
_REFUSED = {401: ("unauthorized", "a bearer token (LUOTSI_METRICS_TOKEN) is required from outside this machine"),
            403: ("forbidden", "metrics are served to loopback or with LUOTSI_METRICS_TOKEN only")}


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
                       401: {"description": "from outside loopback without a bearer token"},
                       403: {"description": "a wrong token, or no LUOTSI_METRICS_TOKEN set"}})
async def read_metrics(request: Request) -> Response:
    """This process's counters and histograms, and the queues' gauges read from the database now."""
    token = request.app.state.settings.metrics_token
    refused = metrics.check_scrape_access(request.client.host if request.client else None, request.headers,
                                          request.headers.get("authorization"),
                                          token.get_secret_value() if token else None)
    if refused is not None:
        code, message = _REFUSED[refused]
        response = error_response(refused, code, message)
        if refused == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
    now = datetime.now(timezone.utc)

    def read(session: Session) -> list[metrics.QueueStats]:
        return metrics.read_queue_stats(session, now)

    stats: list[metrics.QueueStats] | None
    try:
        stats = await in_db(request.app.state.sessionmaker, read)
    except SQLAlchemyError as exc:
        log.warning("metrics.queues_unavailable error=%s", type(exc).__name__)
        stats = None
    return Response(metrics.exposition(stats), media_type=metrics.CONTENT_TYPE)
