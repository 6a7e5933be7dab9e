"""Recruitment assignments out of the hub, for entry into Työmarkkinatori by an adviser: JSON and a
CSV a spreadsheet opens safely (a cell starting with = + - @ gets a leading ', so it is never taken
for a formula). Only the tickets the adviser may see (`visible_tickets`); every export is audited
(who, when, how many — never the data)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Adviser, Ticket
from bot.services.privacy import do_audit
from bot.services.skills import safe_cell
from bot.services.tickets import visible_tickets
from bot.services.topics import EMPLOYER_QUEUE

COLUMNS = ("ticket_id", "created_at", "status", "company_name", "business_id", "contact_name", "contact_email",
           "contact_phone", "job_title", "positions", "municipality", "start_date", "permanent", "months",
           "hours_per_week", "languages", "requirements", "supports", "training_route_welcome", "subsidy_welcome",
           "share_across_region")
MAX_ROWS = 10_000


def day_start(day: date | None) -> datetime | None:
    """Midnight UTC of the day (periods are whole days)."""
    return datetime.combine(day, time.min, timezone.utc) if day is not None else None


def assignment_rows(session: Session, adviser: Adviser, *, since: date | None, until: date | None,
                    now: datetime) -> list[dict[str, Any]]:
    """The assignments submitted from `since` to `until` (both days included), oldest first, flat."""
    query = select(Ticket).where(Ticket.queue == EMPLOYER_QUEUE, Ticket.intake.is_not(None),
                                 Ticket.reason == "employer_intake", Ticket.topic == "recruiting_help")
    scope = visible_tickets(session, adviser, now)
    if scope is not None:
        query = query.where(scope)
    if since is not None:
        query = query.where(Ticket.created_at >= day_start(since))
    if until is not None:
        query = query.where(Ticket.created_at < day_start(until + timedelta(days=1)))
    rows = []
    for ticket in session.scalars(query.order_by(Ticket.created_at, Ticket.id).limit(MAX_ROWS)):
        intake = ticket.intake or {}
        if intake.get("type") != "assignment":
            continue
        company, contact, job = intake.get("company") or {}, intake.get("contact") or {}, intake.get("job") or {}
        rows.append({
            "ticket_id": ticket.id, "created_at": ticket.created_at.isoformat(), "status": ticket.status,
            "company_name": company.get("name"), "business_id": company.get("business_id"),
            "contact_name": contact.get("name"), "contact_email": contact.get("email"),
            "contact_phone": contact.get("phone"), "job_title": job.get("title"), "positions": job.get("positions"),
            "municipality": job.get("municipality"), "start_date": job.get("start_date"),
            "permanent": job.get("permanent"), "months": job.get("months"),
            "hours_per_week": job.get("hours_per_week"), "languages": job.get("languages") or [],
            "requirements": job.get("requirements"), "supports": intake.get("supports") or [],
            "training_route_welcome": intake.get("training_route_welcome"),
            "subsidy_welcome": intake.get("subsidy_welcome"), "share_across_region": intake.get("share_across_region"),
        })
    return rows


def do_export_assignments(session: Session, adviser: Adviser, *, since: date | None, until: date | None,
                          now: datetime) -> list[dict[str, Any]]:
    rows = assignment_rows(session, adviser, since=since, until=until, now=now)
    do_audit(session, action="employer.export", actor=adviser, key_kind=None, counts={"assignments": len(rows)},
             now=now)
    session.commit()
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = "; ".join(f"{v.get('language')} {v.get('level')}" if isinstance(v, dict) else str(v) for v in value)
    return safe_cell(value)


def assignments_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()
