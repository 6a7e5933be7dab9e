"""Where a waiting customer stands: their place in the queue and an honest estimate (issue 18).

- The place. Claims take the queue's tickets by priority (higher first), then age (`created_at`,
  then id) — `_claim_next_statement` in tickets.py. Claim-next also puts, for each adviser, tickets
  in a language that adviser speaks first, so the real order differs from adviser to adviser; the
  place we tell is the queue's global order, over every channel of the queue. A customer whose
  language an adviser on shift speaks may be taken sooner than the place says, never later for
  that reason.
- The estimate. From the claims of this queue today (Helsinki day): the median time between the
  last `RECENT_CLAIMS` claims, where the time since the last claim counts as one more gap once it is
  longer than that median (a desk that has gone quiet is not hidden). With fewer than `MIN_CLAIMS`
  claims today we say that we cannot estimate yet rather than invent a figure. The expected wait
  (place × median gap) is said as the band it falls in — "about 10–20 minutes" — never as a minute.
- Closed. With nobody on shift for the ticket's queue and channel we say when the advisory opens
  (the same moment `when_answered` names: the next shift, else the next opening hour).

`standing` answers for one ticket (the hand-off notice, the waiting answers); `read_board` reads every
waiting ticket at once in a few queries (the web chat's live streams share one board per change
on the desk; the Telegram job reads one per pass). `do_queue_updates` queues a Telegram message when
a customer's standing has changed a lot, through the channel's outbox ("pending" messages).
"""

from __future__ import annotations

import logging
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from itertools import pairwise

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.locales import local_time, render
from bot.messages import OutboundMessage
from bot.models import Conversation, Message, Shift, Ticket, TicketEvent
from bot.services import shifts

log = logging.getLogger(__name__)

# The channels where the customer reads us live; an e-mail or a phone customer would hear a place
# that is out of date by the time they read or call again.
LIVE_CHANNELS = ("web", "telegram")
MIN_CLAIMS = 3  # claims today before we estimate: two gaps at least
RECENT_CLAIMS = 12  # the estimate follows the desk's recent pace, not the morning's
# Band edges in minutes: under the first is "under 5 minutes", from the last on "more than 2 hours".
BANDS = (5, 10, 20, 30, 45, 60, 90, 120)
TOLD = "queue_told"  # the ticket event that records what a Telegram customer was last told
TELEGRAM_MIN_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class Estimate:
    """`kind`: "range" (low–high minutes), "short" (under BANDS[0]), "long" (BANDS[-1] or more),
    "unknown" (too few claims today), "closed" (nobody on shift; `opens_at` says when)."""

    kind: str
    low: int = 0
    high: int = 0
    opens_at: datetime | None = None

    @property
    def band(self) -> int:
        """The band's index (0 short … len(BANDS) long); -1 when there is no figure."""
        if self.kind == "short":
            return 0
        if self.kind == "long":
            return len(BANDS)
        if self.kind == "range":
            return BANDS.index(self.high)
        return -1


@dataclass(frozen=True)
class Standing:
    ticket_id: str
    conversation_id: str
    queue: str
    channel: str
    position: int  # 1: next in line
    estimate: Estimate


# ---- the estimate (pure) ---------------------------------------------------------------------

def claim_gap(claimed: Iterable[datetime], now: datetime) -> float | None:
    """Seconds between claims at the desk's recent pace, or None with fewer than MIN_CLAIMS."""
    times = sorted(t for t in claimed if t <= now)[-RECENT_CLAIMS:]
    if len(times) < MIN_CLAIMS:
        return None
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    median = statistics.median(gaps)
    quiet = (now - times[-1]).total_seconds()
    if quiet > median:
        median = statistics.median([*gaps, quiet])
    return median


def band_of(minutes: float) -> Estimate:
    if minutes < BANDS[0]:
        return Estimate("short")
    for low, high in pairwise(BANDS):
        if minutes < high:
            return Estimate("range", low, high)
    return Estimate("long")


def estimate(position: int, claimed: Iterable[datetime], now: datetime) -> Estimate:
    """The wait of the ticket at `position` from today's claim times of its queue (open desk)."""
    gap = claim_gap(claimed, now)
    if gap is None:
        return Estimate("unknown")
    return band_of(position * gap / 60)


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(shifts.HELSINKI)
    return datetime.combine(local.date(), time(0), shifts.HELSINKI).astimezone(timezone.utc)


