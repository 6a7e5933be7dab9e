"""The employers' plain web forms (issue 17): GET/POST /employer/assignment and
/employer/change-notice, in any of the eight languages of the employer catalogues (?lang=), without JavaScript.

Accessible by construction: every field has a label, an error summary at the top links to each
wrong field, each error also stands next to its field (aria-describedby), and the values are kept.
A valid form goes through the same service as the API (bot/services/employer.py) and answers with
a result page: the ticket number, the supports or duties, and what happens next. No session, so no
CSRF token: the form acts with no one's authority but the sender's own.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot.api.employer import within_rate
from bot.services import employer as svc
from bot.services.employer_texts import error_text, field_label, text

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
FORM_LANGUAGES = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")  # the catalogues of bot/locales/employer
LANGUAGE_ROWS = 3
KINDS = {"assignment": "assignment", "change-notice": "change_notice"}
MAX_FIELDS = 60  # the forms have about 30 fields; more is not a person filling them in


def form_language(request: Request) -> str:
    lang = request.query_params.get("lang", "")
    return lang if lang in FORM_LANGUAGES else "fi"


def nest(flat: dict[str, str]) -> dict[str, Any]:
    """{"job.languages.0.level": "B1"} → {"job": {"languages": [{"level": "B1"}]}}; empty language rows
    dropped, unticked boxes False."""
    data: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node: Any = data
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        # a name that clashes with another ("job" and "job.title") is not one of the form's: dropped
        if isinstance(node, dict) and not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = value
    job = data.get("job")
    if isinstance(job, dict) and isinstance(job.get("languages"), dict):
        rows = [job["languages"][k] for k in sorted((k for k in job["languages"] if k.isdigit() and len(k) < 4),
                                                    key=int)]
        job["languages"] = [r for r in rows if isinstance(r, dict) and any(str(v).strip() for v in r.values())]
    for box in ("training_route_welcome", "subsidy_welcome", "share_across_region"):
        data.setdefault(box, False)
    return data


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = context["lang"]
    context.update(t=lambda section, key, **v: text(section, key, lang, **v), label=lambda f: field_label(f, lang),
                   languages=FORM_LANGUAGES, rows=range(LANGUAGE_ROWS), levels=svc.LEVELS)
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _form(request: Request, kind: str, *, values: dict[str, str] | None = None,
          errors: list[svc.FieldError] | None = None, status: int = 200, notice: str | None = None) -> HTMLResponse:
    lang = form_language(request)
    shown = {e.field: error_text(e, lang) for e in errors or []}
    return _render(request, f"employer_{kind}.html", status, lang=lang, kind=kind, values=values or {},
                   errors=[(e.field, field_label(e.field, lang), error_text(e, lang)) for e in errors or []],
                   error_of=shown, notice=notice)


@router.get("/employer/assignment", response_class=HTMLResponse)
def read_assignment_form(request: Request) -> Response:
    return _form(request, "assignment")


@router.get("/employer/change-notice", response_class=HTMLResponse)
def read_change_notice_form(request: Request) -> Response:
    return _form(request, "change_notice")


async def _submit(request: Request, kind: str) -> Response:
    lang = form_language(request)
    form = await request.form()
    values = {k: str(v)[:5000] for k, v in list(form.items())[:MAX_FIELDS] if isinstance(v, str)}
    if not within_rate(request):
        return _form(request, kind, values=values, status=429, notice=text("errors", "too_many", lang))
    now = datetime.now(timezone.utc)
    check = svc.check_assignment if kind == "assignment" else svc.check_change_notice
    try:
        packet = check(nest(values), today=now.date())
    except svc.InvalidIntake as exc:
        return _form(request, kind, values=values, errors=exc.errors, status=422)
    submitted = await run_in_threadpool(_store, request.app.state.sessionmaker, kind, packet, lang, now)
    return _render(request, "employer_result.html", lang=lang, kind=kind, ticket=submitted.ticket_id,
                   messages=svc.result_messages(submitted, kind=kind, language=lang))


def _store(make_session: sessionmaker[Session], kind: str, packet: dict[str, Any], language: str,
           now: datetime) -> svc.Submitted:
    with make_session() as session:
        do = svc.do_submit_assignment if kind == "assignment" else svc.do_submit_change_notice
        return do(session, packet, language=language, now=now)


@router.post("/employer/assignment", response_class=HTMLResponse)
async def create_assignment_form(request: Request) -> Response:
    return await _submit(request, "assignment")


@router.post("/employer/change-notice", response_class=HTMLResponse)
async def create_change_notice_form(request: Request) -> Response:
    return await _submit(request, "change_notice")

