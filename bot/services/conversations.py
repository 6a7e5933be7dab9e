"""The one send path: every channel's inbound message ends in `do_receive_message`.

A turn is two short transactions around one network wait, and holds nothing scarce across it:

1. `begin_turn` commits the customer's message (and the conversation's language) and releases its
   connection; an accepted message is never lost, whatever happens next.
2. Rasa is asked with an async client and a time-out (no thread, no connection held meanwhile).
   The hub sends the language it decided and, during a guided conversation, whether the answer
   ends it; Rasa answers with catalogue keys and its actions' decisions (bot/services/rasa.py).
3. `finish_turn` carries the decisions out (hand-off, guidance step, callback ticket), renders
   every text in the conversation's language and stores the answers.

Turns in flight are bounded per process (`TurnGate`); beyond the bound the customer is told at
once, in their language, that the assistant is busy and their message is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.locales import UnknownKey, render, topic_title
from bot.messages import Button, InboundMessage, OutboundMessage, TicketRef, Turn
from bot.models import Conversation, Message, Ticket, TicketEvent
from bot.services import csat, events, guidance, metrics
from bot.services.attachments import NewAttachment, do_keep_attachment
from bot.services.employer_flow import topic_of as intake_topic
from bot.services.guidance import GuidanceContext
from bot.services.insights import outcome_of
from bot.services.interpreting import translate_answer
from bot.services.language import LanguageDecision, chosen_language, decide_language
from bot.services.rasa import Answer, Command, RasaClient, RasaUnavailable
from bot.services.tickets import do_handoff
from bot.services.translation import Translator
from bot.services.waiting import do_answer_waiting, with_offer
from nlu import langid, pii

T = TypeVar("T")

log = logging.getLogger(__name__)


def access_conversation_by_identity(
    session: Session, *, channel: str, external_id: str, now: datetime, locale: str | None
) -> Conversation:
    """The conversation of this channel identity, created on first contact."""
    query = select(Conversation).where(
        Conversation.channel == channel, Conversation.external_id == external_id
    )
    conversation = session.scalars(query).first()
    if conversation is not None:
        return conversation
    conversation = Conversation(
        channel=channel, external_id=external_id, locale=locale, created_at=now, updated_at=now
    )
    session.add(conversation)
    try:
        session.flush()
    except IntegrityError:  # two first messages raced; the other one created it
        session.rollback()
        conversation = session.scalars(query).one()
    return conversation


def _store_replies(
    session: Session, conversation: Conversation | str, replies: list[OutboundMessage], language: str, now: datetime,
    status: str = "sent",
) -> None:
    conversation_id = conversation if isinstance(conversation, str) else conversation.id
    for reply in replies:
        session.add(Message(**_reply_row(conversation_id, reply, language, now, status)))


def _reply_row(conversation_id: str, reply: OutboundMessage, language: str, now: datetime,
               status: str) -> dict[str, Any]:
    """One stored answer of the assistant (or the hub) as the columns of its message row."""
    return {"conversation_id": conversation_id, "sender": "bot", "text": reply.text, "language": language,
            "buttons": [{"title": b.title, "payload": b.payload} for b in reply.buttons] or None,
            "status": status, "created_at": now}


def _language_after(decision: LanguageDecision, previous: str | None) -> str | None:
    """The conversation's language after a message: the decided one, unless nothing could be told."""
    decided = decision.conversation_language
    return decided if decided != langid.UNDETERMINED else previous


def do_keep_message(session: Session, conversation: Conversation, text: str, *, now: datetime,
                    status: str = "received", locale: str | None = None, chosen: str | None = None,
                    detect_in: str | None = None, thorough: bool = True) -> tuple[Message, tuple[str, ...]]:
    """The one write of a customer's message, for every channel: the message with its detected
    language, and the conversation's language after it (a language picked in the channel's own UI,
    `chosen`, decides outright). `detect_in` is the part of the text to detect the language from
    (an e-mail's body without its subject) when not the whole. Flushes; the caller commits.
    Returns the message and the language hints the assistant gets, so both sides decide alike."""
    previous = conversation.language
    if chosen:
        decision = chosen_language(chosen)
    else:
        decision = decide_language(detect_in if detect_in is not None else text, previous, locale, thorough=thorough)
    message = Message(conversation_id=conversation.id, sender="customer", text=text,
                      language=decision.detected.language, language_confidence=decision.detected.confidence,
                      status=status, created_at=now)
    session.add(message)
    conversation.language = _language_after(decision, previous)
    if locale:
        conversation.locale = locale
    conversation.updated_at = now
    session.flush()
    log.info("chat.received conversation=%s channel=%s language=%s method=%s",
             conversation.id, conversation.channel, decision.detected.language, decision.detected.method)
    metrics.count_turn(conversation.channel, conversation.language)
    return message, decision.hints


