"""Console routes. Every POST checks the session's CSRF token; every ticket goes through
`access_ticket_by_adviser`; customer text is rendered by Jinja2 with autoescaping."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.api.deps import get_session, get_settings, get_throttle
from bot.config import Settings
from bot.console import live
from bot.console.words import LANGUAGES, best_language, gettext
from bot.errors import unusable_characters
from bot.locales import topic_title
from bot.models import (
    Adviser,
    AuthToken,
    Conversation,
    Message,
    Queue,
    Shift,
    Ticket,
    TicketEvent,
)
from bot.models.desk import CHANNELS, CITIES
from bot.services import events, replies, shifts, worklist
from bot.services import tickets as svc
from bot.services.attachments import access_attachment_by_ticket, attachments_of, download_headers
from bot.services.auth import (
    AuthError,
    LoginThrottle,
    Throttled,
    access_adviser_by_token,
    check_credentials,
    do_issue_token,
    do_revoke_token,
)
from bot.services.callbacks import CALL_OUTCOMES, callbacks_by_due, do_record_call, mask_number
from bot.services.delivery import do_deliver_reply
from bot.services.interpreting import do_translate_for_adviser, do_translate_reply
from bot.services.shifts import OpeningHours
from nlu import langid

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
COOKIE = "luotsi_session"
LOGIN_COOKIE = "luotsi_login_csrf"
Db = Annotated[Session, Depends(get_session)]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def local(value: datetime | None) -> str:
    return value.astimezone(shifts.HELSINKI).strftime("%d.%m.%Y %H:%M") if value else ""


class NotSignedIn(Exception):
    """No valid console session: the handler sends the browser to the sign-in page."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__()
        self.expired = expired


class CsrfFailed(Exception):
    pass


