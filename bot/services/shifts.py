"""Who is on shift: the PKS cities take turns staffing the shared queues.

Shifts are stored in UTC and shown in Europe/Helsinki. Finnish public holidays close the advisory
unless a shift explicitly covers them; opening hours (configuration) only shape the demo roster
and the "opens again at" answer when no future shift is known.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import CompoundSelect, String, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from bot.models import Adviser, Queue, Shift

__all__ = ["Shift"]
from bot.models.desk import CHANNELS, CITIES

HELSINKI = ZoneInfo("Europe/Helsinki")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ShiftError(ValueError):
    """A roster line that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class OpeningHours:
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time

    @classmethod
    def parse(cls, spec: str) -> OpeningHours:
        """'mon-fri 08:00-16:00' → weekdays 0..4 from 08:00 to 16:00 Helsinki time."""
        try:
            day_part, hour_part = spec.strip().split()
            first, _, last = day_part.lower().partition("-")
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            opens_s, closes_s = hour_part.split("-")
            return cls(frozenset(range(start, end + 1)), time.fromisoformat(opens_s), time.fromisoformat(closes_s))
        except ValueError as exc:
            raise ShiftError(f"opening hours {spec!r}: expected e.g. 'mon-fri 08:00-16:00'") from exc


@lru_cache(maxsize=8)
def _finnish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FI", years=year)


def is_holiday(day: date) -> bool:
    return day in _finnish_holidays(day.year)


def active_shifts(session: Session, now: datetime, *, queue: str | None = None, city: str | None = None,
                  channel: str | None = None) -> list[Shift]:
    query = select(Shift).where(Shift.starts_at <= now, Shift.ends_at > now)
    if queue:
        query = query.where(Shift.queue == queue)
    if city:
        query = query.where(Shift.city == city)
    if channel:
        query = query.where((Shift.channel.is_(None)) | (Shift.channel == channel))
    return list(session.scalars(query.order_by(Shift.starts_at)))


def city_on_shift(session: Session, queue: str, channel: str, now: datetime) -> str | None:
    shifts = active_shifts(session, now, queue=queue, channel=channel)
    return shifts[0].city if shifts else None


def next_opening(session: Session, queue: str, channel: str, now: datetime, hours: OpeningHours) -> datetime:
    """When the queue is next staffed: the next shift, else the next opening hour on a working day."""
    upcoming = session.scalars(
        select(Shift.starts_at)
        .where(Shift.queue == queue, Shift.starts_at > now,
               (Shift.channel.is_(None)) | (Shift.channel == channel))
        .order_by(Shift.starts_at)
        .limit(1)
    ).first()
    if upcoming is not None:
        return upcoming
    local = now.astimezone(HELSINKI)
    for day in opening_days(local.date(), hours):
        opening = datetime.combine(day, hours.opens, HELSINKI)
        if opening > now:
            return opening.astimezone(timezone.utc)
    return (local + timedelta(days=1)).astimezone(timezone.utc)


def opening_days(first: date, hours: OpeningHours, horizon: int = 15) -> Iterator[date]:
    """The days from `first` on which the advisory is open (its weekdays, public holidays skipped)."""
    for offset in range(horizon):
        day = first + timedelta(days=offset)
        if day.weekday() in hours.days and not is_holiday(day):
            yield day


def open_seconds(start: datetime, end: datetime, hours: OpeningHours) -> int:
    """Seconds between `start` and `end` that fall inside the opening hours (working days, public
    holidays skipped): how long a ticket has waited against its response target. A ticket left on
    Friday evening has waited nothing on Monday at 08:00."""
    if end <= start:
        return 0
    first, last = start.astimezone(HELSINKI), end.astimezone(HELSINKI)
    total = 0.0
    days = (last.date() - first.date()).days + 1
    for day in opening_days(first.date(), hours, horizon=min(days, 400)):
        opens = datetime.combine(day, hours.opens, HELSINKI)
        closes = datetime.combine(day, hours.closes, HELSINKI)
        lo, hi = max(opens, first), min(closes, last)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return int(total)


# Asked on every claim and ticket view (the access rule), so built once and run with parameters.
_AT = bindparam("now", type_=Shift.starts_at.type)
_STAFFED = (select(Shift.queue, Shift.channel).distinct()  # active_shifts(city=…), as (queue, channel)
            .where(Shift.city == bindparam("city"), Shift.starts_at <= _AT, Shift.ends_at > _AT))
_SPOKEN = select(Adviser.languages).distinct().where(Adviser.city == bindparam("city"), Adviser.active.is_(True))


def queues_of_adviser(session: Session, adviser: Adviser, now: datetime) -> list[str]:
    """The queues the adviser's city staffs right now (in at least one channel)."""
    return sorted({queue for queue, _ in scope_of_adviser(session, adviser, now)})


