"""The adviser API: queues and tickets. Routes stay thin; bot.services.tickets does the work."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.api.deps import adviser_of, bearer_token, current_adviser, get_session
from bot.errors import check_text_characters
from bot.models import Adviser, Attachment, Message, Ticket
from bot.schemas.common import ErrorPublic
from bot.schemas.tickets import (
    AssignRequest,
    AttachmentPublic,
    CallRequest,
    CloseRequest,
    NoteList,
    NotePublic,
    NoteRequest,
    QueueList,
    QueuePublic,
    ReplyRequest,
    SatisfactionPublic,
    TicketList,
    TicketPublic,
    TranscriptEntry,
    TransferRequest,
)
from bot.services import replies, worklist
from bot.services import tickets as svc
from bot.services.attachments import access_attachment_by_ticket, download_headers
from bot.services.callbacks import do_record_call, mask_number
from bot.services.conversations import in_db
from bot.services.delivery import do_deliver_reply
from bot.services.interpreting import do_translate_for_adviser, do_translate_reply
from bot.services.quick_claim import QuickClaim, QuickClaims
from bot.services.shifts import OpeningHours
from bot.services.translation import Translator

router = APIRouter(prefix="/api", tags=["advisers"])
MAX_ID = 2**31 - 1  # the ids are INTEGER: a larger one was a 500 at the query (SQLite and PostgreSQL)
Me = Annotated[Adviser, Depends(current_adviser)]
Token = Annotated[str, Depends(bearer_token)]  # routes that check it themselves, with `adviser_of`
# What bot.services.tickets answers (TicketError); 401, 413 and 422 every route gets: bot.api.errors.
_ERRORS = {
    403: "a colleague holds the ticket, or the queue is not on the adviser's shift",
    404: "no such ticket or file, or not one the adviser may see",
    409: "the ticket is closed or not claimed, or the adviser holds as many tickets as they may",
    422: "an unknown queue or outcome",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorPublic, "description": _ERRORS[status]} for status in statuses}
Db = Annotated[Session, Depends(get_session)]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _contact(ticket: Ticket, masked: bool) -> dict[str, Any] | None:
    """The contact; in lists the phone number is masked (it is shown in full on the ticket)."""
    if not masked or not ticket.contact or not ticket.contact.get("phone"):
        return ticket.contact
    return {**ticket.contact, "phone": mask_number(str(ticket.contact["phone"]))}


# every ticket shown with its transcript reads one of these (built once, run with parameters)
# the messages with their files' descriptions (never the data) in one query
_TRANSCRIPT = (select(Message, Attachment.id.label("file_id"), Attachment.filename, Attachment.content_type,
                      Attachment.size)
               .outerjoin(Attachment, Attachment.message_id == Message.id)
               .where(Message.conversation_id == bindparam("conversation_id")).order_by(Message.id, Attachment.id))
_TRANSCRIPT_UNTIL = _TRANSCRIPT.where(Message.created_at <= bindparam("until", type_=Message.created_at.type))


def _transcript(session: Session, ticket: Ticket, until: datetime | None) -> list[TranscriptEntry]:
    params: dict[str, Any] = {"conversation_id": ticket.conversation_id}
    if until is not None:
        params["until"] = until
    entries: dict[int, TranscriptEntry] = {}
    for m, file_id, filename, content_type, size in session.execute(
            _TRANSCRIPT if until is None else _TRANSCRIPT_UNTIL, params):
        entry = entries.get(m.id)
        if entry is None:
            entry = entries[m.id] = TranscriptEntry(
                id=m.id, sender=m.sender, text=m.text, language=m.language, translation=m.translation,
                translation_language=m.translation_language, status=m.status, created_at=m.created_at,
                attachments=[])
        if file_id is not None:
            entry.attachments.append(_attachment(ticket.id, file_id, filename, content_type, size))
    return list(entries.values())


def _attachment(ticket_id: str, file_id: int, filename: str, content_type: str, size: int) -> AttachmentPublic:
    return AttachmentPublic(id=file_id, filename=filename, content_type=content_type, size=size,
                            url=f"/api/tickets/{ticket_id}/attachments/{file_id}")


def to_public(session: Session, ticket: Ticket, *, transcript: bool, masked: bool = False,
              until: datetime | None = None) -> TicketPublic:
    """The ticket as the API shows it; with `until`, the transcript stops at that moment."""
    entries = _transcript(session, ticket, until) if transcript else []
    assigned = session.get(Adviser, ticket.assigned_to).username if ticket.assigned_to else None  # type: ignore[union-attr]
    return _public(ticket, assigned, entries, masked)


def _public(ticket: Ticket, assigned: str | None, entries: list[TranscriptEntry], masked: bool) -> TicketPublic:
    return TicketPublic(
        id=ticket.id, channel=ticket.channel, queue=ticket.queue, status=ticket.status, priority=ticket.priority,
        language=ticket.language, city_on_shift=ticket.city_on_shift, needs_interpreter=ticket.needs_interpreter,
        reason=ticket.reason, topic=ticket.topic, summary=ticket.summary, contact=_contact(ticket, masked),
        consent=ticket.consent, assessment=ticket.assessment, intake=ticket.intake, assigned_to=assigned, outcome=ticket.outcome,
        created_at=ticket.created_at, claimed_at=ticket.claimed_at, closed_at=ticket.closed_at,
        due_at=ticket.due_at, attempts=ticket.attempts, transcript=entries,
        satisfaction=SatisfactionPublic(asked_at=ticket.csat_asked_at, score=ticket.csat_score,
                                        comment=ticket.csat_comment, answered_at=ticket.csat_answered_at)
        if ticket.csat_asked_at is not None else None,
    )


@router.get("/tickets", response_model=TicketList)
def read_tickets(
    me: Me, session: Db, request: Request,
    status: Annotated[str | None, Query(pattern="^(queued|claimed|closed|open)$")] = None,
    queue: Annotated[str | None, Query(max_length=40)] = None,
    channel: Annotated[str | None, Query(pattern="^(web|telegram|email|phone)$")] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    city: Annotated[str | None, Query(pattern="^(helsinki|espoo|vantaa)$")] = None,
    q: Annotated[str | None, Query(max_length=100, description="a ticket number, or words in the summary or messages")] = None,
    sort: Annotated[str, Query(pattern="^(waited|newest|priority|language|queue)$")] = "priority",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TicketList:
    """The tickets the adviser may see (`access_ticket_by_adviser`): their current shift's queues
    and channels and the tickets they hold or last held; all for supervisors. Filtered, searched,
    sorted and paged like the console's list; `total` says how many match in all."""
    filters = worklist.Filters(status=status or "all", queue=queue, language=language, channel=channel, city=city,
                               search=q, sort=sort)
    rows, total = worklist.ticket_page(session, me, _now(), filters, offset=offset, limit=limit)
    return TicketList(tickets=[to_public(session, t, transcript=False, masked=True) for t in rows], total=total)


