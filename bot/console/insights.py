"""Supervisors' insights (issue 18): the questions the assistant could not answer, and the advisory's
performance over five weeks, each as a page and a CSV export. Supervisors and admins only; the
work is in bot/services/insights.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.charts import Chart, bar_chart
from bot.console.pages import Db, _hours, _now, _page, _signed_in, console_language, duration, labeller
from bot.console.words import gettext
from bot.models import Adviser, AuthToken, Queue, Ticket
from bot.models.desk import CHANNELS, CITIES
from bot.services import insights, shifts
from bot.services.privacy import do_audit

router = APIRouter(prefix="/console/insights", include_in_schema=False)
MAX_DAYS = 366


class NotSupervisor(Exception):
    pass


def _supervisor(request: Request, session: Session) -> tuple[Adviser, AuthToken]:
    me, row = _signed_in(request, session)
    if me.role not in ("supervisor", "admin"):
        raise NotSupervisor
    return me, row


def _forbidden() -> Response:
    return Response("Supervisors only", status_code=403)


# ---- unanswered questions ----

@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    error: bool = False

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, shifts.HELSINKI).astimezone(timezone.utc)


def read_period(params: Any, now: datetime) -> Period:
    """From–to in Finnish dates, both included; the past seven days when not given or not usable."""
    today = now.astimezone(shifts.HELSINKI).date()
    default = Period(today - timedelta(days=6), today)
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if not raw_from and not raw_to:
        return default
    try:
        first = date.fromisoformat(raw_from) if raw_from else default.first
        last = date.fromisoformat(raw_to) if raw_to else today
    except ValueError:
        return Period(default.first, default.last, error=True)
    if first > last or (last - first).days >= MAX_DAYS:
        return Period(default.first, default.last, error=True)
    return Period(first, last)


def _unanswered(request: Request, session: Session) -> tuple[Period, str | None, insights.Unanswered]:
    period = read_period(request.query_params, _now())
    language = (request.query_params.get("language") or "").strip()[:8] or None
    return period, language, insights.unanswered_questions(session, period.start, period.end, language=language)


@router.get("/unanswered")
def read_unanswered_page(request: Request, session: Db) -> Response:
    try:
        me, row = _supervisor(request, session)
    except NotSupervisor:
        return _forbidden()
    period, language, report = _unanswered(request, session)
    query = {"from": period.first.isoformat(), "to": period.last.isoformat(), **({"language": language} if language else {})}
    return _page(request, "insights_unanswered.html", me, row, period=period, language=language, report=report,
                 csv_url="/console/insights/unanswered.csv?" + urlencode(query), max_messages=insights.MAX_MESSAGES,
                 max_grouped=insights.MAX_GROUPED, fmt_day=_day)


@router.get("/unanswered.csv")
def read_unanswered_export_page(request: Request, session: Db) -> Response:
    try:
        me, _row = _supervisor(request, session)
    except NotSupervisor:
        return _forbidden()
    period, _language, report = _unanswered(request, session)
    do_audit(session, action="insights.unanswered_export", actor=me, key_kind=None,
             counts={"questions": report.questions, "groups": sum(len(g) for g in report.groups.values())}, now=_now())
    session.commit()
    name = f"unanswered-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(insights.unanswered_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"'})


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


# ---- performance over time ----

def _performance(request: Request, session: Session) -> insights.Performance:
    queues = list(session.scalars(select(Queue.code).order_by(Queue.code)))
    filters = insights.PerformanceFilters.read(dict(request.query_params), queues)
    return insights.performance(session, _now(), _hours(request), filters)


def _number(language: str, digits: int = 0) -> Callable[[float], str]:
    """Numbers as each console language writes them (a decimal comma in Finnish and Swedish)."""
    def fmt(value: float) -> str:
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if language in ("fi", "sv") else text
    return fmt


@dataclass
class Figure:
    """One chart and the same numbers as a table under it."""

    chart: Chart
    headers: list[str]
    rows: list[tuple[str, list[str]]]


def _figures(report: insights.Performance, language: str) -> list[Figure]:
    _ = gettext(language)
    whole, one = _number(language), _number(language, 1)
    weeks = report.weeks
    categories = [(_("wk {n}", n=w.week.number), w.week.first_day.strftime("%d.%m.")) for w in weeks]
    names = [_("wk {n}", n=w.week.number) + f" ({w.week.first_day:%d.%m.}–{w.week.last_day:%d.%m.})" for w in weeks]

    def minutes(seconds: float | None) -> float | None:
        return None if seconds is None else seconds / 60

    def rate(w: insights.WeekFigures) -> float | None:
        return None if w.handoff_rate is None else w.handoff_rate * 100

    def text(value: float | None, fmt: Callable[[float], str]) -> str:
        return "—" if value is None else fmt(value)

    def figure(chart_id: str, title: str, series: list[tuple[str, list[float | None]]], fmt: Callable[[float], str],
               cells: list[list[str]] | None = None, headers: list[str] | None = None, top: float | None = None) -> Figure:
        desc = " ".join(
            f"{name}: " + ", ".join(f"{week} {text(v, fmt)}" for week, v in zip(names, values, strict=True)) + "."
            for name, values in series)
        chart = bar_chart(chart_id, title, desc, categories, series, fmt, top=top)
        columns = cells or [[text(v, fmt) for v in values] for _, values in series]
        return Figure(chart=chart, headers=headers or [name for name, _ in series],
                      rows=[(names[i], [column[i] for column in columns]) for i in range(len(weeks))])

    def percent(value: float) -> str:
        return f"{whole(value)} %"

    return [
        figure("contacts", _("Contacts per week"),
               [(_("Tickets"), [float(w.tickets) for w in weeks]),
                (_("Conversations with the assistant"),
                 [None if w.conversations is None else float(w.conversations) for w in weeks])], whole),
        figure("handoffs", _("Hand-off rate (conversations handed to an adviser)"),
               [(_("Hand-off rate"), [rate(w) for w in weeks])], percent,
               cells=[[text(rate(w), percent) for w in weeks],
                      ["—" if w.handed_off is None else str(w.handed_off) for w in weeks],
                      ["—" if w.conversations is None else str(w.conversations) for w in weeks]],
               headers=[_("Hand-off rate"), _("Handed off"), _("Conversations with the assistant")], top=100.0),
        figure("waits", _("Wait until claimed, minutes of opening hours"),
               [(_("Median"), [minutes(w.median_wait) for w in weeks]),
                (_("90th percentile"), [minutes(w.p90_wait) for w in weeks])], whole,
               cells=[["—" if w.median_wait is None else duration(int(w.median_wait)) for w in weeks],
                      ["—" if w.p90_wait is None else duration(int(w.p90_wait)) for w in weeks],
                      [str(w.claims) for w in weeks]],
               headers=[_("Median"), _("90th percentile"), _("Claims")]),
        figure("sla", _("Claims past the response-time target"),
               [(_("Claims"), [float(w.claims) for w in weeks]),
                (_("Past the target"), [float(w.sla_breaches) for w in weeks])], whole),
        figure("csat", _("Customer satisfaction (average, 1–5)"),
               [(_("Average"), [w.csat_average for w in weeks])], one,
               cells=[[text(w.csat_average, one) for w in weeks], [str(w.csat_answers) for w in weeks]],
               headers=[_("Average"), _("Answers")], top=5.0),
    ]


@router.get("/performance")
def read_performance_page(request: Request, session: Db) -> Response:
    try:
        me, row = _supervisor(request, session)
    except NotSupervisor:
        return _forbidden()
    report = _performance(request, session)
    language = console_language(request, me)
    languages = sorted({code for code in session.scalars(select(Ticket.language).distinct()) if code}
                       | ({report.filters.language} if report.filters.language else set()),
                       key=lambda code: labeller(language)("language", code))
    return _page(request, "insights_performance.html", me, row, report=report, figures=_figures(report, language),
                 cities=CITIES, channels=CHANNELS, languages=languages,
                 all_queues=list(session.scalars(select(Queue.code).order_by(Queue.code))),
                 csv_url="/console/insights/performance.csv?" + urlencode(report.filters.query()),
                 max_claims=insights.MAX_CLAIMS)


@router.get("/performance.csv")
def read_performance_export_page(request: Request, session: Db) -> Response:
    try:
        _supervisor(request, session)
    except NotSupervisor:
        return _forbidden()
    report = _performance(request, session)
    return Response(insights.performance_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="performance.csv"'})
