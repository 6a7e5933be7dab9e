"""What the supervisors learn from the assistant and the desk (issue 18): the questions the assistant
could not answer, grouped by similarity, and how the advisory did week by week.

The work is in pure functions (what a turn came to, which questions went unanswered, grouping,
weeks, percentiles, CSV); each report reads the database in a few bounded statements and says when
it hit its bound. Customer text leaves this module masked (`nlu.pii.mask`).
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.models import Conversation, Message, Queue, Ticket, TicketEvent
from bot.models.desk import CHANNELS, CITIES
from bot.services import shifts
from nlu import langid, pii

# ---- what a customer's message came to (message.outcome, set by the turn) ----

OUTCOMES = ("answered", "fallback", "clarify", "handoff", "guided")
FALLBACK_KEYS = frozenset({"utter_fallback", "utter_fallback_offer_human", "utter_out_of_scope"})


def outcome_of(answers: Iterable[object], guided: bool) -> str:
    """What the assistant made of a customer's message, from its answer: a hand-off wins over
    everything; then a clarifying question (one without topics to offer is said as the fallback,
    bot/services/conversations.py `clarify`) or a fallback text; then an answer inside a guided
    conversation (`guided`, or a step that starts one); else a catalogue answer."""
    said = [(getattr(a, "name", None), getattr(a, "args", None) or {}) for a in answers]
    names = {name for name, _ in said}
    if "handoff" in names:
        return "handoff"
    for name, args in said:
        if name == "clarify":
            options = args.get("options")
            return "clarify" if isinstance(options, list) and options else "fallback"
    if any(name == "say" and args.get("key") in FALLBACK_KEYS for name, args in said):
        return "fallback"
    if guided or "guidance" in names:
        return "guided"
    return "answered"


# ---- unanswered questions ----

MAX_MESSAGES = 5000  # customer messages read per report (the newest of the period)
MAX_GROUPED = 2000  # distinct questions grouped per language (the clustering is quadratic)
RIGHT_AFTER = timedelta(minutes=30)  # "followed by": the customer's next message within this time
DISTANCE = 0.83  # cosine distance (average linkage) below which questions are one group (tests/test_insights.py)
EXAMPLES = 3
TEXT_LIMIT = 300


@dataclass(frozen=True)
class Said:
    """A customer's message and what the assistant made of it."""

    conversation_id: str
    id: int
    text: str
    language: str
    outcome: str
    created_at: datetime


@dataclass
class Group:
    language: str
    count: int
    examples: list[str]


@dataclass
class Unanswered:
    start: datetime
    end: datetime
    groups: dict[str, list[Group]]  # language → groups, largest first
    questions: int
    capped: bool
    languages: list[str] = field(default_factory=list)


def unanswered(messages: Iterable[Said], until: datetime | None = None) -> list[Said]:
    """The questions the customer was not helped with: a fallback; a clarifying question the
    customer's next message did not settle (another fallback or clarifying question, or a
    hand-off); an answer right after which the customer asked for a person. "Next" means the same
    conversation's next customer message within `RIGHT_AFTER`. Messages from `until` on only serve
    as the next message of an earlier one."""
    by_conversation: dict[str, list[Said]] = defaultdict(list)
    for message in messages:
        by_conversation[message.conversation_id].append(message)
    found: list[Said] = []
    for said in by_conversation.values():
        said.sort(key=lambda m: m.id)
        for i, message in enumerate(said):
            if until is not None and message.created_at >= until:
                break
            following = said[i + 1] if i + 1 < len(said) else None
            if following is not None and following.created_at - message.created_at > RIGHT_AFTER:
                following = None
            then = following.outcome if following else None
            if message.outcome == "fallback" \
                    or (message.outcome == "clarify" and then in ("fallback", "clarify", "handoff")) \
                    or (message.outcome == "answered" and then == "handoff"):
                found.append(message)
    return sorted(found, key=lambda m: m.created_at)


def masked(text: str) -> str:
    """A customer's text as the reports show it: personal data masked, one line, bounded."""
    one_line = " ".join(pii.mask(text).split())
    return one_line if len(one_line) <= TEXT_LIMIT else one_line[: TEXT_LIMIT - 1] + "…"


_LABELS = re.compile("|".join(re.escape(label) for label in pii.LABELS.values()))
_NOT_WORDS = re.compile(r"[\W\d_]+")