@router.get("/tickets/{ticket_id}/notes", response_model=NoteList, responses=errors(404))
def read_notes(ticket_id: str, me: Me, session: Db) -> NoteList:
    """The ticket's internal notes (for advisers only; never sent to the customer)."""
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, _now())
    return NoteList(notes=[NotePublic(id=n.id, author=author, text=n.text, created_at=n.created_at)
                           for n, author in replies.notes_of(session, ticket)])


@router.post("/tickets/{ticket_id}/notes", response_model=NotePublic, status_code=201, responses=errors(404))
def create_note(ticket_id: str, body: NoteRequest, me: Me, session: Db) -> NotePublic:
    """Add an internal note for colleagues."""
    now = _now()
    check_text_characters(body.text, None)
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
    note = replies.do_add_note(session, ticket, me, body.text.strip(), now)
    return NotePublic(id=note.id, author=me.username, text=note.text, created_at=note.created_at)


@router.post("/tickets/claim", response_model=TicketPublic | None, responses=errors(403, 409))
async def create_claim(token: Token, request: Request,
                       queue: Annotated[str | None, Query(max_length=40)] = None) -> TicketPublic | None:
    """Claim the next ticket (oldest first within priority); `null` when the queues are empty."""
    translator = request.app.state.translator
    factory = request.app.state.sessionmaker
    quick: QuickClaims | None = request.app.state.quick_claims
    if quick is not None:  # PostgreSQL: one statement on the event loop (bot/services/quick_claim.py)
        claimed = await quick.claim_next(token, _now(), queue)
        if claimed is not None:
            if translator.enabled and _needs_translation(claimed):
                return await in_db(factory, lambda session: _translated(session, claimed, token, translator))
            return _quick_public(claimed)
    return await in_db(factory, lambda session: _claim_next(session, token, translator, queue))


