"""The customer-satisfaction question after a ticket closes (issue 18): one question, 1–5 and an
optional comment, in the customer's language and channel; asked once per ticket, answered at most
once, and no answer is fine.

- Asked when an adviser closes a ticket as `answered` or `referred` — the customer was served.
  Not for `callback_done` (the help came by phone), `no_response` (nobody to ask), `duplicate` or
  `spam` (nothing was served); erasure never closes a ticket. Not in the phone channel: a call has
  no place to show the question, and a call-back after the close would cost more than it tells.
  `csat_asked_at` is set in the closing transaction and only while it is empty, so a ticket that
  is reopened and closed again is not asked twice.
- Web chat and Telegram: the question is a message with buttons 1–5 (payloads `/csat 1` … `/csat 5`,
  a Telegram inline keyboard). The hub answers the press itself — Rasa never sees it — with the
  comment prompt and a Skip button; the next message written right after the score (only that one,
  only within `COMMENT_WITHIN`, and not another button's payload or a command) is the comment.
  Anything else the customer writes is an ordinary turn: the question never blocks the conversation.
  While an adviser holds the conversation again (a reopened ticket), a press is the adviser's
  message like any other.
- E-mail: the question's buttons are rendered by the e-mail channel as a link to a one-question
  page (`GET/POST /feedback/{token}`). The token is the ticket id and a random part; only the
  random part's SHA-256 is stored (a `csat_link` event), so the database cannot give a link away,
  and erasing the ticket's events ends the link.
- The score is never overwritten (a conditional UPDATE); a comment may hold personal data: it is
  stored as written, shown to whoever may open the ticket, never logged; privacy export includes
  it and erasure clears it (bot/services/privacy.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.errors import unusable_characters
from bot.locales import render
from bot.messages import Button, OutboundMessage
from bot.models import Conversation, Message, Ticket, TicketEvent
from bot.services import metrics

log = logging.getLogger(__name__)

CHANNELS = ("web", "telegram", "email")
ASKED_OUTCOMES = ("answered", "referred")
SCORES = (1, 2, 3, 4, 5)
PAYLOAD = "/csat"
SKIP = "/csat skip"
COMMENT_WITHIN = timedelta(hours=1)  # a message long after the score is a new question, not a comment
MAX_COMMENT = 5000
ASKED, LINK, ANSWERED = "csat_asked", "csat_link", "csat_answered"
_PRESSED = re.compile(r"/csat\s+(\S{1,16})")
_TOKEN = re.compile(r"([0-9a-f]{12})\.([A-Za-z0-9_-]{20,64})")


class CsatError(Exception):
    """An answer that cannot be taken; `key` is the catalogue text that says why, `status` the HTTP status."""

    def __init__(self, code: str, key: str, status: int) -> None:
        super().__init__(code)
        self.code = code
        self.key = key
        self.status = status


def check_score(value: object) -> int:
    """A score of 1 to 5 from a form field or a payload; CsatError otherwise."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if text in {str(s) for s in SCORES}:
        return int(text)
    raise CsatError("invalid_score", "sys_csat_page_error", 422)


def check_comment(value: object) -> str | None:
    """The comment as written (None when empty); CsatError when too long or not storable text
    (NUL, a lone surrogate)."""
    text = str(value).strip() if isinstance(value, str) else ""
    if len(text) > MAX_COMMENT:
        raise CsatError("comment_too_long", "sys_csat_page_too_long", 422)
    if unusable_characters(text) is not None:
        raise CsatError("invalid_comment", "sys_csat_page_invalid_comment", 422)
    return text or None


def question(language: str | None) -> OutboundMessage:
    """The question with a button per score (one keyboard row in Telegram: the titles are short)."""
    asked = render("sys_csat_question", language)
    return OutboundMessage(text=asked.text, buttons=tuple(Button(title=str(s), payload=f"{PAYLOAD} {s}")
                                                          for s in SCORES))


def is_question(message: Message) -> bool:
    """Whether a stored message is the satisfaction question (its buttons are the scores)."""
    return bool(message.buttons) and all(str(b.get("payload", "")).startswith(PAYLOAD + " ")
                                         for b in message.buttons or [])


def asks(ticket: Ticket, outcome: str) -> bool:
    return ticket.channel in CHANNELS and outcome in ASKED_OUTCOMES and ticket.csat_asked_at is None


def do_ask(session: Session, ticket: Ticket, conversation: Conversation, outcome: str,
           now: datetime) -> Message | None:
    """In the closing transaction: mark the ticket asked and add the question for the customer's
    channel (the caller delivers it with the close notice); None when this close asks nothing.
    The caller commits."""
    if not asks(ticket, outcome):
        return None
    ticket.csat_asked_at = now
    language = conversation.language or ticket.language
    asked = question(language)
    message = Message(conversation_id=conversation.id, sender="system", text=asked.text, language=language,
                      buttons=[{"title": b.title, "payload": b.payload} for b in asked.buttons], status="sent",
                      created_at=now)
    session.add(message)
    session.add(TicketEvent(ticket_id=ticket.id, kind=ASKED, data={"channel": ticket.channel}, at=now))
    return message