def _normal(text: str) -> str:
    """What the grouping compares: lower case words only, without the masks' labels."""
    return " ".join(_NOT_WORDS.sub(" ", _LABELS.sub(" ", text).lower()).split())


def group_texts(texts: Sequence[str], threshold: float = DISTANCE) -> list[list[int]]:
    """Indices of `texts` (one language) grouped by similarity: TF-IDF over character n-grams within
    words (robust to inflection and typing errors in any script) and agglomerative clustering with
    average linkage, cut at a cosine distance. Identical texts are grouped once. Largest group first."""
    keys = [_normal(t) for t in texts]
    distinct_keys = list(dict.fromkeys(k for k in keys if k))
    labels: dict[str, int] = {}
    if len(distinct_keys) == 1:
        labels[distinct_keys[0]] = 0
    elif distinct_keys:
        from sklearn.cluster import AgglomerativeClustering  # imported when grouping: the turn never needs it
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(distinct_keys)
        distances = (1.0 - (vectors @ vectors.T).toarray()).clip(0.0, 2.0)
        clustering = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                             distance_threshold=threshold)
        labels = dict(zip(distinct_keys, (int(x) for x in clustering.fit_predict(distances)), strict=True))
    groups: dict[int, list[int]] = defaultdict(list)
    blank = max(labels.values(), default=-1) + 1  # texts of masks or digits only: one group of their own
    for index, key in enumerate(keys):
        groups[labels.get(key, blank)].append(index)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def group_questions(questions: Sequence[Said], threshold: float = DISTANCE) -> dict[str, list[Group]]:
    """Per language, the questions grouped by similarity with a count and up to three examples (the
    most frequent wordings), largest group first. At most `MAX_GROUPED` distinct wordings per
    language are grouped (the newest)."""
    by_language: dict[str, list[str]] = defaultdict(list)
    for question in questions:
        by_language[question.language].append(masked(question.text))
    out: dict[str, list[Group]] = {}
    for language, texts in sorted(by_language.items(), key=lambda item: (-len(item[1]), item[0])):
        texts = _newest_wordings(texts)
        groups = []
        for indices in group_texts(texts, threshold):
            wordings = Counter(texts[i] for i in indices)
            examples = [text for text, _ in sorted(wordings.items(), key=lambda w: (-w[1], len(w[0]), w[0]))]
            groups.append(Group(language=language, count=len(indices), examples=examples[:EXAMPLES]))
        out[language] = sorted(groups, key=lambda g: -g.count)
    return out


def _newest_wordings(texts: list[str]) -> list[str]:
    """The texts whose wording is among the `MAX_GROUPED` newest distinct ones (texts run oldest first)."""
    wordings = list(dict.fromkeys(_normal(t) for t in reversed(texts)))
    if len(wordings) <= MAX_GROUPED:
        return texts
    kept = set(wordings[:MAX_GROUPED])
    return [t for t in texts if _normal(t) in kept]


def _message_language(message_language: str | None, conversation_language: str | None) -> str:
    for code in (message_language, conversation_language):
        if code and code != langid.UNDETERMINED:
            return code
    return langid.UNDETERMINED


def unanswered_questions(session: Session, start: datetime, end: datetime, *, language: str | None = None,
                         threshold: float = DISTANCE) -> Unanswered:
    """The unanswered questions of [start, end), grouped per language. One statement: the customer
    messages with an outcome in the conversations that had a fallback, a clarifying question or a
    hand-off in the period (the newest `MAX_MESSAGES`)."""
    troubled = (select(Message.conversation_id)
                .where(Message.outcome.in_(("fallback", "clarify", "handoff")),
                       Message.created_at >= start, Message.created_at < end))
    rows = session.execute(
        select(Message.conversation_id, Message.id, Message.text, Message.language, Conversation.language,
               Message.outcome, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.outcome.in_(OUTCOMES), Message.created_at >= start, Message.created_at < end + RIGHT_AFTER,
               Message.conversation_id.in_(troubled))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(MAX_MESSAGES + 1)
    ).all()
    capped = len(rows) > MAX_MESSAGES
    said = [Said(conversation_id=c, id=i, text=t, language=_message_language(ml, cl), outcome=o or "", created_at=at)
            for c, i, t, ml, cl, o, at in rows[:MAX_MESSAGES]]
    questions = unanswered(said, until=end)
    languages = sorted({q.language for q in questions})
    if language:
        questions = [q for q in questions if q.language == language]
    return Unanswered(start=start, end=end, groups=group_questions(questions, threshold), questions=len(questions),
                      capped=capped, languages=languages)


