"""Employers' intake in the console (issue 17): the recruitment-assignment export for Työmarkkinatori
(any adviser, the tickets they may see), the future-skill-needs export (supervisors) and the open
coordination cases the supervisor page lists."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.pages import Db, _now, _signed_in
from bot.models import Ticket
from bot.services.employer import COORDINATION_PRIORITY
from bot.services.employer_export import assignments_csv, day_start, do_export_assignments
from bot.services.privacy import do_audit
from bot.services.skills import skill_needs, skills_csv
from bot.services.tickets import OPEN
from bot.services.topics import EMPLOYER_QUEUE

router = APIRouter(prefix="/console/employer", include_in_schema=False)


def coordination_tickets(session: Session) -> list[Ticket]:
    """Open change notices with 10 or more affected, oldest first (every city's supervisors see them)."""
    found = session.scalars(select(Ticket).where(Ticket.queue == EMPLOYER_QUEUE, Ticket.status.in_(OPEN),
                                                 Ticket.priority == COORDINATION_PRIORITY,
                                                 Ticket.intake.is_not(None)).order_by(Ticket.created_at))
    return [t for t in found if (t.intake or {}).get("coordination")]


@router.get("/assignments/export")
def read_assignments_export_page(request: Request, session: Db,
                                 format: Annotated[Literal["json", "csv"], Query()] = "csv",
                                 since: Annotated[date | None, Query()] = None,
                                 until: Annotated[date | None, Query()] = None) -> Response:
    me, _ = _signed_in(request, session)
    rows = do_export_assignments(session, me, since=since, until=until, now=_now())
    headers = {"Cache-Control": "no-store",
               "Content-Disposition": f'attachment; filename="assignments.{format}"'}
    if format == "csv":
        return Response(assignments_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(json.dumps({"assignments": rows}, ensure_ascii=False), media_type="application/json",
                    headers=headers)


@router.get("/skill-needs.csv")
def read_skill_needs_page(request: Request, session: Db, since: Annotated[date | None, Query()] = None,
                          until: Annotated[date | None, Query()] = None) -> Response:
    """Supervisors: the skill-needs answers grouped by kind, area and size band (no personal data)."""
    me, _ = _signed_in(request, session)
    if me.role not in ("supervisor", "admin"):
        return Response("Supervisors only", status_code=403)
    rows = skill_needs(session, since=day_start(since),
                       until=day_start(until + timedelta(days=1)) if until else None)
    do_audit(session, action="employer.skills_export", actor=me, key_kind=None, counts={"answers": len(rows)},
             now=_now())
    session.commit()
    return Response(skills_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="skill-needs.csv"'})