def install(app: FastAPI) -> None:
    """Mount the console and its two error handlers on the app (called by the composition root)."""
    # their routes use this module's helpers: imported once all exist
    from bot.console import employer, insights, privacy

    app.include_router(router)
    app.include_router(privacy.router)
    app.include_router(employer.router)
    app.include_router(insights.router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return _to_login(expired=exc.expired)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return Response("CSRF token missing or wrong", status_code=403)


def _signed_in(request: Request, session: Session) -> tuple[Adviser, AuthToken]:
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotSignedIn
    try:
        return access_adviser_by_token(session, token, kind="session", now=_now())
    except AuthError:
        raise NotSignedIn(expired=True) from None


# Notices after a redirect travel as codes, never as text, so a crafted link cannot put words
# into the console.
FLASH = {
    "no_tickets": "No tickets waiting in your queues.",
    "reply_sent": "Reply sent.",
    "transferred": "Ticket transferred.",
    "closed": "Ticket closed.",
    "shift_added": "Shift added.",
    "limit_reached": "You already hold as many open tickets as you may. Close one first.",
    "not_claimed": "Claim the ticket first: only its holder answers, transfers or closes it.",
    "forbidden": "That is not allowed for your role or shift.",
    "closed_already": "The ticket is already closed.",
    "unknown_queue": "No such queue.",
    "unknown_outcome": "Choose an outcome from the list.",
    "empty": "Write a reply first.",
    "invalid_characters": "The reply holds characters that cannot be sent (such as NUL).",
    "bad_shift": "The shift could not be added: check the city, queue and times (end after start).",
    "call_recorded": "Call recorded; the callback waits for the next try.",
    "settings_saved": "Working language saved.",
    "bad_language": "Choose Finnish, Swedish or English.",
    "callback_closed": "Call recorded; the callback is closed.",
    "taken": "A colleague took that ticket a moment ago.",
    "confirm_close": "Tick the box to confirm closing the ticket.",
    "not_found": "No such ticket on your shift.",
    "note_added": "Note added.",
    "reply_saved": "Saved reply stored.",
    "reply_deleted": "Saved reply deleted.",
    "bad_saved_reply": "Give the saved reply a title and a text.",
    "assigned": "Ticket assigned.",
    "unknown_adviser": "No such colleague.",
}

# Words for the codes the console would otherwise show raw (issue 15); English here, Finnish and
# Swedish in bot/console/words_table.py.
_QUEUE_WORDS = {"employer_advisory": "Employer advisory (PKS)", "callbacks": "Call-backs"}
_REASON_WORDS = {"asked_for_human": "Asked for a person", "not_understood": "Not understood by the assistant",
                 "email": "E-mail", "callback": "Call-back request", "handoff": "Handed over"}
_CHANNEL_WORDS = {"web": "Web chat", "telegram": "Telegram", "email": "E-mail", "phone": "Phone"}
_CONTACT_WORDS = {"channel": "Channel", "email": "E-mail", "name": "Name", "mailbox": "Mailbox", "phone": "Phone",
                  "window": "Call-back window", "window_hours": "Hours", "abandoned": "Hung up in the phone menu",
                  "notify_email": "E-mail for a notice", "notify_phone": "Number for a call-back"}
_STATUS_WORDS = {"queued": "Waiting", "claimed": "Claimed", "closed": "Closed", "open": "Open (waiting or claimed)",
                 "all": "All statuses"}
_CITY_WORDS = {"helsinki": "Helsinki", "espoo": "Espoo", "vantaa": "Vantaa"}
_OUTCOME_WORDS = {"answered": "Answered", "referred": "Referred to another service", "callback_done": "Called back",
                  "no_response": "No response from the customer", "duplicate": "Duplicate", "spam": "Spam",
                  "reached": "Reached the customer", "no_answer": "No answer", "wrong_number": "Wrong number",
                  "busy": "Line busy", "voicemail": "Left a voicemail message"}
_SENDER_WORDS = {"customer": "Customer", "bot": "Luotsi (assistant)", "adviser": "Adviser", "system": "System"}
_ROLE_WORDS = {"adviser": "Adviser", "supervisor": "Supervisor", "admin": "Administrator"}
_SORT_WORDS = {"waited": "Longest wait first", "newest": "Newest first", "priority": "Priority first",
               "language": "By language", "queue": "By queue"}


def labeller(language: str) -> Callable[[str, str | None], str]:
    """`label(kind, code)`: queues, languages, topics, reasons, channels, statuses … in words, in the
    console's language."""
    _ = gettext(language)

    def label(kind: str, value: str | None) -> str:
        if not value:
            return "—"
        if kind == "queue":
            if value.startswith("jobseeker_"):
                area = value.removeprefix("jobseeker_")
                return _("Jobseekers, {area}", area=_(_CITY_WORDS[area]) if area in _CITY_WORDS else area.capitalize())
            return _(_QUEUE_WORDS[value]) if value in _QUEUE_WORDS else value
        if kind == "language":
            name = langid.LANGUAGE_NAMES_EN.get(value, "Unknown" if value == langid.UNDETERMINED else None)
            return _(name) if name else value
        if kind == "topic":
            title = topic_title(value, language)
            if title:
                return title
        words = {"channel": _CHANNEL_WORDS, "contact": _CONTACT_WORDS, "status": _STATUS_WORDS, "city": _CITY_WORDS,
                 "outcome": _OUTCOME_WORDS, "sender": _SENDER_WORDS, "role": _ROLE_WORDS,
                 "sort": _SORT_WORDS}.get(kind, _REASON_WORDS)
        if value in words:
            return _(words[value])
        if kind in ("topic", "reason") and value in _REASON_WORDS:
            return _(_REASON_WORDS[value])
        return value.replace("_", " ").capitalize()
    return label


def label(kind: str, value: str | None) -> str:
    """English words for a code (the API's and tests' view of `labeller`)."""
    return labeller("en")(kind, value)


def console_language(request: Request, me: Adviser | None) -> str:
    """The adviser's working language once signed in; before that, the browser's."""
    if me is not None and me.working_language in LANGUAGES:
        return me.working_language
    return best_language(request.headers.get("accept-language"))


NOTICES = {"reply_sent", "transferred", "closed", "shift_added", "call_recorded", "callback_closed", "settings_saved",
           "note_added", "reply_saved", "reply_deleted", "assigned"}


def _page(request: Request, name: str, me: Adviser | None, row: AuthToken | None, **context: Any) -> HTMLResponse:
    code = request.query_params.get("flash", "")
    language = console_language(request, me)
    _ = gettext(language)
    context.update(me=me, csrf=row.csrf if row else "", local=local, label=labeller(language), _=_, lang=language,
                   flash=_(FLASH[code]) if code in FLASH else None,
                   flash_kind="notice" if code in NOTICES else "error", duration=duration)
    response = templates.TemplateResponse(request, name, context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'unsafe-inline'"
    return response


def duration(seconds: int) -> str:
    """A wait as "2 h 05 min" or "12 min" (the same in fi, sv and en)."""
    minutes = seconds // 60
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _to_login(expired: bool = False) -> RedirectResponse:
    url = "/console/login" + ("?expired=1" if expired else "")
    return RedirectResponse(url, status_code=303)


def _check_csrf(row: AuthToken, sent: str) -> bool:
    return bool(row.csrf) and hmac.compare_digest(row.csrf or "", sent or "")


def check_csrf(row: AuthToken, sent: str) -> None:
    if not _check_csrf(row, sent):
        raise CsrfFailed


LOGIN_ERRORS = {
    "expired": "Your session has expired. Please sign in again.",
    "form": "The form expired. Please try again.",
    "throttled": "Too many failed sign-ins. Wait a few minutes and try again.",
    "wrong": "Wrong username or password.",
}


@router.get("/login", response_class=HTMLResponse)
def read_login(request: Request) -> Response:
    login_csrf = secrets.token_urlsafe(16)
    error = LOGIN_ERRORS["expired"] if request.query_params.get("expired") else None
    response = _page(request, "login.html", None, None, login_csrf=login_csrf, error=error)
    response.set_cookie(LOGIN_COOKIE, login_csrf, httponly=True, samesite="strict", max_age=900)
    return response


@router.post("/login")
def create_login(
    request: Request, session: Db,
    settings: Annotated[Settings, Depends(get_settings)],
    throttle: Annotated[LoginThrottle, Depends(get_throttle)],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _login_error(request, LOGIN_ERRORS["form"], 403)
    client = request.client.host if request.client else "?"
    try:
        throttle.check(username, client)
        adviser = check_credentials(session, username, password)
    except Throttled:
        return _login_error(request, LOGIN_ERRORS["throttled"], 429)
    except AuthError:
        throttle.failed(username, client)
        return _login_error(request, LOGIN_ERRORS["wrong"], 401)
    throttle.succeeded(username, client)
    token, _ = do_issue_token(session, adviser, kind="session", now=_now(),
                              lifetime=timedelta(minutes=settings.session_minutes))
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=settings.base_url.startswith("https"),
                        max_age=settings.session_minutes * 60)
    response.delete_cookie(LOGIN_COOKIE)
    return response


def _login_error(request: Request, message: str, status: int) -> Response:
    login_csrf = secrets.token_urlsafe(16)
    response = _page(request, "login.html", None, None, login_csrf=login_csrf, error=message)
    response.status_code = status
    response.set_cookie(LOGIN_COOKIE, login_csrf, httponly=True, samesite="strict", max_age=900)
    return response


@router.post("/logout")
def create_logout(request: Request, session: Db, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Sign out: the session ends whatever the form carried. Signing out is the one action that
    needs no CSRF token — a forged sign-out costs a sign-in (and the cookie is SameSite=strict),
    while refusing it, or dropping only the cookie, would leave a live session behind."""
    token = request.cookies.get(COOKIE, "")
    if token:
        do_revoke_token(session, token)
    response = _to_login()
    response.delete_cookie(COOKIE)
    return response


def _hours(request: Request) -> OpeningHours:
    return OpeningHours.parse(request.app.state.settings.opening_hours)


@router.get("", response_class=HTMLResponse)
def read_queues_page(request: Request, session: Db) -> Response:
    """The adviser's queues: where they stand (on shift or not), the region's queue figures, their
    own open tickets, and the working list with filters, search, sorting and pages."""
    me, row = _signed_in(request, session)
    now = _now()
    hours = _hours(request)
    queues = shifts.queues_of_adviser(session, me, now)
    filters = worklist.Filters.read(dict(request.query_params))
    page = worklist.worklist(session, me, now, filters, hours)
    mine = session.scalars(select(Ticket).where(Ticket.assigned_to == me.id, Ticket.status == "claimed")
                           .order_by(Ticket.claimed_at)).all()
    depths = svc.queue_depths(session, now)
    for depth in depths:
        oldest = depth["oldest_wait_seconds"]
        depth["waited_open"] = shifts.open_seconds(now - timedelta(seconds=oldest), now, hours) if depth["depth"] else 0
    may_claim = bool(queues) or me.role in ("supervisor", "admin")
    return _page(request, "queues.html", me, row, queues=queues, depths=depths, page=page, mine=mine,
                 working_languages=WORKING_LANGUAGES, translator=request.app.state.translator.enabled,
                 may_claim=may_claim, all_queues=list(session.scalars(select(Queue.code).order_by(Queue.code))),
                 statuses=worklist.STATUSES, sorts=worklist.SORTS, cities=CITIES, channels=CHANNELS,
                 region_waiting=sum(d["depth"] for d in depths), urlencode=urlencode,
                 live_stamp=live.token(live.list_stamp(session)))


WORKING_LANGUAGES = ("fi", "sv", "en")


@router.post("/settings")
def create_settings_page(request: Request, session: Db, working_language: Annotated[str, Form(max_length=8)] = "",
                         csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """The adviser's working language: customer messages are translated into it, replies from it."""
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    if working_language not in WORKING_LANGUAGES:
        return RedirectResponse("/console?flash=bad_language", status_code=303)
    me.working_language = working_language
    session.commit()
    return RedirectResponse("/console?flash=settings_saved", status_code=303)


@router.post("/claim")
def create_claim_page(request: Request, session: Db, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    try:
        ticket = svc.do_claim_next(session, me, _now())
    except svc.TicketError as exc:
        return RedirectResponse(f"/console?flash={exc.code}", status_code=303)
    if ticket is None:
        return RedirectResponse("/console?flash=no_tickets", status_code=303)
    return RedirectResponse(f"/console/tickets/{ticket.id}", status_code=303)


@router.post("/tickets/{ticket_id}/claim")
def create_claim_of_page(ticket_id: str, request: Request, session: Db,
                         csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Claim the ticket chosen in the waiting list (the Somali speaker takes the Somali ticket)."""
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    try:
        ticket = svc.do_claim(session, ticket_id, me, _now())
    except svc.TicketError as exc:
        return RedirectResponse(f"/console?flash={exc.code}", status_code=303)
    return RedirectResponse(f"/console/tickets/{ticket.id}", status_code=303)


def translation_status(message: Message, conversation_language: str | None, working_language: str,
                       translator_on: bool, unavailable: set[int | None]) -> str | None:
    """What happened to a message's translation, as a code the page says in words: `translated`,
    `not_needed`, `no_service`, `failed` (the service did not answer), `pending`, `as_written`."""
    if message.sender == "customer":
        if message.translation:
            return "translated"
        if not message.language or message.language in (langid.UNDETERMINED, working_language):
            return None if message.language == working_language else "unknown_language"
        if not translator_on:
            return "no_service"
        return "failed" if None in unavailable else "pending"
    if message.sender == "adviser":
        if message.translation:
            return "translated"
        if message.id in unavailable:
            return "failed"
        if conversation_language and message.language and message.language != conversation_language \
                and conversation_language != langid.UNDETERMINED:
            return "no_service"
        return "as_written"
    return None


TRANSLATION_WORDS = {
    "translated": "Machine translation",
    "unknown_language": "Not translated: the language was not recognised",
    "no_service": "Not translated: no translation service",
    "failed": "Not translated: the translation service did not answer",
    "pending": "Not translated yet",
    "as_written": "Sent as written, in the customer's language",
}


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def read_ticket_page(ticket_id: str, request: Request, session: Db) -> Response:
    me, row = _signed_in(request, session)
    now = _now()
    try:
        ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
    except svc.TicketError as exc:
        return Response(str(exc), status_code=exc.status)
    until = svc.transcript_until(session, ticket, me, now)
    svc.do_record_view(session, ticket, me, now)
    translator = request.app.state.translator
    do_translate_for_adviser(session, ticket, me, translator, now)
    query = select(Message).where(Message.conversation_id == ticket.conversation_id)
    if until is not None:
        query = query.where(Message.created_at <= until)
    transcript = session.scalars(query.order_by(Message.id)).all()
    conversation = session.get(Conversation, ticket.conversation_id)
    customer_language = conversation.language if conversation else ticket.language
    unavailable = {(e.data or {}).get("message_id") for e in session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "translation_unavailable"))}
    statuses = {m.id: translation_status(m, customer_language, me.working_language, translator.enabled, unavailable)
                for m in transcript}
    assigned = session.get(Adviser, ticket.assigned_to).username if ticket.assigned_to else None  # type: ignore[union-attr]
    notes = replies.notes_of(session, ticket)
    saved = replies.saved_replies(session, me)
    answers = replies.catalogue_answers(customer_language)
    prefill, written_in = replies.prefill(request.query_params.get("insert", ""), saved, answers)
    colleagues = (session.scalars(select(Adviser.username).where(Adviser.active.is_(True)).order_by(Adviser.username))
                  .all() if me.role in ("supervisor", "admin") and ticket.status != "closed" else [])
    return _page(request, "ticket.html", me, row, t=ticket, transcript=transcript, assigned=assigned,
                 files=attachments_of(session, ticket.conversation_id), statuses=statuses,
                 translation_words=TRANSLATION_WORDS, notes=notes, saved=saved, answers=answers,
                 prefill=prefill, written_in=written_in, customer_language=customer_language,
                 earlier=worklist.earlier_tickets(session, ticket), colleagues=colleagues,
                 mine=ticket.assigned_to == me.id, all_queues=list(session.scalars(select(Queue.code))),
                 outcomes=svc.OUTCOMES, call_outcomes=CALL_OUTCOMES,
                 live_stamp=live.token(live.ticket_stamp(session, ticket)))


@router.post("/tickets/{ticket_id}/notes")
def create_note_page(ticket_id: str, request: Request, session: Db,
                     text: Annotated[str, Form(max_length=5000)] = "",
                     csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """An internal note for colleagues: anyone who may open the ticket may add one; never sent."""
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    now = _now()
    try:
        ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
    except svc.TicketError as exc:
        return Response(str(exc), status_code=exc.status)
    if not text.strip():
        return RedirectResponse(f"/console/tickets/{ticket.id}?flash=empty", status_code=303)
    if unusable_characters(text):
        return RedirectResponse(f"/console/tickets/{ticket.id}?flash=invalid_characters", status_code=303)
    replies.do_add_note(session, ticket, me, text.strip(), now)
    return RedirectResponse(f"/console/tickets/{ticket.id}?flash=note_added#notes", status_code=303)


@router.post("/tickets/{ticket_id}/assign")
def create_assign_page(ticket_id: str, request: Request, session: Db,
                       adviser: Annotated[str, Form(max_length=64)] = "",
                       csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    """A supervisor hands the ticket to a named colleague."""
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    try:
        ticket = svc.do_assign(session, ticket_id, me, adviser, _now())
    except svc.TicketError as exc:
        code = {"closed": "closed_already", "unknown_adviser": "unknown_adviser"}.get(exc.code, exc.code)
        return RedirectResponse(f"/console/tickets/{ticket_id}?flash={code}", status_code=303)
    return RedirectResponse(f"/console/tickets/{ticket.id}?flash=assigned", status_code=303)


@router.get("/replies", response_class=HTMLResponse)
def read_replies_page(request: Request, session: Db) -> Response:
    me, row = _signed_in(request, session)
    return _page(request, "replies.html", me, row, saved=replies.saved_replies(session, me),
                 languages=replies.REPLY_LANGUAGES)


@router.post("/replies")
def create_reply_template_page(request: Request, session: Db,
                               title: Annotated[str, Form(max_length=120)] = "",
                               text: Annotated[str, Form(max_length=5000)] = "",
                               language: Annotated[str, Form(max_length=8)] = "",
                               shared: Annotated[str, Form(max_length=8)] = "",
                               csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    try:
        replies.do_save_reply(session, me, title, text, language, shared == "yes", _now())
    except replies.ReplyError:
        return RedirectResponse("/console/replies?flash=bad_saved_reply", status_code=303)
    return RedirectResponse("/console/replies?flash=reply_saved", status_code=303)


@router.post("/replies/{reply_id}/delete")
def delete_reply_template_page(reply_id: int, request: Request, session: Db,
                               csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    if not replies.do_delete_reply(session, me, reply_id):
        return RedirectResponse("/console/replies?flash=forbidden", status_code=303)
    return RedirectResponse("/console/replies?flash=reply_deleted", status_code=303)


STATIC = Path(__file__).parent / "static"


@router.get("/static/console.js")
def read_console_script() -> Response:
    return Response((STATIC / "console.js").read_bytes(), media_type="text/javascript",
                    headers={"Cache-Control": "max-age=300"})


EVENT_POLL_SECONDS = 5.0  # the safety net: a change is normally seen at once through the event bus
EVENT_STREAM_SECONDS = 600.0


async def _woken(subscriptions: list[Any], timeout: float) -> None:
    """Until one of the keys is notified (on this hub or, through Redis, on another) or `timeout`."""
    waits = [asyncio.ensure_future(s.wait(timeout)) for s in subscriptions]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


@router.get("/events")
async def read_console_events(request: Request, ticket: Annotated[str | None, Query(max_length=32)] = None,
                              v: Annotated[str, Query(max_length=32)] = "") -> Response:
    """`text/event-stream`: an event `changed` whenever the list (or, with `ticket`, that ticket: its
    messages, notes or status) changes. The stream wakes on the hubs' change events (bot/services/
    events.py: Redis pub/sub across hubs) and compares a small stamp read from the database, with a
    slow poll as a safety net; the page fetches what changed itself (no ticket data in the stream)."""
    factory = request.app.state.sessionmaker
    bus = request.app.state.events
    conversation: list[str] = []

    def check() -> tuple[Any, ...] | None:
        with factory() as session:
            try:
                me, _ = _signed_in(request, session)
                if ticket is None:
                    return live.list_stamp(session)
                found = svc.access_ticket_by_adviser(session, ticket, me, _now())
                if not conversation:
                    conversation.append(found.conversation_id)
                return live.ticket_stamp(session, found)
            except (NotSignedIn, svc.TicketError):
                return None

    first = await run_in_threadpool(check)
    if first is None:
        return Response(status_code=204)  # EventSource stops on 204: signed out, or no such ticket
    keys = [events.DESK] + ([events.conversation_key(conversation[0])] if conversation else [])

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started, stamp, quiet_since = loop.time(), first, loop.time()
        yield "retry: 3000\n\n"
        if v != live.token(first):  # the page was rendered before a change this stream did not see
            yield "event: changed\ndata: {}\n\n"
        subscriptions = [bus.subscribe(key) for key in keys]
        for s in subscriptions:
            s.__enter__()
        try:
            while loop.time() - started < EVENT_STREAM_SECONDS:
                await _woken(subscriptions, EVENT_POLL_SECONDS)
                if await request.is_disconnected():
                    return
                now_stamp = await run_in_threadpool(check)
                if now_stamp is None:
                    return
                if now_stamp != stamp:
                    stamp, quiet_since = now_stamp, loop.time()
                    yield "event: changed\ndata: {}\n\n"
                elif loop.time() - quiet_since > 15:
                    quiet_since = loop.time()
                    yield ": keep-alive\n\n"
        finally:
            for s in subscriptions:
                s.__exit__(None, None, None)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/callbacks", response_class=HTMLResponse)
def read_callbacks_page(request: Request, session: Db) -> Response:
    """Callbacks by due time, numbers masked (the full number is on the ticket)."""
    me, row = _signed_in(request, session)
    scope = svc.visible_scope(session, me, _now())
    rows = [t for t in callbacks_by_due(session) if svc.in_scope(t, scope) or svc.holds(t, me)]
    return _page(request, "callbacks.html", me, row, callbacks=rows, mask=mask_number)


@router.post("/tickets/{ticket_id}/call")
def create_call_page(ticket_id: str, request: Request, session: Db,
                     outcome: Annotated[str, Form(max_length=32)] = "",
                     csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    def act(ticket: Ticket, me: Adviser, now: datetime) -> str:
        settings: Settings = request.app.state.settings
        ticket, notice = do_record_call(session, ticket, me, outcome, now, OpeningHours.parse(settings.opening_hours))
        if notice is not None:
            do_deliver_reply(session, request.app.state.deliverers, ticket, notice, now)
        return "callback_closed" if ticket.status == "closed" else "call_recorded"
    return _ticket_action(request, session, ticket_id, csrf, act)


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
def read_attachment_page(ticket_id: str, attachment_id: int, request: Request, session: Db) -> Response:
    me, _row = _signed_in(request, session)
    now = _now()
    try:
        ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now)
        attachment = access_attachment_by_ticket(session, ticket, attachment_id, me, now,
                                                 until=svc.transcript_until(session, ticket, me, now))
    except svc.TicketError as exc:
        return Response(str(exc), status_code=exc.status)
    return Response(attachment.data, media_type=attachment.content_type, headers=download_headers(attachment))


def _ticket_action(request: Request, session: Session, ticket_id: str, csrf: str,
                   action: Any) -> Response:
    me, row = _signed_in(request, session)
    check_csrf(row, csrf)
    now = _now()
    try:
        ticket = svc.access_ticket_by_adviser(session, ticket_id, me, now, for_change=True)
        flash = action(ticket, me, now)
    except svc.TicketError as exc:
        code = "closed_already" if exc.code == "closed" else exc.code
        return RedirectResponse(f"/console/tickets/{ticket_id}?flash={code}", status_code=303)
    target = "/console" if flash in ("closed", "transferred", "call_recorded", "callback_closed") \
        else f"/console/tickets/{ticket_id}"
    return RedirectResponse(f"{target}?flash={flash}", status_code=303)


@router.post("/tickets/{ticket_id}/reply")
def create_reply_page(ticket_id: str, request: Request, session: Db,
                      text: Annotated[str, Form(max_length=5000)] = "",
                      written_in: Annotated[str, Form(max_length=8)] = "",
                      csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    def act(ticket: Ticket, me: Adviser, now: datetime) -> str:
        if not text.strip():
            raise svc.TicketError("empty", "Write a reply first.", status=422)
        if unusable_characters(text):
            raise svc.TicketError("invalid_characters", "The reply holds characters that cannot be sent.", status=422)
        message = svc.do_reply(session, ticket, me, text.strip(), now)
        do_translate_reply(session, ticket, message, me, request.app.state.translator, now,
                           written_in=written_in or None)
        do_deliver_reply(session, request.app.state.deliverers, ticket, message, now)
        return "reply_sent"
    return _ticket_action(request, session, ticket_id, csrf, act)


@router.post("/tickets/{ticket_id}/transfer")
def create_transfer_page(ticket_id: str, request: Request, session: Db,
                         queue: Annotated[str, Form(max_length=40)] = "",
                         csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    def act(ticket: Ticket, me: Adviser, now: datetime) -> str:
        svc.do_transfer(session, ticket, me, queue, now)
        return "transferred"
    return _ticket_action(request, session, ticket_id, csrf, act)


@router.post("/tickets/{ticket_id}/close")
def create_close_page(ticket_id: str, request: Request, session: Db,
                      outcome: Annotated[str, Form(max_length=32)] = "",
                      confirm: Annotated[str, Form(max_length=8)] = "",
                      csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    def act(ticket: Ticket, me: Adviser, now: datetime) -> str:
        if confirm != "yes":  # closing is confirmed, not one stray click (the form's checkbox)
            return "confirm_close"
        ticket, notices = svc.do_close(session, ticket, me, outcome, now)
        for notice in notices:
            do_deliver_reply(session, request.app.state.deliverers, ticket, notice, now)
        return "closed"
    return _ticket_action(request, session, ticket_id, csrf, act)


@router.get("/supervisor", response_class=HTMLResponse)
def read_supervisor_page(request: Request, session: Db) -> Response:
    me, row = _signed_in(request, session)
    if me.role not in ("supervisor", "admin"):
        return Response("Supervisors only", status_code=403)
    now = _now()
    breakdown = [
        {"city": city, "language": language, "count": count, "oldest": oldest}
        for city, language, count, oldest in session.execute(
            select(Ticket.city_on_shift, Ticket.language, func.count(), func.min(Ticket.created_at))
            .where(Ticket.status == "queued").group_by(Ticket.city_on_shift, Ticket.language)
        ).all()
    ]
    targets = dict(session.execute(select(Queue.code, Queue.response_target_minutes)).all())
    hours = _hours(request)
    waited = [(t, shifts.open_seconds(t.created_at, now, hours))
              for t in session.scalars(select(Ticket).where(Ticket.status == "queued").order_by(Ticket.created_at))]
    late = [(t, w) for t, w in waited if w > targets.get(t.queue, 60) * 60]
    depths = svc.queue_depths(session, now)
    for depth in depths:
        depth["waited_open"] = max((w for t, w in waited if t.queue == depth["queue"]), default=0)
    today = now.astimezone(shifts.HELSINKI).date()
    start = datetime.combine(today, datetime.min.time(), shifts.HELSINKI).astimezone(timezone.utc)
    week = [
        {"day": s.starts_at.astimezone(shifts.HELSINKI).strftime("%a %d.%m."),
         "start": s.starts_at.astimezone(shifts.HELSINKI).strftime("%H:%M"),
         "end": s.ends_at.astimezone(shifts.HELSINKI).strftime("%H:%M"),
         "queue": s.queue, "city": s.city, "channel": s.channel,
         "today": s.starts_at.astimezone(shifts.HELSINKI).date() == today}
        for s in session.scalars(select(Shift).where(Shift.ends_at > start, Shift.starts_at < start + timedelta(days=7))
                                 .order_by(Shift.starts_at, Shift.queue))
    ]
    from bot.console.employer import coordination_tickets

    return _page(request, "supervisor.html", me, row, depths=depths, breakdown=breakdown,
                 late=late, week=week, cities=CITIES, channels=CHANNELS, coordination=coordination_tickets(session),
                 all_queues=list(session.scalars(select(Queue.code))))


@router.post("/shifts")
def create_shift_page(request: Request, session: Db,
                      city: Annotated[str, Form(max_length=16)] = "",
                      queue: Annotated[str, Form(max_length=40)] = "",
                      channel: Annotated[str, Form(max_length=16)] = "",
                      starts_at: Annotated[str, Form(max_length=40)] = "",
                      ends_at: Annotated[str, Form(max_length=40)] = "",
                      csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    me, row = _signed_in(request, session)
    if me.role not in ("supervisor", "admin"):
        return Response("Supervisors only", status_code=403)
    check_csrf(row, csrf)
    known = set(session.scalars(select(Queue.code)))
    try:
        shift = shifts.check_shift_row({"city": city, "queue": queue, "channel": channel,
                                        "starts_at": starts_at, "ends_at": ends_at}, known, 1)
    except shifts.ShiftError:
        return RedirectResponse("/console/supervisor?flash=bad_shift", status_code=303)
    session.add(shift)
    session.commit()
    return RedirectResponse("/console/supervisor?flash=shift_added", status_code=303)