def _claim_next(session: Session, token: str, translator: Translator, queue: str | None) -> TicketPublic | None:
    """The claim's whole database work in one trip to a worker thread (`in_db`: queued in order
    on the event loop while every connection is busy): sign-in check, claim, transcript. The claim
    is the advisory's busiest write; a separate trip for the adviser alone would cost a second
    thread hand-over and hold a connection in between."""
    now = _now()
    me = adviser_of(session, token)
    ticket = svc.do_claim_next(session, me, now, queue=queue, commit=False)
    return None if ticket is None else _claimed(session, ticket, me, translator, now)


def _translated(session: Session, claimed: QuickClaim, token: str, translator: Translator) -> TicketPublic:
    """A ticket claimed in one statement whose customer messages wait for machine translation into
    the adviser's working language: translated as after any claim, then shown."""
    ticket = session.get(Ticket, claimed.ticket["id"])
    assert ticket is not None  # just claimed; a held ticket is never deleted
    do_translate_for_adviser(session, ticket, adviser_of(session, token), translator, _now())
    return to_public(session, ticket, transcript=True)


def _needs_translation(quick: QuickClaim) -> bool:
    """Whether a customer message of the claimed ticket waits for translation into the adviser's
    working language (the rule of `do_translate_for_adviser`, which then does it)."""
    target = quick.working_language
    return any(m["sender"] == "customer" and m["translation_language"] != target
               and (m["language"] or "und") != target for m in quick.messages)


def _quick_public(quick: QuickClaim) -> TicketPublic:
    """The ticket just claimed in one statement, as `to_public(…, transcript=True)` shows it."""
    ticket = Ticket(**quick.ticket)  # a detached copy of the row, never added to a session
    transcript = [TranscriptEntry(
        id=m["id"], sender=m["sender"], text=m["text"], language=m["language"], translation=m["translation"],
        translation_language=m["translation_language"], status=m["status"], created_at=m["created_at"],
        attachments=[_attachment(ticket.id, f["id"], f["filename"], f["content_type"], f["size"]) for f in m["files"]])
        for m in quick.messages]
    return _public(ticket, quick.holder, transcript, masked=False)


def _claimed(session: Session, ticket: Ticket, me: Adviser, translator: Translator, now: datetime) -> TicketPublic:
    """The ticket just claimed (not yet committed), with its transcript. Without a translator the
    transcript is read in the claim's own transaction, which then commits (one connection and one
    transaction per claim); a translator is a network wait, so then the claim commits first."""
    if translator.enabled:
        session.commit()
        do_translate_for_adviser(session, ticket, me, translator, now)
    public = to_public(session, ticket, transcript=True)
    session.commit()
    return public


@router.get("/tickets/{ticket_id}", response_model=TicketPublic, responses=errors(404))
def read_ticket(ticket_id: str, me: Me, session: Db, request: Request) -> TicketPublic:
    """The ticket with its transcript; the customer's messages also in the adviser's working language."""
    now = _now()
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
    until = svc.transcript_until(session, ticket, me, now)
    svc.do_record_view(session, ticket, me, now)
    do_translate_for_adviser(session, ticket, me, request.app.state.translator, now)
    return to_public(session, ticket, transcript=True, until=until)


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", response_class=Response, responses=errors(404))
def read_attachment(ticket_id: str, attachment_id: Annotated[int, Path(ge=1, le=MAX_ID)], me: Me,
                    session: Db) -> Response:
    """A file the customer sent with this ticket's conversation (a Telegram photo or document)."""
    now = _now()
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
    attachment = access_attachment_by_ticket(session, ticket, attachment_id, me, now,
                                             until=svc.transcript_until(session, ticket, me, now))
    return Response(attachment.data, media_type=attachment.content_type, headers=download_headers(attachment))


