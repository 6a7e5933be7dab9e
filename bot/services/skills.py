"""Employers' future skill needs: stored without personal data, grouped for planning short trainings.

The answer to the optional question "which skills will you need in the coming years?" is kept apart
from the ticket: masked with the project's personal-data masking (nlu.pii: identity codes, bank
accounts, e-mail addresses, phone numbers), with the submitter's own name, company name and
business ID replaced too, and stored with bands instead of facts (municipality area, company size
band, the day). Nothing links a row back to the ticket or the person, so privacy export and erasure
have nothing to find here. Names of other people written in the text cannot be recognised; the
question asks for skills, not people.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import SkillNeed
from nlu.pii import mask

AREAS = ("espoo", "helsinki", "vantaa", "kauniainen")
_AREA_NAMES = {"espoo": "espoo", "esbo": "espoo", "helsinki": "helsinki", "helsingfors": "helsinki",
               "vantaa": "vantaa", "vanda": "vantaa", "kauniainen": "kauniainen", "grankulla": "kauniainen"}
_BUSINESS_IDS = re.compile(r"\b\d{6,7}-?\d\b")


def area_of(municipality: str | None) -> str:
    if not municipality:
        return "unknown"
    return _AREA_NAMES.get(municipality.strip().lower(), "other")


def size_band(staff: int | None) -> str:
    if staff is None:
        return "unknown"
    return "1-19" if staff < 20 else "20-29" if staff < 30 else "30-99" if staff < 100 else "100+"


def mask_skills(text: str, names: Iterable[str | None] = ()) -> str:
    """The text with personal data and the given names (each word of 2+ letters) replaced."""
    masked = _BUSINESS_IDS.sub("[business-id]", mask(text))
    for name in names:
        for word in sorted(set((name or "").split()), key=len, reverse=True):
            if len(word) >= 2:
                masked = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "[name]", masked, flags=re.IGNORECASE)
    return masked


def skill_need_row(packet: dict[str, Any], *, kind: str, language: str, now: datetime) -> SkillNeed:
    """The packet's `skills_needed` as a row without personal data (the caller adds and commits)."""
    names = [(packet.get("contact") or {}).get("name"), (packet.get("company") or {}).get("name")]
    return SkillNeed(kind=kind, area=area_of((packet.get("job") or {}).get("municipality")),
                     size_band=size_band(packet.get("staff")), language=language,
                     text=mask_skills(str(packet["skills_needed"]), names),
                     created_at=now.replace(hour=0, minute=0, second=0, microsecond=0))


def skill_needs(session: Session, *, since: datetime | None, until: datetime | None) -> list[SkillNeed]:
    query = select(SkillNeed).order_by(SkillNeed.kind, SkillNeed.area, SkillNeed.size_band, SkillNeed.created_at,
                                       SkillNeed.id)
    if since is not None:
        query = query.where(SkillNeed.created_at >= since)
    if until is not None:
        query = query.where(SkillNeed.created_at < until)
    return list(session.scalars(query))


def skills_csv(rows: list[SkillNeed]) -> str:
    """Grouped by kind, area and size band (one group's answers together, with the group's count)."""
    groups: dict[tuple[str, str, str], int] = {}
    for row in rows:
        groups[(row.kind, row.area, row.size_band)] = groups.get((row.kind, row.area, row.size_band), 0) + 1
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "area", "size_band", "answers_in_group", "day", "language", "skills_needed"])
    for row in rows:
        writer.writerow([safe_cell(v) for v in (row.kind, row.area, row.size_band,
                                                 groups[(row.kind, row.area, row.size_band)],
                                                 row.created_at.date().isoformat(), row.language, row.text)])
    return out.getvalue()


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or tab/CR) gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
