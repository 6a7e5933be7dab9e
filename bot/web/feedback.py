"""The one-question feedback page an e-mail customer reaches from the link in the mail after their
ticket closed (issue 18): GET/POST /feedback/{token}, in the ticket's language (right to left for
Arabic), five radio buttons and an optional comment, without JavaScript.

Accessible by construction: the scale is a fieldset with a legend, every field has a label, an
error stands at the top (linked to its field) and beside the field, and the values are kept. The
token is the only authority (no session, so no CSRF token); bot/services/csat.py checks it and
stores the answer, which is never overwritten. Bad input answers 4xx with the page and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.locales import catalogues, render
from bot.models import Conversation
from bot.services import csat
from nlu import langid

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
MAX_FIELDS = 4  # score and comment; more is not a person filling the form in


@dataclass(frozen=True)
class Outcome:
    """What a visit to the page came to: the language, and the form or a final word."""

    language: str
    status: int = 200
    final: str | None = None  # a catalogue key: thanks, already answered, unknown link
    error: csat.CsatError | None = None


def page_language(language: str | None) -> str:
    return language if language in catalogues() else "en"


def _browser_language(request: Request) -> str:
    """For a link we cannot read: the browser's first language we have, else English."""
    for part in request.headers.get("accept-language", "").split(","):
        code = langid.normalise_hint(part.split(";")[0].strip())
        if code in catalogues():
            return code
    return "en"


def _language_of(session: Session, ticket_conversation: str, ticket_language: str | None) -> str:
    conversation = session.get(Conversation, ticket_conversation)
    return page_language((conversation.language if conversation else None) or ticket_language)


def _visit(factory: sessionmaker[Session], token: str, answer: dict[str, str] | None, now: datetime) -> Outcome:
    """Read the link's ticket and, for a POST, check and store the answer."""
    with factory() as session:
        try:
            ticket = csat.access_ticket_by_token(session, token)
        except csat.CsatError:
            return Outcome(language="", status=404, final="sys_csat_page_not_found")
        language = _language_of(session, ticket.conversation_id, ticket.language)
        if ticket.csat_score is not None:
            return Outcome(language, status=409 if answer is not None else 200, final="sys_csat_already")
        if answer is None:
            return Outcome(language)
        try:
            score = csat.check_score(answer.get("score", ""))
            comment = csat.check_comment(answer.get("comment", ""))
        except csat.CsatError as exc:
            return Outcome(language, status=exc.status, error=exc)
        if not csat.do_answer(session, ticket, score, comment, now):
            return Outcome(language, status=409, final="sys_csat_already")
        return Outcome(language, final="sys_csat_thanks")


def _page(request: Request, token: str, outcome: Outcome, values: dict[str, str]) -> HTMLResponse:
    lang = outcome.language or _browser_language(request)

    def t(key: str) -> str:
        return render(key, lang).text

    error = outcome.error
    context: dict[str, Any] = {
        "lang": lang, "dir": "rtl" if langid.is_rtl(lang) else "ltr", "t": t, "token": token,
        "scores": csat.SCORES, "values": values, "final": outcome.final, "max_comment": csat.MAX_COMMENT,
        "error": t(error.key) if error else None,
        "error_field": ("score" if error.code == "invalid_score" else "comment") if error else None,
    }
    response = templates.TemplateResponse(request, "feedback.html", context, status_code=outcome.status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/feedback/{token}", response_class=HTMLResponse)
async def read_feedback_page(token: str, request: Request) -> Response:
    outcome = await run_in_threadpool(_visit, request.app.state.sessionmaker, token[:200], None,
                                      datetime.now(timezone.utc))
    return _page(request, token[:200], outcome, {})


@router.post("/feedback/{token}", response_class=HTMLResponse)
async def create_feedback(token: str, request: Request) -> Response:
    form = await request.form()
    values = {k: v for k, v in list(form.items())[:MAX_FIELDS] if isinstance(v, str) and k in ("score", "comment")}
    outcome = await run_in_threadpool(_visit, request.app.state.sessionmaker, token[:200], values,
                                      datetime.now(timezone.utc))
    return _page(request, token[:200], outcome, values)