# ---- reading ---------------------------------------------------------------------------------

def _ahead(ticket: Ticket) -> ColumnElement[bool]:
    """Queued tickets of the ticket's queue that claims take before it."""
    return and_(Ticket.queue == ticket.queue, Ticket.status == "queued", Ticket.id != ticket.id,
                or_(Ticket.priority > ticket.priority,
                    and_(Ticket.priority == ticket.priority,
                         or_(Ticket.created_at < ticket.created_at,
                             and_(Ticket.created_at == ticket.created_at, Ticket.id < ticket.id)))))


def _claims_today(session: Session, queues: Iterable[str], now: datetime) -> dict[str, list[datetime]]:
    wanted = sorted(set(queues))
    out: dict[str, list[datetime]] = defaultdict(list)
    if not wanted:
        return out
    rows = session.execute(select(Ticket.queue, Ticket.claimed_at).where(
        Ticket.queue.in_(wanted), Ticket.claimed_at >= _day_start(now), Ticket.claimed_at <= now))
    for queue, at in rows:
        if at is not None:
            out[queue].append(at)
    return out


def standing(session: Session, ticket: Ticket, now: datetime, hours: shifts.OpeningHours) -> Standing | None:
    """Where this ticket stands now; None unless it waits (queued). Three or four small queries."""
    if ticket.status != "queued":
        return None
    ahead = session.scalar(select(func.count()).select_from(Ticket).where(_ahead(ticket))) or 0
    position = ahead + 1
    if shifts.city_on_shift(session, ticket.queue, ticket.channel, now) is None:
        opens = shifts.next_opening(session, ticket.queue, ticket.channel, now, hours)
        guess = Estimate("closed", opens_at=opens)
    else:
        guess = estimate(position, _claims_today(session, [ticket.queue], now)[ticket.queue], now)
    return Standing(ticket.id, ticket.conversation_id, ticket.queue, ticket.channel, position, guess)


@dataclass
class Board:
    """Every waiting ticket's standing at one moment, by conversation (its latest waiting ticket)."""

    at: datetime
    by_conversation: dict[str, Standing] = field(default_factory=dict)

    def of(self, conversation_id: str | None) -> Standing | None:
        return self.by_conversation.get(conversation_id) if conversation_id else None


def read_board(session: Session, now: datetime, hours: shifts.OpeningHours, *,
               channels: tuple[str, ...] = LIVE_CHANNELS) -> Board:
    """The standing of every waiting ticket of `channels`, in three queries (plus one per closed
    queue and channel): the queued tickets in claim order, today's claims of their queues, the
    shifts on now. Places count every channel of a queue."""
    rows = session.execute(
        select(Ticket.id, Ticket.conversation_id, Ticket.queue, Ticket.channel)
        .where(Ticket.status == "queued")
        .order_by(Ticket.queue, Ticket.priority.desc(), Ticket.created_at, Ticket.id)
    ).all()
    board = Board(at=now)
    if not rows:
        return board
    wanted = [r for r in rows if r.channel in channels]
    claims = _claims_today(session, {r.queue for r in wanted}, now)
    on = session.execute(select(Shift.queue, Shift.channel).where(Shift.starts_at <= now, Shift.ends_at > now)).all()
    staffed = {(q, c) for q, c in on}
    opens: dict[tuple[str, str], datetime] = {}
    place: dict[str, int] = defaultdict(int)
    for ticket_id, conversation_id, queue, channel in rows:
        place[queue] += 1
        if channel not in channels:
            continue
        if (queue, None) in staffed or (queue, channel) in staffed:
            guess = estimate(place[queue], claims[queue], now)
        else:
            if (queue, channel) not in opens:
                opens[(queue, channel)] = shifts.next_opening(session, queue, channel, now, hours)
            guess = Estimate("closed", opens_at=opens[(queue, channel)])
        # a conversation has one waiting ticket; should there be two, the first in line speaks
        board.by_conversation.setdefault(conversation_id,
                                         Standing(ticket_id, conversation_id, queue, channel, place[queue], guess))
    return board


# ---- saying it -------------------------------------------------------------------------------

