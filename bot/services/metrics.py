"""Prometheus metrics: every metric object of Luotsi and the one-line helpers the code calls.

Design for several processes. A counter lives in the memory of the process that counted it: each
hub, the mail intake and each Telegram worker. Prometheus scrapes every process directly on its
own port (the hubs' `GET /metrics` on the ports behind HAProxy, the workers' small metrics servers
on `LUOTSI_MAIL_METRICS_PORT` / `LUOTSI_TELEGRAM_METRICS_PORT`, deploy/README.md) and adds the
series up with `sum()`. That is Prometheus's own model of a fleet: nothing to share, no files to
clean up after a restart, and a process that died only loses its counters since the last scrape
(`rate()` handles the reset). prometheus-client's multiprocess mode was weighed and not taken: it
needs a directory shared by processes under separate systemd units, wiped at every start, and it
cannot serve the custom collector's gauges or a process's own histograms without extra care.

What is the same for every hub — how many tickets wait in each queue, how long the oldest has
waited, how many wait past the queue's response target — is not counted in memory at all: each
scrape reads it from the database in one short transaction (`read_queue_stats`, one grouped
query; the connection is given back before the text is rendered) and `QueueCollector` turns it
into gauges. Every hub reports the same numbers; use `max()` across hubs, not `sum()`.

No personal data in a label, ever: every label value passes one of the `*_label` functions below,
which map it onto a fixed set (the channels, the tier-1 languages, the intents of domain.yml, the
hand-off reasons, the queues, SMTP codes, …) and anything else onto "other". Never a
conversation id, ticket id, address, number or text.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.models import Queue, Ticket
from nlu import langid

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "other"
CHANNELS = frozenset({"web", "telegram", "email", "phone"})
LANGUAGES = frozenset(langid.TIER1)
# The intents of domain.yml (tests/test_metrics.py checks that none is missing) and Rasa's fallback.
INTENTS = frozenset({
    "register_jobseeker", "unemployment_benefit", "jobseeker_obligations", "initial_interview", "job_search_help",
    "labour_market_training", "self_motivated_study", "startup_grant", "learn_finnish", "competence_centre",
    "youth_services", "interpreter", "contact_info", "recruiting_help", "hiring_supports", "pay_subsidy",
    "espoo_recruitment_subsidy", "youth_employment_voucher", "employment_subsidy_55", "change_security",
    "joint_purchase_training", "greet", "thanks", "goodbye", "bot_challenge", "switch_language", "request_human",
    "request_callback", "out_of_scope", "language_assessment", "service_needs", "recruitment_assignment",
    "change_notice", "nlu_fallback",
})
HANDOFF_REASONS = frozenset({"asked_for_human", "callback", "not_understood", "handoff", "email", "employer_intake"})
# The queues of migration 0002; a queue added later is named once a scrape has read it.
QUEUES = frozenset({"employer_advisory", "jobseeker_helsinki", "jobseeker_espoo", "jobseeker_vantaa", "callbacks"})
SMTP_CODES = frozenset({"250", "451", "550", "552"})
TELEGRAM_FAILURES = frozenset({"blocked", "rejected", "deferred"})
CALL_OUTCOMES = frozenset({"connected", "callback", "declined", "abandoned"})
RASA_ERROR_KINDS = frozenset({"timeout", "connect", "status", "invalid", "empty"})
# Waits of a few seconds up to a working day; 3600, 7200 and 14400 s are the queues' response targets.
WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)
RASA_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


def _label(value: object, allowed: Iterable[str]) -> str:
    return value if isinstance(value, str) and value in allowed else OTHER


def channel_label(channel: object) -> str:
    return _label(channel, CHANNELS)


def language_label(language: object) -> str:
    return _label(language, LANGUAGES)


def intent_label(intent: object) -> str:
    return _label(intent, INTENTS)


def queue_label(queue: object) -> str:
    return _label(queue, QUEUES | _targets.queues())


# --- the metrics (the default registry: each process serves its own) ------------------------------

TURNS = Counter("luotsi_chat_turns_total", "Customer messages received, by channel and conversation language "
                "(tier-1 languages; every other language is 'other')", ["channel", "language"])
INTENT_COUNT = Counter("luotsi_intents_total", "Assistant turns by the intent the assistant's answer shows "
                       "(an intent of domain.yml, else 'other')", ["intent"])
FALLBACKS = Counter("luotsi_fallbacks_total", "Turns the assistant did not understand and asked to rephrase")
CLARIFICATIONS = Counter("luotsi_clarifying_questions_total",
                         "Turns answered with 'did you mean one of these?' and a button per topic")
HANDOFFS = Counter("luotsi_handoffs_total", "Hand-offs to a human adviser (new, open or reopened ticket), by reason",
                   ["reason"])
CLAIMS = Counter("luotsi_ticket_claims_total", "Waiting tickets claimed by an adviser, by queue", ["queue"])
CLAIM_WAIT = Histogram("luotsi_ticket_wait_seconds", "How long a ticket waited from creation until claimed, by queue",
                       ["queue"], buckets=WAIT_BUCKETS)
QUICK_CLAIMS = Counter("luotsi_quick_claims_total", "Claim-next tried as one statement on PostgreSQL, by outcome "
                       "(claimed; nothing — the full path then decides; unavailable — no connection in time)",
                       ["outcome"])
SLA_BREACHES = Counter("luotsi_sla_breaches_total",
                       "Tickets claimed after their queue's response target had passed, by queue", ["queue"])
REPLIES = Counter("luotsi_adviser_replies_total", "Adviser replies to customers, by channel", ["channel"])
TRANSLATIONS = Counter("luotsi_translation_calls_total", "Calls to the translation backend (cache misses), by result "
                       "(ok, error, timeout)", ["result"])
CSAT_ANSWERS = Counter("luotsi_csat_answers_total", "Satisfaction questions answered after a ticket closed, by "
                       "channel", ["channel"])
CSAT_SCORES = Counter("luotsi_csat_scores_total", "Satisfaction answers by score (1 to 5)", ["score"])
MAIL_ACCEPTED = Counter("luotsi_mail_accepted_total", "Mail kept as a ticket (SMTP 250), per mailbox queue",
                        ["queue"])
MAIL_REFUSED = Counter("luotsi_mail_refused_total", "Mail or recipients refused by the intake, by SMTP code",
                       ["code"])
TELEGRAM_SENT = Counter("luotsi_telegram_sent_total", "Messages sent to Telegram customers")
TELEGRAM_FAILED = Counter("luotsi_telegram_send_failures_total", "Telegram sends that failed, by reason "
                          "(blocked, rejected for good, deferred to a retry)", ["reason"])
CALLS = Counter("luotsi_phone_calls_total", "Phone calls, by outcome (started, connected, callback, declined, "
                "abandoned)", ["outcome"])
RASA_SECONDS = Histogram("luotsi_rasa_request_seconds", "Time Rasa took to answer a turn (successful or not)",
                         buckets=RASA_BUCKETS)
RASA_ERRORS = Counter("luotsi_rasa_errors_total", "Turns Rasa did not answer usefully, by kind "
                      "(timeout, connect, status, invalid, empty)", ["kind"])


# --- the helpers the code calls (one line each) ---------------------------------------------------

def count_turn(channel: str, language: str | None) -> None:
    TURNS.labels(channel_label(channel), language_label(language)).inc()


_GUIDANCE_INTENTS = {"assessment": "language_assessment", "needs": "service_needs", "callback": "request_callback",
                     "assignment": "recruitment_assignment", "change_notice": "change_notice"}
_HANDOFF_INTENTS = {"asked_for_human": "request_human", "callback": "request_callback", "not_understood": "nlu_fallback"}
_FALLBACK_KEYS = {"utter_fallback", "utter_fallback_offer_human"}


def answered_intent(answers: Sequence[object]) -> str:
    """The intent a turn's answer shows. The hub does not see Rasa's NLU result, only its answer:
    `say utter_<intent>`, a hand-off (its reason), a guided conversation started (its flow) or a
    clarifying question / fallback (`nlu_fallback`). 'other' for anything else."""
    for answer in answers:
        name, args = getattr(answer, "name", None), getattr(answer, "args", None) or {}
        if name == "say":
            key = str(args.get("key") or "")
            if key in _FALLBACK_KEYS:
                return "nlu_fallback"
            if key == "utter_language_switched":
                return "switch_language"
            if key.startswith("utter_") and key[6:] in INTENTS:
                return key[6:]
        elif name == "clarify":
            return "nlu_fallback"
        elif name == "handoff":
            return _HANDOFF_INTENTS.get(str(args.get("reason")), OTHER)
        elif name == "guidance" and args.get("start"):
            return _GUIDANCE_INTENTS.get(str(args.get("start")), OTHER)
    return OTHER


def count_answer(answers: Sequence[object] | None) -> None:
    """The assistant's answer to one turn: its intent, and whether it was a fallback or a clarifying
    question. Nothing when Rasa did not answer (`count_rasa_error` counted that)."""
    if answers is None:
        return
    INTENT_COUNT.labels(intent_label(answered_intent(answers))).inc()
    for answer in answers:
        name, args = getattr(answer, "name", None), getattr(answer, "args", None) or {}
        if name == "clarify":
            # with topics to offer it is a question; without, the hub says "in other words, please"
            (CLARIFICATIONS if isinstance(args.get("options"), list) and args["options"] else FALLBACKS).inc()
        elif name == "say" and args.get("key") in _FALLBACK_KEYS:
            FALLBACKS.inc()


def count_handoff(reason: str) -> None:
    HANDOFFS.labels(_label(reason, HANDOFF_REASONS)).inc()


def observe_claim(queue: str, created_at: datetime, now: datetime) -> None:
    """A waiting ticket was claimed: its wait (since it was created — a reopened or transferred
    ticket counts from its creation, as the queue order does) and whether it breached the target."""
    label = queue_label(queue)
    waited = max(0.0, (now - created_at).total_seconds())
    CLAIMS.labels(label).inc()
    CLAIM_WAIT.labels(label).observe(waited)
    target = _targets.minutes(queue)
    if target is not None and waited > target * 60:
        SLA_BREACHES.labels(label).inc()


def count_quick_claim(outcome: str) -> None:
    QUICK_CLAIMS.labels(_label(outcome, ("claimed", "nothing", "unavailable"))).inc()


def count_reply(channel: str) -> None:
    REPLIES.labels(channel_label(channel)).inc()


def count_csat(channel: str, score: int) -> None:
    CSAT_ANSWERS.labels(channel_label(channel)).inc()
    CSAT_SCORES.labels(_label(str(score), ("1", "2", "3", "4", "5"))).inc()


def count_translation(error: object = None) -> None:
    """One backend call: ok (no error), or failed; a failure whose reason names a time-out is one."""
    result = "ok" if error is None else "timeout" if "timeout" in str(error).lower() else "error"
    TRANSLATIONS.labels(result).inc()


def count_mail(reply: str, queue: str | None = None) -> None:
    """The intake's SMTP answer: "250 …" for a kept mail (per mailbox queue), else refused by code."""
    code = reply[:3]
    if code == "250":
        MAIL_ACCEPTED.labels(queue_label(queue)).inc()
    else:
        MAIL_REFUSED.labels(_label(code, SMTP_CODES)).inc()


