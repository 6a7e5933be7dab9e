"""Saved replies, the assistant's authored answers for the reply box, and internal notes.

A saved reply is the adviser's own or shared by a supervisor with everyone. The authored answers
are the catalogue's `utter_<topic>` texts in the customer's language: inserted as they are, they
go out without machine translation (the reply form's "written in" says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.errors import unusable_characters
from bot.locales import UnknownKey, catalogues, render, topic_title
from bot.models import Adviser, SavedReply, Ticket, TicketEvent, TicketNote
from bot.services.topics import TOPICS

REPLY_LANGUAGES = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")


class ReplyError(ValueError):
    pass


@dataclass(frozen=True)
class Insertable:
    key: str  # "saved:12" or "answer:pay_subsidy"
    title: str
    text: str
    language: str


def saved_replies(session: Session, adviser: Adviser) -> list[SavedReply]:
    return list(session.scalars(select(SavedReply).where(
        or_(SavedReply.owner_id == adviser.id, SavedReply.owner_id.is_(None))).order_by(SavedReply.title)))


def catalogue_answers(language: str | None) -> list[Insertable]:
    """The assistant's answer on each topic, in the customer's language when it is a tier-1 language
    (an empty list otherwise: there is nothing authored to insert)."""
    if not language or language not in catalogues():
        return []
    out = []
    for topic in sorted(TOPICS):
        try:
            message = render(f"utter_{topic}", language)
        except UnknownKey:
            continue
        out.append(Insertable(key=f"answer:{topic}", title=topic_title(topic, language) or topic,
                              text=message.text, language=language))
    return out


def prefill(insert: str, saved: list[SavedReply], answers: list[Insertable]) -> tuple[str, str | None]:
    """The reply box's text and its "written in" for `?insert=` (the form without JavaScript)."""
    if insert.startswith("saved:"):
        for reply in saved:
            if f"saved:{reply.id}" == insert:
                return reply.text, reply.language
    for answer in answers:
        if answer.key == insert:
            return answer.text, answer.language
    return "", None


def do_save_reply(session: Session, adviser: Adviser, title: str, text: str, language: str, shared: bool,
                  now: datetime) -> SavedReply:
    title, text = title.strip(), text.strip()
    if not title or not text or language not in REPLY_LANGUAGES or unusable_characters(title + text):
        raise ReplyError("title, text and language are needed")
    owner = None if shared and adviser.role in ("supervisor", "admin") else adviser.id
    reply = SavedReply(owner_id=owner, title=title, text=text, language=language, created_at=now)
    session.add(reply)
    session.commit()
    return reply


def do_delete_reply(session: Session, adviser: Adviser, reply_id: int) -> bool:
    """Own replies by their owner; shared ones by supervisors and admins."""
    reply = session.get(SavedReply, reply_id)
    if reply is None:
        return False
    if reply.owner_id != adviser.id and not (reply.owner_id is None and adviser.role in ("supervisor", "admin")):
        return False
    session.delete(reply)
    session.commit()
    return True


def notes_of(session: Session, ticket: Ticket) -> list[tuple[TicketNote, str | None]]:
    """The ticket's notes, oldest first, each with its author's username (None once removed)."""
    rows = session.execute(select(TicketNote, Adviser.username).outerjoin(Adviser, TicketNote.adviser_id == Adviser.id)
                           .where(TicketNote.ticket_id == ticket.id).order_by(TicketNote.id)).all()
    return [(note, author) for note, author in rows]


def do_add_note(session: Session, ticket: Ticket, adviser: Adviser, text: str, now: datetime) -> TicketNote:
    note = TicketNote(ticket_id=ticket.id, adviser_id=adviser.id, text=text, created_at=now)
    session.add(note)
    session.add(TicketEvent(ticket_id=ticket.id, adviser_id=adviser.id, kind="noted", at=now))
    session.commit()
    return note