def _receive(session: Session, message: InboundMessage, now: datetime, commit: bool = True,
             thorough: bool = True) -> tuple[Conversation, Message, str | None, tuple[str, ...]]:
    """Commit the customer's message and the conversation's language after it; also returns the
    language before it and the hints the assistant gets."""
    conversation = access_conversation_by_identity(
        session, channel=message.channel, external_id=message.external_id, now=now, locale=message.locale
    )
    previous = conversation.language
    inbound, hints = do_keep_message(session, conversation, message.text, now=now, locale=message.locale,
                                     chosen=message.chosen_language, thorough=thorough)
    if commit:
        session.commit()
    return conversation, inbound, previous, hints


class TurnGate:
    """How many assistant turns one process has in flight, with a bound that follows how fast the
    turns come back.

    Touched only from the event loop's thread, so plain numbers are enough. Beyond the bound a
    turn is answered at once with the busy notice instead of waiting for Rasa in a queue.

    The bound adapts (additive increase, multiplicative decrease, as TCP and the common
    concurrency limiters do): while the turns' recent duration (a moving average) stays under
    `target` seconds the bound grows — by one for every two turns in time — up to `limit`
    (LUOTSI_MAX_TURNS); when it goes over, the bound shrinks by a tenth, at most once per `target`
    seconds and never under `floor`. So on a slow machine or with a struggling Rasa,
    fewer turns wait in Rasa's queue — those get their real answer in time — and the rest hear
    "busy, your message is kept" at once, instead of everyone waiting past the target."""

    def __init__(self, limit: int, *, target: float = 1.0, floor: int = 4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, limit)
        self.floor = min(self.limit, max(1, floor))
        self.target = target
        self.clock = clock
        self.bound = float(self.limit)
        self.recent: float | None = None  # moving average of the turns' durations, seconds
        self.cut_at = float("-inf")
        self.in_flight = 0

    @property
    def saturated(self) -> bool:
        return self.in_flight >= int(self.bound)

    def try_enter(self) -> bool:
        if self.saturated:
            return False
        self.in_flight += 1
        return True

    def leave(self, seconds: float | None = None) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        if seconds is None:
            return
        self.recent = seconds if self.recent is None else 0.8 * self.recent + 0.2 * seconds
        if self.recent > self.target:
            # at most one cut per `target` seconds: the turns already in flight were let in before it
            if self.clock() - self.cut_at >= self.target:
                self.bound = max(float(self.floor), self.bound * 0.9)
                self.cut_at = self.clock()
        else:
            self.bound = min(float(self.limit), self.bound + 0.5)


@dataclass
class Prepared:
    """What the first transaction learnt, carried across the wait for Rasa (plain values only)."""

    conversation_id: str
    inbound_id: int
    text: str
    language: str  # the conversation's language: every answer is rendered in it
    previous: str | None
    hints: tuple[str, ...]
    for_adviser: bool = False
    first: bool = False  # the conversation began with this message: its first answer discloses the AI
    guidance: dict[str, bool] | None = None  # {"finishes": …} while a guided conversation runs
    waiting: OutboundMessage | None = None  # for a message to an adviser: "kept; an adviser answers …"
    local: OutboundMessage | None = None  # the hub's own answer (the satisfaction question): no Rasa


_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, anyio.CapacityLimiter]] = \
    weakref.WeakKeyDictionary()


def _limiter(factory: sessionmaker[Session]) -> anyio.CapacityLimiter | None:
    """SQLite takes one writer at a time, and its busy handler waits by sleeping ever longer, so
    a burst of threads competing for the lock turns into a convoy of sleepers. One thread at a time
    per database file (FIFO) keeps each short transaction short. On a server database as many
    threads as the connection pool holds: the rest wait their turn in order (FIFO) on the event
    loop instead of blocking worker threads inside the pool. As many as the pool *keeps*, not
    with its overflow: an overflow connection is closed when it is handed back, so a limiter above
    the pool's size opened and closed a PostgreSQL connection (a server process) on every request
    once the load passed it."""
    bind = factory.kw.get("bind")
    if bind is None:
        return None
    if bind.dialect.name == "sqlite":
        size = 1
    else:
        pool = bind.pool
        size = max(1, int(getattr(pool, "size", lambda: 5)()))
    per_loop = _sqlite_writers.setdefault(asyncio.get_running_loop(), {})
    return per_loop.setdefault(id(bind), anyio.CapacityLimiter(size))