def count_telegram(failure: str | None = None) -> None:
    if failure is None:
        TELEGRAM_SENT.inc()
    else:
        TELEGRAM_FAILED.labels(_label(failure, TELEGRAM_FAILURES)).inc()


def count_call(outcome: str) -> None:
    CALLS.labels(_label(outcome, CALL_OUTCOMES | {"started"})).inc()


def count_call_step(step: str, now_at: str, *, ended: bool) -> None:
    """A menu step answered: the outcomes a key press decides (put through and finished, callback
    booked, callback declined). A caller who gives up or hangs up is counted when the call ends."""
    if not ended or now_at != "done":
        return
    outcome = {"dialled": "connected", "window": "callback", "callback": "declined"}.get(step)
    if outcome is not None:
        count_call(outcome)


def observe_rasa(seconds: float, error: str | None = None) -> None:
    """One call to Rasa's REST webhook: how long it took and, when it failed, why."""
    RASA_SECONDS.observe(seconds)
    if error is not None:
        RASA_ERRORS.labels(_label(error, RASA_ERROR_KINDS)).inc()


def rasa_error_kind(exc: BaseException) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "timeout"
    if name in ("ConnectError", "RemoteProtocolError", "ReadError", "WriteError"):
        return "connect"
    if name == "HTTPStatusError":
        return "status"
    return "invalid"