def scope_of_adviser(session: Session, adviser: Adviser, now: datetime) -> list[tuple[str, str | None]]:
    """What the adviser's city staffs right now, as (queue, channel) pairs; channel None means
    every channel (a shift without a channel). A shift for one channel (web chat, say) does not
    open the queue's tickets of other channels."""
    pairs = {(queue, channel) for queue, channel in session.execute(_STAFFED, {"city": adviser.city, "now": now})}
    every = {queue for queue, channel in pairs if channel is None}
    return sorted(((q, c) for q, c in pairs if c is None or q not in every), key=lambda p: (p[0], p[1] or ""))


# the claim's two reads in one round trip: what the city staffs now and what its advisers speak
_STAFFED_AND_SPOKEN: CompoundSelect[Any] = union_all(
    select(literal("shift").label("kind"), Shift.queue.label("a"), Shift.channel.label("b"))
    .where(Shift.city == bindparam("city"), Shift.starts_at <= _AT, Shift.ends_at > _AT),
    select(literal("spoken").label("kind"), Adviser.languages.label("a"), literal(None, String).label("b"))
    .where(Adviser.city == bindparam("city"), Adviser.active.is_(True)),
)


def scope_and_speakers(session: Session, adviser: Adviser, now: datetime) -> tuple[list[tuple[str, str | None]], set[str]]:
    """`scope_of_adviser` and `on_shift_languages` of the adviser's city in one query (every claim
    asks both)."""
    pairs: set[tuple[str, str | None]] = set()
    spoken: set[str] = set()
    for kind, a, b in session.execute(_STAFFED_AND_SPOKEN, {"city": adviser.city, "now": now}):
        if kind == "shift":
            pairs.add((a, b))
        else:
            spoken.update(lang for lang in (a or "").split(",") if lang)
    every = {queue for queue, channel in pairs if channel is None}
    scope = sorted(((q, c) for q, c in pairs if c is None or q not in every), key=lambda p: (p[0], p[1] or ""))
    return scope, spoken


def on_shift_languages(session: Session, queue: str, city: str | None) -> set[str]:
    if city is None:
        return set()
    spoken = session.scalars(_SPOKEN, {"city": city})
    return {lang for languages in spoken for lang in languages.split(",") if lang}


def check_shift_row(row: dict[str, str], known_queues: set[str], line: int) -> Shift:
    """One CSV roster line: city,queue,channel,starts_at,ends_at (local Helsinki time or ISO with offset)."""
    city = (row.get("city") or "").strip().lower()
    queue = (row.get("queue") or "").strip()
    channel = (row.get("channel") or "").strip().lower() or None
    if city not in CITIES:
        raise ShiftError(f"line {line}: unknown city {city!r} (helsinki, espoo, vantaa)")
    if queue not in known_queues:
        raise ShiftError(f"line {line}: unknown queue {queue!r}")
    if channel is not None and channel not in CHANNELS:
        raise ShiftError(f"line {line}: unknown channel {channel!r}")
    try:
        starts, ends = (_parse_time(row.get(k) or "") for k in ("starts_at", "ends_at"))
    except ValueError as exc:
        raise ShiftError(f"line {line}: {exc}") from exc
    if ends <= starts:
        raise ShiftError(f"line {line}: the shift ends before it starts")
    return Shift(city=city, queue=queue, channel=channel, starts_at=starts, ends_at=ends)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=HELSINKI)
    return parsed.astimezone(timezone.utc)


def do_import_shifts(session: Session, text: str) -> int:
    """Import a CSV roster; all lines or none. Returns how many shifts were added."""
    known = set(session.scalars(select(Queue.code)))
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"city", "queue", "starts_at", "ends_at"} <= set(reader.fieldnames):
        raise ShiftError("expected a header: city,queue,channel,starts_at,ends_at")
    shifts = [check_shift_row(row, known, n) for n, row in enumerate(reader, start=2)]
    session.add_all(shifts)
    session.commit()
    return len(shifts)


def do_seed_demo_week(session: Session, now: datetime, hours: OpeningHours) -> int:
    """A demo roster from yesterday to a week ahead: the employer advisory and the callbacks
    rotate between the three cities day by day; each city staffs its own jobseeker advice."""
    if session.scalars(select(Shift).limit(1)).first() is not None:
        return 0
    today = now.astimezone(HELSINKI).date()
    added = 0
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        if day.weekday() not in hours.days or is_holiday(day):
            continue
        starts = datetime.combine(day, hours.opens, HELSINKI).astimezone(timezone.utc)
        ends = datetime.combine(day, hours.closes, HELSINKI).astimezone(timezone.utc)
        rotating = CITIES[day.toordinal() % len(CITIES)]
        rows = [(rotating, "employer_advisory"), (CITIES[(day.toordinal() + 1) % 3], "callbacks")]
        rows += [(city, f"jobseeker_{city}") for city in CITIES]
        for city, queue in rows:
            session.add(Shift(city=city, queue=queue, channel=None, starts_at=starts, ends_at=ends))
            added += 1
    session.commit()
    return added