def unanswered_csv(report: Unanswered) -> str:
    """One row per group: language, its rank, how many questions, up to three examples (masked)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["language", "group", "questions", "example_1", "example_2", "example_3"])
    for language, groups in report.groups.items():
        for rank, group in enumerate(groups, start=1):
            examples = [*group.examples, "", "", ""][:EXAMPLES]
            writer.writerow([language, rank, group.count, *(_csv_safe(e) for e in examples)])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A customer's words never start a formula when the CSV is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---- performance week by week ----

WEEKS = 5  # this week and the four before it
MAX_CLAIMS = 20000  # claims read per report, for the waits (the newest)
TAKES = ("claimed", "assigned")  # the events that end a ticket's wait in the queue


@dataclass(frozen=True)
class Week:
    start: datetime  # Monday 00:00 Finnish time, as UTC
    end: datetime
    number: int  # ISO week
    first_day: date
    last_day: date


@dataclass(frozen=True)
class PerformanceFilters:
    city: str | None = None
    queue: str | None = None
    language: str | None = None
    channel: str | None = None

    @classmethod
    def read(cls, params: Mapping[str, str], queues: Iterable[str]) -> PerformanceFilters:
        """The filter form's values; anything not offered is ignored (all)."""
        def pick(name: str, allowed: Iterable[str]) -> str | None:
            value = (params.get(name) or "").strip()
            return value if value and value in set(allowed) else None
        language = (params.get("language") or "").strip()
        return cls(city=pick("city", CITIES), queue=pick("queue", queues), channel=pick("channel", CHANNELS),
                   language=language if re.fullmatch(r"[a-z]{2,3}", language) else None)

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("city", self.city), ("queue", self.queue), ("language", self.language),
                                  ("channel", self.channel)) if v}


@dataclass
class WeekFigures:
    week: Week
    tickets: int = 0
    conversations: int | None = None  # with the assistant; None when a city or queue filter is set
    handed_off: int | None = None
    claims: int = 0
    median_wait: float | None = None  # seconds, opening hours only
    p90_wait: float | None = None
    sla_breaches: int = 0
    csat_answers: int = 0
    csat_average: float | None = None

    @property
    def handoff_rate(self) -> float | None:
        if not self.conversations or self.handed_off is None:
            return None
        return min(1.0, self.handed_off / self.conversations)


@dataclass
class Performance:
    weeks: list[WeekFigures]
    filters: PerformanceFilters
    capped: bool


def weeks_until(now: datetime, count: int = WEEKS) -> list[Week]:
    """This week (from Monday 00:00 Finnish time) and the `count - 1` weeks before it, oldest first."""
    today = now.astimezone(shifts.HELSINKI).date()
    monday = today - timedelta(days=today.weekday())
    out = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        out.append(Week(start=_midnight(first), end=_midnight(first + timedelta(days=7)),
                        number=first.isocalendar().week, first_day=first, last_day=first + timedelta(days=6)))
    return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, shifts.HELSINKI).astimezone(timezone.utc)


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def _in(column: Any, week: Week) -> ColumnElement[bool]:
    return and_(column >= week.start, column < week.end)


def _ticket_clauses(filters: PerformanceFilters) -> list[ColumnElement[bool]]:
    clauses = []
    for column, value in ((Ticket.city_on_shift, filters.city), (Ticket.queue, filters.queue),
                          (Ticket.language, filters.language), (Ticket.channel, filters.channel)):
        if value:
            clauses.append(column == value)
    return clauses