# --- the queues, read from the database at scrape time ----------------------------------------------

class _Targets:
    """Each queue's response target (minutes), as the last read of the queue table found it: the claim
    compares against it without a query of its own (a claim is a fixed handful of statements)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minutes: dict[str, int] = {}

    def update(self, minutes: Mapping[str, int]) -> None:
        with self._lock:
            self._minutes = dict(minutes)

    def minutes(self, queue: str) -> int | None:
        return self._minutes.get(queue)

    def queues(self) -> frozenset[str]:
        return frozenset(self._minutes)


_targets = _Targets()
_TARGETS = select(Queue.code, Queue.response_target_minutes)


def load_response_targets(factory: sessionmaker[Session]) -> None:
    """Read the queues' response targets once at start (each scrape reads them again); a database
    that does not answer yet only delays them until the first scrape."""
    try:
        with factory() as session:
            _targets.update({code: minutes for code, minutes in session.execute(_TARGETS)})
    except SQLAlchemyError as exc:
        log.warning("metrics.targets_unavailable error=%s", type(exc).__name__)


@dataclass(frozen=True)
class QueueStats:
    queue: str
    target_minutes: int
    depth: int
    oldest_wait_seconds: float
    overdue: int  # waiting longer than the response target


def read_queue_stats(session: Session, now: datetime) -> list[QueueStats]:
    """Depth, oldest wait and tickets past the target per queue, in one grouped query over the waiting
    tickets (index ix_ticket_queue_status). The per-queue cut-off is compared in SQL as a bound
    timestamp for each target (the targets are a handful of values), so the query is the same on
    SQLite and PostgreSQL. Also refreshes the targets the claims compare against."""
    targets = {code: minutes for code, minutes in session.execute(_TARGETS)}
    _targets.update(targets)
    cutoffs = {minutes: now - timedelta(minutes=minutes) for minutes in set(targets.values())}
    overdue = func.sum(_overdue_case(cutoffs))
    rows = session.execute(
        select(Ticket.queue, Queue.response_target_minutes, func.count(Ticket.id), func.min(Ticket.created_at), overdue)
        .join(Queue, Queue.code == Ticket.queue)
        .where(Ticket.status == "queued")
        .group_by(Ticket.queue, Queue.response_target_minutes)
    ).all()
    session.rollback()
    waiting = {queue: (depth, oldest, late) for queue, _target, depth, oldest, late in rows}
    out = []
    for queue, target in sorted(targets.items()):
        depth, oldest, late = waiting.get(queue, (0, None, 0))
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        wait = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        out.append(QueueStats(queue=queue, target_minutes=target, depth=int(depth or 0), oldest_wait_seconds=wait,
                              overdue=int(late or 0)))
    return out


def _overdue_case(cutoffs: Mapping[int, datetime]) -> ColumnElement[int]:
    """1 for a waiting ticket older than its queue's target, else 0."""
    if not cutoffs:
        return literal(0)
    return case(*(((Queue.response_target_minutes == minutes) & (Ticket.created_at < cutoff), 1)
                  for minutes, cutoff in cutoffs.items()), else_=0)