async def in_db(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run `work` with its own session in a worker thread; the session is closed in that thread
    whatever happens to the caller, so an abandoned request never keeps a connection."""
    def run() -> T:
        with factory() as session:
            return work(session)
    return await anyio.to_thread.run_sync(run, limiter=_limiter(factory))


def begin_turn(session: Session, message: InboundMessage, *, now: datetime,
               context: GuidanceContext | None = None, reply_status: str = "sent") -> Prepared:
    """The first short transaction: commit the customer's message; decide what Rasa is told."""
    conversation, inbound, previous, hints = _receive(session, message, now)
    language = conversation.language or "en"
    prepared = Prepared(conversation_id=conversation.id, inbound_id=inbound.id, text=message.text,
                        language=language, previous=previous, hints=hints, first=conversation.created_at == now)
    if conversation.handler == "human":
        # The conversation is the advisers': the message is theirs. While the ticket still waits,
        # the customer hears that it is kept and when an adviser will answer (outside opening hours
        # with the offer of a notice or a call-back, and an address or number they leave is taken);
        # once an adviser holds it, the assistant stays silent.
        inbound.status = "for_adviser"
        prepared.for_adviser = True
        if context is not None:
            prepared.waiting = do_answer_waiting(session, conversation, message.text, language, now, context)
            if prepared.waiting is not None:
                _store_replies(session, conversation, [prepared.waiting], language, now, reply_status)
        session.commit()
        return prepared
    # a score, Skip or the comment after the score (bot/services/csat.py): answered here, never by Rasa
    prepared.local = csat.do_answer_in_chat(session, conversation, inbound, message.text, language, now)
    if prepared.local is not None:
        inbound.status = "answered"
        _store_replies(session, conversation, [prepared.local], language, now, reply_status)
        session.commit()
        return prepared
    if conversation.guidance and context is not None:
        prepared.guidance = {"finishes": guidance.would_finish(conversation, message.text, now=now, context=context)}
    session.rollback()  # nothing written here; ends the read transaction before the wait
    return prepared


# the busy answer's statements, built once (see busy_turn)
_IDENTITY = (select(Conversation.id, Conversation.language, Conversation.handler, Conversation.created_at)
             .where(Conversation.channel == bindparam("channel"), Conversation.external_id == bindparam("external_id")))
_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)


def busy_turn(session: Session, message: InboundMessage, *, now: datetime, reply_status: str = "sent") -> Turn:
    """Overload: the message is committed ("kept") with the busy notice, without asking Rasa.

    The one answer that has to stay cheap when everyone comes at once (256 customers on two cores
    are mostly this), so it is written as plain statements — the conversation read, the messages
    inserted, the conversation's language and time updated, one commit — with the same rows and
    the same live event as `do_keep_message` and `_store_replies` would make through the ORM
    (tests/test_busy_turn.py compares the two)."""
    found = session.execute(_IDENTITY, {"channel": message.channel, "external_id": message.external_id}).first()
    if found is None:  # a new conversation: made as every channel makes it (one racing twin wins)
        made = access_conversation_by_identity(session, channel=message.channel, external_id=message.external_id,
                                               now=now, locale=message.locale)
        conversation_id, previous, handler, created_at = made.id, made.language, made.handler, made.created_at
    else:
        conversation_id, previous, handler, created_at = found
    decision = (chosen_language(message.chosen_language) if message.chosen_language
                else decide_language(message.text, previous, message.locale, thorough=False))
    language_now = _language_after(decision, previous)
    human = handler == "human"
    rows: list[dict[str, Any]] = [{
        "conversation_id": conversation_id, "sender": "customer", "text": message.text,
        "language": decision.detected.language, "language_confidence": decision.detected.confidence,
        "status": "for_adviser" if human else "kept", "created_at": now, "buttons": None}]
    language = language_now or "en"
    replies: list[OutboundMessage] = []
    if not human:
        replies = [render("sys_busy", language)]
        if created_at == now:
            replies.insert(0, disclosure(language))
        rows += [{**_reply_row(conversation_id, reply, language, now, reply_status), "language_confidence": None}
                 for reply in replies]
    session.execute(insert(_MESSAGES), rows)
    changes: dict[str, Any] = {"language": language_now, "updated_at": now}
    if message.locale:
        changes["locale"] = message.locale
    session.execute(update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == conversation_id).values(**changes))
    events.note_change(session, events.conversation_key(conversation_id))
    session.commit()
    log.info("chat.received conversation=%s channel=%s language=%s method=%s",
             conversation_id, message.channel, decision.detected.language, decision.detected.method)
    metrics.count_turn(message.channel, language_now)
    if human:
        return Turn(conversation_id=conversation_id, language=language, replies=())
    log.info("chat.busy conversation=%s", conversation_id)
    return Turn(conversation_id=conversation_id, language=language, replies=tuple(replies))


