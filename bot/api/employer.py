"""Employers' structured intake over HTTP (no login, rate-limited) and the advisers' export of
recruitment assignments. Routes stay thin: bot/services/employer.py checks and stores."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from bot.api.deps import current_adviser, get_session
from bot.api.ratelimit import SlidingWindow, is_loopback
from bot.errors import BadInput
from bot.models import Adviser
from bot.schemas.common import ErrorPublic
from bot.schemas.employer import AssignmentPublic, ChangeNoticePublic, IntakeErrorPublic
from bot.schemas.tickets import TicketRefPublic
from bot.services import employer as svc
from bot.services.employer_export import assignments_csv, do_export_assignments
from bot.services.employer_texts import error_summary, error_text, field_label
from nlu import langid

router = APIRouter(prefix="/api/employer", tags=["employers"])
Db = Annotated[Session, Depends(get_session)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": IntakeErrorPublic, "description": "the body is not valid: `error.fields` names every wrong field"},
    429: {"model": ErrorPublic, "description": "too many submissions from this address; try again in a minute"},
}
_ASSIGNMENT_EXAMPLE = {
    "language": "fi", "company": {"name": "Esimerkki Oy", "business_id": "0737546-2"},
    "contact": {"name": "Maija Meikäläinen", "email": "maija@esimerkki.fi", "phone": "040 123 4567"},
    "job": {"title": "Kokki", "positions": 2, "municipality": "Espoo", "start_date": "2027-03-01", "permanent": False,
            "months": 12, "hours_per_week": 37.5, "languages": [{"language": "fi", "level": "B1"}],
            "requirements": "Hygieniapassi"},
    "training_route_welcome": True, "subsidy_welcome": True, "share_across_region": True,
    "skills_needed": "Kassajärjestelmät, anniskelupassi"}
_NOTICE_EXAMPLE = {
    "language": "en", "company": {"name": "Example Ltd", "business_id": "2617416-4"},
    "contact": {"name": "Alex Example", "email": "alex@example.fi", "phone": "+358 9 123 4567"},
    "staff": 35, "affected": 12, "kind": "dismissal", "negotiations_start": "2027-01-15"}


def employer_limits(request: Request) -> SlidingWindow:
    limits: SlidingWindow = request.app.state.employer_limits
    return limits


def languages_of(body: dict[str, Any]) -> str:
    """The request's language code (a tier-1 or tier-2 code; anything unknown is English)."""
    hint = body.get("language")
    return (langid.normalise_hint(hint) if isinstance(hint, str) else None) or "en"


def within_rate(request: Request) -> bool:
    """Whether this address may send another intake (API or web form) now; loopback is not counted:
    the reverse proxy and the hub's own tools come from there."""
    client = request.client.host if request.client else None
    return client is None or is_loopback(client) or employer_limits(request).allow(client)


def check_rate(request: Request, language: str) -> None:
    """429 in the request's language when one address sends too many forms."""
    if not within_rate(request):
        raise BadInput("too_many_requests", "sys_error_rate_limited", language, status=429)


def invalid(exc: svc.InvalidIntake, language: str) -> JSONResponse:
    """422 naming every wrong field, in the request's language (the project's error shape plus `fields`)."""
    fields = [{"field": e.field, "code": e.code, "message": f"{field_label(e.field, language)}: {error_text(e, language)}"}
              for e in exc.errors]
    missing = all(e.code == "required" for e in exc.errors)
    return JSONResponse(status_code=422, content={"error": {
        "code": "missing_field" if missing else "invalid_field",
        "message": error_summary(exc.errors, language), "fields": fields}})


def _ref(submitted: svc.Submitted) -> TicketRefPublic:
    return TicketRefPublic(id=submitted.ticket_id, queue=submitted.queue, status=submitted.status)


@router.post("/assignments", response_model=AssignmentPublic, responses=_ERRORS)
def create_assignment(request: Request, session: Db,
                      body: Annotated[dict[str, Any], Body(openapi_examples={"fixed-term cook": {
                          "value": _ASSIGNMENT_EXAMPLE}})]) -> AssignmentPublic | JSONResponse:
    """A recruitment assignment (rekrytointitoimeksianto) into the shared employer advisory: the
    ticket, the supports that may apply (service-need codes; the rule: bot/services/employer.py)
    and what happens next in `language`."""
    language = languages_of(body)
    check_rate(request, language)
    now = datetime.now(timezone.utc)
    try:
        packet = svc.check_assignment(body, today=now.date())
    except svc.InvalidIntake as exc:
        return invalid(exc, language)
    submitted = svc.do_submit_assignment(session, packet, language=language, now=now)
    return AssignmentPublic(ticket=_ref(submitted), supports=submitted.supports,
                            next="\n\n".join(svc.result_messages(submitted, kind="assignment", language=language)))


@router.post("/change-notices", response_model=ChangeNoticePublic, responses=_ERRORS)
def create_change_notice(request: Request, session: Db,
                         body: Annotated[dict[str, Any], Body(openapi_examples={"12 dismissals": {
                             "value": _NOTICE_EXAMPLE}})]) -> ChangeNoticePublic | JSONResponse:
    """A change-security notice (muutosturva): the ticket, the employer's duties and whether the
    three cities coordinate the change (10 or more affected)."""
    language = languages_of(body)
    check_rate(request, language)
    now = datetime.now(timezone.utc)
    try:
        packet = svc.check_change_notice(body, today=now.date())
    except svc.InvalidIntake as exc:
        return invalid(exc, language)
    submitted = svc.do_submit_change_notice(session, packet, language=language, now=now)
    return ChangeNoticePublic(ticket=_ref(submitted), duties=submitted.duties, coordination=submitted.coordination,
                              next="\n\n".join(svc.result_messages(submitted, kind="change_notice",
                                                                   language=language)))


@router.get("/assignments/export", responses={
    200: {"content": {"text/csv": {}, "application/json": {}},
          "description": "the assignments as JSON (`{\"assignments\": [...]}`) or CSV"}})
def read_assignments_export(
    me: Annotated[Adviser, Depends(current_adviser)], session: Db,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    since: Annotated[date | None, Query(description="first day (UTC), included")] = None,
    until: Annotated[date | None, Query(description="last day (UTC), included")] = None,
) -> Response:
    """Recruitment assignments for entry into Työmarkkinatori, of the tickets the adviser may see;
    CSV cells that a spreadsheet would take for a formula start with '."""
    rows = do_export_assignments(session, me, since=since, until=until, now=datetime.now(timezone.utc))
    if format == "csv":
        return Response(assignments_csv(rows), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="assignments.csv"', "Cache-Control": "no-store"})
    return Response(json.dumps({"assignments": rows}, ensure_ascii=False), media_type="application/json",
                    headers={"Cache-Control": "no-store"})