class QueueCollector(Collector):
    """The queue gauges of one scrape, from stats read just before (no database access in here)."""

    def __init__(self, stats: Sequence[QueueStats] | None) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("luotsi_queue_depth", "Tickets waiting in the queue now (from the database)",
                                  labels=["queue"])
        oldest = GaugeMetricFamily("luotsi_queue_oldest_wait_seconds",
                                   "How long the oldest waiting ticket of the queue has waited", labels=["queue"])
        overdue = GaugeMetricFamily("luotsi_queue_overdue_tickets",
                                    "Waiting tickets past the queue's response target now", labels=["queue"])
        target = GaugeMetricFamily("luotsi_queue_response_target_seconds", "The queue's response target",
                                   labels=["queue"])
        up = GaugeMetricFamily("luotsi_queue_stats_up", "1 when this scrape read the queues from the database")
        up.add_metric([], 0 if self.stats is None else 1)
        yield up
        for s in self.stats or ():
            label = [queue_label(s.queue)]
            depth.add_metric(label, s.depth)
            oldest.add_metric(label, s.oldest_wait_seconds)
            overdue.add_metric(label, s.overdue)
            target.add_metric(label, s.target_minutes * 60)
        yield from (depth, oldest, overdue, target)


def exposition(stats: Sequence[QueueStats] | None) -> bytes:
    """The text a scrape gets: this process's counters and histograms, then the queue gauges (None:
    the database could not be read; `luotsi_queue_stats_up` says so and the rest is still served)."""
    text = generate_latest(REGISTRY)
    queues = CollectorRegistry(auto_describe=False)
    queues.register(QueueCollector(stats))
    return text + generate_latest(queues)