def performance(session: Session, now: datetime, hours: shifts.OpeningHours,
                filters: PerformanceFilters) -> Performance:
    """The figures of this week and the four before it: tickets, conversations with the assistant
    and how many were handed off, waits until the first claim in opening hours (median, 90th
    percentile) and claims past the queue's response target, satisfaction answers. Four
    aggregating statements and one bounded read of the claims."""
    weeks = weeks_until(now)
    first, last = weeks[0].start, weeks[-1].end
    clauses = _ticket_clauses(filters)
    figures = [WeekFigures(week=w) for w in weeks]

    tickets = session.execute(select(*[func.count(case((_in(Ticket.created_at, w), Ticket.id))) for w in weeks])
                              .where(Ticket.created_at >= first, Ticket.created_at < last, *clauses)).one()
    scores = session.execute(
        select(*[func.count(case((_in(Ticket.csat_answered_at, w), Ticket.csat_score))) for w in weeks],
               *[func.avg(case((_in(Ticket.csat_answered_at, w), Ticket.csat_score))) for w in weeks])
        .where(Ticket.csat_answered_at >= first, Ticket.csat_answered_at < last, Ticket.csat_score.is_not(None),
               *clauses)).one()
    for i, row in enumerate(figures):
        row.tickets = int(tickets[i] or 0)
        row.csat_answers = int(scores[i] or 0)
        row.csat_average = float(scores[len(weeks) + i]) if scores[len(weeks) + i] is not None else None

    if not filters.city and not filters.queue:  # a conversation has no city or queue until it is handed off
        talked = [Message.outcome.in_(OUTCOMES), Message.created_at >= first, Message.created_at < last]
        if filters.channel:
            talked.append(Conversation.channel == filters.channel)
        if filters.language:
            talked.append(Conversation.language == filters.language)
        conversations = session.execute(
            select(*[func.count(distinct(case((_in(Message.created_at, w), Message.conversation_id))))
                     for w in weeks],
                   *[func.count(distinct(case((and_(_in(Message.created_at, w), Message.outcome == "handoff"),
                                               Message.conversation_id)))) for w in weeks])
            .select_from(Message).join(Conversation, Conversation.id == Message.conversation_id).where(*talked)).one()
        for i, row in enumerate(figures):
            row.conversations = int(conversations[i] or 0)
            row.handed_off = int(conversations[len(weeks) + i] or 0)

    take, earlier = aliased(TicketEvent), aliased(TicketEvent)
    first_take = ~exists().where(earlier.ticket_id == take.ticket_id, earlier.kind.in_(TAKES), earlier.id < take.id)
    claims = session.execute(
        select(Ticket.created_at, Ticket.queue, take.at).join(take, take.ticket_id == Ticket.id)
        .where(take.kind.in_(TAKES), take.at >= first, take.at < last, first_take, *clauses)
        .order_by(take.at.desc()).limit(MAX_CLAIMS + 1)).all()
    targets: dict[str, int] = {code: minutes for code, minutes in session.execute(
        select(Queue.code, Queue.response_target_minutes))}
    waits: dict[int, list[int]] = defaultdict(list)
    breaches: Counter[int] = Counter()
    for created_at, queue, taken in claims[:MAX_CLAIMS]:
        index = next(i for i, w in enumerate(weeks) if w.start <= taken < w.end)
        waited = shifts.open_seconds(created_at, taken, hours)
        waits[index].append(waited)
        if waited > targets.get(queue, 60) * 60:
            breaches[index] += 1
    for i, row in enumerate(figures):
        row.claims = len(waits[i])
        row.median_wait, row.p90_wait = median(waits[i]), percentile(waits[i], 0.9)
        row.sla_breaches = breaches[i]
    return Performance(weeks=figures, filters=filters, capped=len(claims) > MAX_CLAIMS)


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def performance_csv(report: Performance) -> str:
    """The same numbers as the page, one row per week; waits in minutes of opening hours."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["week", "from", "to", "tickets", "conversations", "handed_off", "handoff_rate", "claims",
                     "median_wait_minutes", "p90_wait_minutes", "sla_breaches", "csat_answers", "csat_average"])
    for row in report.weeks:
        rate = row.handoff_rate
        writer.writerow([
            f"{row.week.first_day.isocalendar().year}-W{row.week.number:02d}", row.week.first_day.isoformat(),
            row.week.last_day.isoformat(), row.tickets, "" if row.conversations is None else row.conversations,
            "" if row.handed_off is None else row.handed_off, "" if rate is None else f"{rate:.3f}", row.claims,
            _minutes(row.median_wait), _minutes(row.p90_wait), row.sla_breaches, row.csat_answers,
            "" if row.csat_average is None else f"{row.csat_average:.2f}",
        ])
    return out.getvalue()