# --- the link for e-mail ------------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def do_issue_link(session: Session, ticket: Ticket, now: datetime) -> str:
    """A new token for the ticket's feedback page; only its hash is kept. The caller commits."""
    secret = secrets.token_urlsafe(24)
    session.add(TicketEvent(ticket_id=ticket.id, kind=LINK, data={"sha256": _digest(secret)}, at=now))
    return f"{ticket.id}.{secret}"


def access_ticket_by_token(session: Session, token: str) -> Ticket:
    """The ticket a feedback link names, if the link is one we sent (and not erased since)."""
    found = _TOKEN.fullmatch(token)
    ticket = session.get(Ticket, found.group(1)) if found else None
    if found is None or ticket is None or ticket.csat_asked_at is None:
        raise CsatError("unknown_link", "sys_csat_page_not_found", 404)
    digest = _digest(found.group(2))
    stored = session.scalars(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.kind == LINK)).all()
    if not any(isinstance(d, dict) and hmac.compare_digest(str(d.get("sha256", "")), digest) for d in stored):
        raise CsatError("unknown_link", "sys_csat_page_not_found", 404)
    return ticket


# --- answers ------------------------------------------------------------------------------------------

def do_answer(session: Session, ticket: Ticket, score: int, comment: str | None, now: datetime, *,
              commit: bool = True) -> bool:
    """Store the score (and comment) unless the ticket was answered already; True when stored. One
    conditional UPDATE, so of two answers at once exactly one is kept. With `commit=False` the
    caller commits."""
    result = session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.csat_asked_at.is_not(None), Ticket.csat_score.is_(None))
        .values(csat_score=score, csat_comment=comment, csat_answered_at=now)
        .execution_options(synchronize_session=False))
    stored = bool(getattr(result, "rowcount", 0))
    if stored:
        session.add(TicketEvent(ticket_id=ticket.id, kind=ANSWERED, data=None, at=now))
    channel, ticket_id = ticket.channel, ticket.id
    if commit:
        session.commit()
    else:
        session.flush()
    if stored:
        metrics.count_csat(channel, score)
        log.info("csat.answered ticket=%s channel=%s comment=%s", ticket_id, channel, comment is not None)
    return stored


def _asked_ticket(session: Session, conversation_id: str) -> Ticket | None:
    """The conversation's ticket asked most recently."""
    return session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id,
                                                Ticket.csat_asked_at.is_not(None))
                           .order_by(Ticket.csat_asked_at.desc()).limit(1)).first()


def _awaiting_comment(session: Session, conversation_id: str, inbound: Message, now: datetime) -> Ticket | None:
    """The ticket whose comment this message is: scored within COMMENT_WITHIN, no comment yet, and
    the customer's message just before this one was the score."""
    ticket = session.scalars(select(Ticket).where(
        Ticket.conversation_id == conversation_id, Ticket.csat_score.is_not(None), Ticket.csat_comment.is_(None),
        Ticket.csat_answered_at >= now - COMMENT_WITHIN).limit(1)).first()
    if ticket is None:
        return None
    before = session.scalars(select(Message.text).where(
        Message.conversation_id == conversation_id, Message.sender == "customer", Message.id < inbound.id)
        .order_by(Message.id.desc()).limit(1)).first()
    pressed = _PRESSED.fullmatch((before or "").strip())
    return ticket if pressed is not None and pressed.group(1) in {str(s) for s in SCORES} else None


def do_answer_in_chat(session: Session, conversation: Conversation, inbound: Message, text: str, language: str,
                      now: datetime) -> OutboundMessage | None:
    """The hub's own answer to a message about the question (web chat, Telegram): a score button,
    Skip, or the comment right after the score. None for every other message — an ordinary turn.
    Flushes; the caller commits."""
    pressed = _PRESSED.fullmatch(text.strip())
    if pressed is None:
        if text.lstrip().startswith("/"):  # another button or command: not words for a comment
            return None
        ticket = _awaiting_comment(session, conversation.id, inbound, now)
        if ticket is None:
            return None
        session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.csat_comment.is_(None))
                        .values(csat_comment=text.strip()[:MAX_COMMENT]).execution_options(synchronize_session=False))
        log.info("csat.commented ticket=%s", ticket.id)
        return render("sys_csat_thanks", language)
    ticket = _asked_ticket(session, conversation.id)
    if ticket is None:
        return None
    if pressed.group(1) == "skip":
        return render("sys_csat_thanks", language)
    try:
        score = check_score(pressed.group(1))
    except CsatError:
        return question(language) if ticket.csat_score is None else render("sys_csat_already", language)
    if ticket.csat_score is not None:
        return render("sys_csat_already", language)
    if not do_answer(session, ticket, score, None, now, commit=False):
        return render("sys_csat_already", language)
    return render("sys_csat_comment", language)