# --- access -------------------------------------------------------------------------------------------

# The peer name Starlette's in-process test transport gives: such a request never crossed a
# network (a server always reports an IP address), so it counts as this machine's own.
IN_PROCESS_PEER = "testclient"


def is_loopback_address(value: str | None) -> bool:
    if not value:
        return False
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # Forwarded: for="[::1]:1234"
        value = value[1:value.index("]")]
    try:
        return ipaddress.ip_address(value).is_loopback
    except ValueError:
        return False


def forwarded_for(headers: Mapping[str, str]) -> list[str]:
    """Every address a proxy said it forwarded for (X-Forwarded-For and Forwarded)."""
    out = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
    for element in headers.get("forwarded", "").split(","):
        for pair in element.split(";"):
            key, _, value = pair.strip().partition("=")
            if key.lower() == "for":
                out.append(value)
    return out


def check_scrape_access(peer: str | None, headers: Mapping[str, str], authorization: str | None,
                        token: str | None) -> int | None:
    """None when the scrape may go ahead; otherwise the status to refuse it with (401, 403).

    Loopback without a token: the peer is a loopback address and no proxy says it forwarded the
    request for anyone else. Behind HAProxy the peer is always loopback, so a request that came
    through it carries X-Forwarded-For naming the real client (HAProxy's `option forwardfor`; uvicorn's
    --proxy-headers has usually put that address in the peer's place already) and is not loopback
    unless that client was too. Otherwise only `Authorization: Bearer <LUOTSI_METRICS_TOKEN>`."""
    local = peer == IN_PROCESS_PEER or is_loopback_address(peer)  # the peer only, never a header's claim
    if local and all(is_loopback_address(a) for a in forwarded_for(headers)):
        return None
    scheme, _, given = (authorization or "").partition(" ")
    if not token:
        return 403
    if scheme.lower() != "bearer" or not given.strip():
        return 401
    if hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return 403


def serve_worker_metrics(port: int | None, process: str) -> None:
    """A worker's own metrics server (loopback only, so no token): `GET /metrics` of this process.
    Off without a port. A port already taken is logged and the worker carries on without it."""
    if not port:
        return
    try:
        start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        log.warning("metrics.server_failed process=%s port=%d error=%s", process, port, type(exc).__name__)
        return
    log.info("metrics.listening process=%s port=%d", process, port)