@router.post("/tickets/{ticket_id}/reply", response_model=TicketPublic, responses=errors(403, 404, 409))
def create_reply(ticket_id: str, body: ReplyRequest, me: Me, session: Db, request: Request) -> TicketPublic:
    """Answer the customer in their own channel (web chat live, e-mail in the thread, …)."""
    now = _now()
    check_text_characters(body.text, None)  # NUL, escapes: 422 on every database, never stored
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now, for_change=True)
    message = svc.do_reply(session, ticket, me, body.text.strip(), now)
    do_translate_reply(session, ticket, message, me, request.app.state.translator, now, written_in=body.written_in)
    do_deliver_reply(session, request.app.state.deliverers, ticket, message, now)
    return to_public(session, ticket, transcript=True)


@router.post("/tickets/{ticket_id}/claim", response_model=TicketPublic, responses=errors(404, 409))
async def create_claim_of(ticket_id: str, token: Token, request: Request) -> TicketPublic:
    """Claim this waiting ticket; 409 `taken` when a colleague was first. In a language the adviser
    does not speak, the ticket is served through interpreter mode."""
    translator = request.app.state.translator
    return await in_db(request.app.state.sessionmaker, lambda session: _claim_of(session, token, translator, ticket_id))


def _claim_of(session: Session, token: str, translator: Translator, ticket_id: str) -> TicketPublic:
    now = _now()
    me = adviser_of(session, token)
    return _claimed(session, svc.do_claim(session, ticket_id, me, now, commit=False), me, translator, now)


@router.post("/tickets/{ticket_id}/assign", response_model=TicketPublic, responses=errors(403, 404, 409, 422))
def create_assignment(ticket_id: str, body: AssignRequest, me: Me, session: Db) -> TicketPublic:
    """A supervisor hands the ticket to a named colleague (waiting or held by someone else)."""
    now = _now()
    return to_public(session, svc.do_assign(session, ticket_id, me, body.adviser, now), transcript=False)


@router.post("/tickets/{ticket_id}/transfer", response_model=TicketPublic, responses=errors(403, 404, 409, 422))
def create_transfer(ticket_id: str, body: TransferRequest, me: Me, session: Db) -> TicketPublic:
    now = _now()
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now, for_change=True)
    return to_public(session, svc.do_transfer(session, ticket, me, body.queue, now), transcript=False)


@router.post("/tickets/{ticket_id}/close", response_model=TicketPublic, responses=errors(403, 404, 409, 422))
def create_close(ticket_id: str, body: CloseRequest, me: Me, session: Db, request: Request) -> TicketPublic:
    now = _now()
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now, for_change=True)
    ticket, notices = svc.do_close(session, ticket, me, body.outcome, now)
    for notice in notices:
        do_deliver_reply(session, request.app.state.deliverers, ticket, notice, now)
    return to_public(session, ticket, transcript=False)


@router.post("/tickets/{ticket_id}/call", response_model=TicketPublic, responses=errors(403, 404, 409, 422))
def create_call(ticket_id: str, body: CallRequest, me: Me, session: Db, request: Request) -> TicketPublic:
    """A callback was tried: `reached` closes it; `no_answer`/`busy` count towards three failed calls,
    after which it closes with a note and the customer gets a message in their channel."""
    now = _now()
    ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now, for_change=True)
    hours = OpeningHours.parse(request.app.state.settings.opening_hours)
    ticket, notice = do_record_call(session, ticket, me, body.outcome, now, hours)
    if notice is not None:
        do_deliver_reply(session, request.app.state.deliverers, ticket, notice, now)
    return to_public(session, ticket, transcript=False)


@router.get("/queues", response_model=QueueList)
def read_queues(me: Me, session: Db) -> QueueList:
    """Depth and oldest wait per queue."""
    return QueueList(queues=[QueuePublic(**q) for q in svc.queue_depths(session, _now())])