def describe(where: Standing, language: str | None, *, opening: bool = True) -> str:
    """"You are number 3 in the queue. The wait is about 10–20 minutes." — or, closed, when the
    advisory opens (left out with `opening=False`: the notice it follows says it already)."""
    place = (render("sys_queue_next", language) if where.position == 1
             else render("sys_queue_place", language, position=str(where.position))).text
    guess = where.estimate
    if guess.kind == "closed":
        if not opening or guess.opens_at is None:
            return place
        wait = render("sys_queue_opens", language, opens_at=local_time(guess.opens_at, language)).text
    elif guess.kind == "range":
        wait = render("sys_queue_wait_range", language, low=str(guess.low), high=str(guess.high)).text
    else:
        wait = render(f"sys_queue_wait_{guess.kind}", language).text
    return f"{place} {wait}"


def with_place(session: Session, ticket: Ticket, notice: OutboundMessage, language: str | None, now: datetime,
               hours: shifts.OpeningHours) -> OutboundMessage:
    """The hand-off notice or waiting answer followed by the customer's place and estimate (live
    channels only, while the ticket waits)."""
    if ticket.channel not in LIVE_CHANNELS:
        return notice
    where = standing(session, ticket, now, hours)
    if where is None:
        return notice
    return OutboundMessage(text=f"{notice.text}\n\n{describe(where, language, opening=False)}", buttons=notice.buttons)


# ---- Telegram: a message when the standing changes a lot ---------------------------------------

def changed_a_lot(told: dict[str, object], now_standing: Standing) -> bool:
    """Worth a message of its own: next in line now, the place halved, the advisory opened, or the
    estimate two bands away from what was told. A step or two in a long queue is not."""
    before = int(str(told.get("position") or 0))
    position = now_standing.position
    if before <= 0:
        return False
    if position == 1 and before > 1:
        return True
    if position * 2 <= before:
        return True
    band, told_band = now_standing.estimate.band, int(str(told.get("band", -1)))
    if told.get("kind") == "closed" and now_standing.estimate.kind != "closed":
        return True
    return band >= 0 and told_band >= 0 and abs(band - told_band) >= 2


def _told(where: Standing, *, sent: bool) -> dict[str, object]:
    return {"position": where.position, "kind": where.estimate.kind, "band": where.estimate.band, "sent": sent}


def do_queue_updates(session: Session, now: datetime, hours: shifts.OpeningHours, *, channel: str = "telegram",
                     min_interval: timedelta = TELEGRAM_MIN_INTERVAL) -> int:
    """One pass over `channel`'s waiting tickets: a ticket seen for the first time is noted silently
    (its hand-off notice told the place); one whose standing changed a lot since the last note, and
    not within `min_interval` of it, gets a "pending" system message in its language — the
    channel's outbox sends it and it survives restarts. Returns how many were queued. Commits.
    Run by one process at a time (the caller holds a job claim)."""
    board = read_board(session, now, hours, channels=(channel,))
    if not board.by_conversation:
        return 0
    ids = [s.ticket_id for s in board.by_conversation.values()]
    last: dict[str, TicketEvent] = {}
    for told_event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ids),
                                                                TicketEvent.kind == TOLD).order_by(TicketEvent.id)):
        last[told_event.ticket_id] = told_event
    languages = {conversation_id: language for conversation_id, language in session.execute(
        select(Conversation.id, Conversation.language).where(Conversation.id.in_(list(board.by_conversation))))}
    queued = 0
    for where in board.by_conversation.values():
        previous = last.get(where.ticket_id)
        if previous is None:
            session.add(TicketEvent(ticket_id=where.ticket_id, kind=TOLD, data=_told(where, sent=False), at=now))
            continue
        if now - previous.at < min_interval or not changed_a_lot(previous.data or {}, where):
            continue
        language = languages.get(where.conversation_id)
        message = Message(conversation_id=where.conversation_id, sender="system", text=describe(where, language),
                          language=language, status="pending", created_at=now)
        session.add(message)
        session.add(TicketEvent(ticket_id=where.ticket_id, kind=TOLD, data=_told(where, sent=True), at=now))
        queued += 1
        log.info("queue.update_queued ticket=%s position=%d estimate=%s", where.ticket_id, where.position,
                 where.estimate.kind)
    session.commit()
    return queued