def _carry_out(session: Session, prepared: Prepared, answers: list[Answer], *, now: datetime,
               context: GuidanceContext, words: str | None = None
               ) -> tuple[list[OutboundMessage], TicketRef | None] | None:
    """Rasa's answers as messages in the conversation's language; its decisions done on the way.
    The conversation is read only when a decision needs it (the common turn says catalogue texts
    only); None when it was erased meanwhile. `words` is what the customer wrote this turn, unmasked
    (Rasa saw it with personal data masked): a guided conversation takes its answer from these (a
    phone number for a callback)."""
    out: list[OutboundMessage] = []
    ticket: TicketRef | None = None
    conversation: Conversation | None = None
    for answer in answers:
        if isinstance(answer, OutboundMessage):
            if answer.text or answer.buttons:
                out.append(answer)
        elif answer.name == "say":
            said = _say(answer, prepared.language)
            if said is not None:
                out.append(said)
        elif answer.name == "clarify":
            out.append(clarify(answer.args.get("options"), prepared.language))
        else:
            conversation = conversation or session.get(Conversation, prepared.conversation_id)
            if conversation is None:
                return None
            messages, made = _command(session, conversation, answer, prepared.language, now=now, context=context,
                                      words=words)
            out += messages
            ticket = made or ticket
    return out, ticket


def _command(session: Session, conversation: Conversation, command: Command, language: str, *,
             now: datetime, context: GuidanceContext, words: str | None = None
             ) -> tuple[list[OutboundMessage], TicketRef | None]:
    args = command.args
    if command.name == "handoff":
        # asking for a person in the middle of an employer's intake: the employer advisory's topic,
        # whatever the answers so far looked like to the assistant
        topic = intake_topic(conversation.guidance) or _word(args.get("topic"), None)
        if intake_topic(conversation.guidance):
            conversation.guidance = None  # the form ended with the hand-off; the answers so far are in the transcript
        handoff = do_handoff(session, conversation_id=conversation.id, reason=_word(args.get("reason"), None) or "handoff",
                             topic=topic, now=now, hours=context.hours,
                             home_area=context.home_area, reopen_days=context.reopen_days, commit=False)
        ticket = handoff.ticket
        notice = with_offer(session, ticket, handoff.notice, language, now)
        return [notice], TicketRef(id=ticket.id, queue=ticket.queue, status=ticket.status)
    if command.name == "guidance":
        start = args.get("start")
        step = guidance.do_guidance_turn(
            session, conversation.id, now=now, context=context, commit=False,
            text=(words if words is not None else args["text"]) if isinstance(args.get("text"), str) else None,
            start=start if start in guidance.FLOWS else None,
            role_hint=_word(args.get("role_hint"), None), topic=_word(args.get("topic"), None))
        return list(step.messages), step.ticket
    log.warning("chat.unknown_command name=%s", command.name[:32])
    return [], None


def _word(value: object, default: str | None) -> str | None:
    """A short identifier from Rasa's payload (intent names, reasons), or the default."""
    return value[:64] if isinstance(value, str) and value else default


def finish_turn(session: Session, prepared: Prepared, answers: list[Answer] | None, *, now: datetime,
                context: GuidanceContext, reply_status: str = "sent", notices: tuple[OutboundMessage, ...] = (),
                translation: str | None = None, store: bool = True, words: str | None = None,
                ) -> tuple[list[OutboundMessage], TicketRef | None]:
    """The second short transaction: carry out Rasa's decisions, store its answers (unless the caller
    stores them after translating them) and return them, with the ticket a hand-off made.

    The common turn — catalogue texts only — reads nothing: one UPDATE of the customer's message,
    the INSERTs of the answers, one commit."""
    values: dict[str, Any] = {"status": "kept" if answers is None else "answered"}
    if answers is not None:  # what the assistant made of the message: the supervisors' unanswered questions
        values["outcome"] = outcome_of(answers, guided=prepared.guidance is not None)
    if translation is not None:
        values.update(translation=translation, translation_language="en")
    marked = session.execute(update(Message).where(Message.id == prepared.inbound_id).values(**values))
    if not getattr(marked, "rowcount", 1):  # erased meanwhile
        session.rollback()
        return [], None
    replies = list(notices)
    ticket: TicketRef | None = None
    if answers is None:
        replies = [render("sys_unavailable", prepared.language)]
    else:
        carried = _carry_out(session, prepared, answers, now=now, context=context, words=words)
        if carried is None:  # erased meanwhile
            session.rollback()
            return [], None
        said, ticket = carried
        replies += said
    if prepared.first:  # first, so that the answer (and its buttons) stays the last word
        replies.insert(0, disclosure(prepared.language))
    if store:
        _store_replies(session, prepared.conversation_id, replies, prepared.language, now, reply_status)
    session.commit()
    if ticket is None and any(isinstance(a, Command) and a.name == "guidance" for a in answers or ()):
        # a callback request makes a ticket
        conversation = session.get(Conversation, prepared.conversation_id)
        ticket = _handed_off_now(session, conversation, now) if conversation is not None else None
    return replies, ticket


def disclosure(language: str) -> OutboundMessage:
    """The first answer of every conversation says that an automated assistant answers and how to
    reach a person (EU AI Act art. 50), in the customer's language."""
    return render("sys_ai_disclosure", language)


CLARIFY_OPTIONS = 3


def clarify(options: object, language: str) -> OutboundMessage:
    """"Did you mean one of these?" with a button for each topic the assistant hesitated between
    (Rasa's fallback action names them); a plain "say it in other words" when none is known."""
    topics = [o for o in options if isinstance(o, str)] if isinstance(options, list) else []
    buttons = []
    for topic in dict.fromkeys(topics):
        title = topic_title(topic, language)
        if title is not None:
            buttons.append(Button(title=title, payload=f"/{topic}"))
    if not buttons:
        return render("utter_fallback", language)
    asked = render("sys_clarify", language)
    return OutboundMessage(text=asked.text, buttons=tuple(buttons[:CLARIFY_OPTIONS]))


def _say(command: Command, language: str) -> OutboundMessage | None:
    try:
        return render(str(command.args.get("key") or ""), language)
    except UnknownKey:
        log.warning("chat.unknown_response key=%s", str(command.args.get("key"))[:64])
        return None


def store_replies(session: Session, conversation_id: str, replies: list[OutboundMessage], language: str,
                  now: datetime, reply_status: str = "sent") -> None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is not None:
        _store_replies(session, conversation, replies, language, now, reply_status)
        session.commit()


async def do_receive_message(
    factory: sessionmaker[Session], rasa: RasaClient, message: InboundMessage, *, now: datetime,
    context: GuidanceContext, reply_status: str = "sent", translator: Translator | None = None,
    gate: TurnGate | None = None,
) -> Turn:
    """Store the customer's message, let the assistant answer, carry out and store its answer.

    The customer's message is committed before anything else can fail, so an accepted message is
    never lost, even when the assistant is down or busy. A channel that pushes its replies from a
    worker (Telegram) stores them with `reply_status="pending"`; its worker sends them.
    """
    if gate is not None and not gate.try_enter():
        # the quick identification (~0.5 ms) inside the one trip: a second trip would cost more
        return await in_db(factory, lambda s: busy_turn(s, message, now=now, reply_status=reply_status))
    started = time.monotonic()
    try:
        prepared = await in_db(factory, lambda s: begin_turn(s, message, now=now, context=context,
                                                             reply_status=reply_status))
        if prepared.for_adviser or prepared.local is not None:
            replies = tuple(r for r in (prepared.waiting, prepared.local) if r is not None)
            return Turn(conversation_id=prepared.conversation_id, language=prepared.language, replies=replies)
        return await _ask_and_finish(factory, rasa, prepared, now=now, context=context, reply_status=reply_status,
                                     translator=translator)
    finally:
        if gate is not None:
            gate.leave(time.monotonic() - started)


async def _ask_and_finish(factory: sessionmaker[Session], rasa: RasaClient, prepared: Prepared, *, now: datetime,
                          context: GuidanceContext, reply_status: str, translator: Translator | None) -> Turn:
    language = prepared.language
    text, hints, translation = prepared.text, prepared.hints, None
    tier2 = language not in langid.TIER1 and language != langid.UNDETERMINED
    interpreted = tier2 and translator is not None and translator.enabled
    if interpreted:
        # A tier-2 language with a translation backend: the assistant reads the English translation
        # and its answers are translated back, marked (bot/services/interpreting.py).
        assert translator is not None
        into_english = await asyncio.to_thread(translator.translate, prepared.text, language, "en")
        if into_english.translated:
            text, hints, translation = into_english.text, ("en",), into_english.text
        else:
            interpreted = False
    notices: tuple[OutboundMessage, ...] = ()
    if tier2 and not interpreted and language != prepared.previous:
        name = langid.LANGUAGE_NAMES_EN.get(language, langid.LANGUAGE_NAMES_EN.get(language, language))
        notices = (render("sys_tier2_notice", "en", language_name=name),)
    metadata: dict[str, Any] = {"language": "en" if interpreted else language, "language_hints": list(hints)}
    if prepared.guidance is not None:
        metadata["guidance"] = prepared.guidance
    answers: list[Answer] | None
    try:
        # Rasa and its tracker never see identity codes, bank accounts, e-mail addresses or phone
        # numbers; the hub keeps the original for the adviser and for the guided conversations
        answers = await rasa.send(prepared.conversation_id, pii.mask(text), metadata)
        if not answers:  # an action failed inside Rasa: say so, keep the message
            raise RasaUnavailable("no answer")
    except RasaUnavailable:
        answers = None
    metrics.count_answer(answers)
    replies, ticket = await in_db(factory, lambda s: finish_turn(
        s, prepared, answers, now=now, context=context, reply_status=reply_status, notices=notices,
        translation=translation, store=not (interpreted and answers is not None), words=text))
    if interpreted and answers is not None:
        assert translator is not None
        replies = [await asyncio.to_thread(translate_answer, translator, r, language) for r in replies]
        await in_db(factory, lambda s: store_replies(s, prepared.conversation_id, replies, language, now,
                                                     reply_status))
    log.info("chat.answered conversation=%s replies=%d kept=%s handoff=%s",
             prepared.conversation_id, len(replies), answers is None, ticket.id if ticket else None)
    return Turn(conversation_id=prepared.conversation_id, language=language, replies=tuple(replies), ticket=ticket)


def do_answer_locally(session: Session, message: InboundMessage, replies: list[OutboundMessage], *,
                      now: datetime, reply_status: str = "sent",
                      attachment: NewAttachment | None = None) -> tuple[Turn, Message]:
    """A turn the channel answers itself, without the assistant (Telegram's /start, /help, a file).

    The customer's message (with its file, if any) and the answer are committed together and kept
    in the transcript like any other turn; while an adviser owns the conversation the message is
    marked as theirs.
    """
    conversation, inbound, _previous, _hints = _receive(session, message, now, commit=False)
    if attachment is not None:
        do_keep_attachment(session, inbound, attachment)
    inbound.status = "for_adviser" if conversation.handler == "human" else "answered"
    language = conversation.language or "en"
    _store_replies(session, conversation, replies, language, now, reply_status)
    session.commit()
    return Turn(conversation_id=conversation.id, language=language, replies=tuple(replies)), inbound


def _handed_off_now(session: Session, conversation: Conversation, now: datetime) -> TicketRef | None:
    """The ticket this turn made, reopened or asked a callback on, if any (its events carry the
    turn's time)."""
    ticket = session.scalars(
        select(Ticket).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(Ticket.conversation_id == conversation.id, TicketEvent.at == now,
               TicketEvent.kind.in_(("created", "reopened", "callback_requested")))
        .order_by(TicketEvent.id.desc()).limit(1)
    ).first()
    return TicketRef(id=ticket.id, queue=ticket.queue, status=ticket.status) if ticket else None


def read_messages_after(session: Session, *, channel: str, external_id: str, after: int,
                        senders: tuple[str, ...] = ("adviser", "system")
                        ) -> tuple[str | None, str | None, list[Message]]:
    """Messages for the customer that arrived after `after` (adviser replies, notices), who
    handles the conversation now, and its language. Used by the web chat's live stream."""
    conversation = session.scalars(
        select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
    ).first()
    if conversation is None:
        return None, None, []
    messages = list(session.scalars(
        select(Message).where(Message.conversation_id == conversation.id, Message.id > after,
                              Message.sender.in_(senders)).order_by(Message.id)
    ))
    return conversation.handler, conversation.language, messages
