"""Console routes. Every POST checks the session's CSRF token; every ticket goes through
`access_ticket_by_adviser`; customer text is rendered by Jinja2 with autoescaping."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.api.deps import get_session, get_settings, get_throttle
from bot.config import Settings
from bot.errors import unusable_characters
from bot.locales import topic_title
from bot.models import Adviser, AuthToken, Message, Queue, Shift, Ticket
from bot.models.desk import CHANNELS, CITIES
from bot.services import shifts
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
    from bot.console import privacy  # its routes use this module's helpers: imported once both exist

    app.include_router(router)
    app.include_router(privacy.router)

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
}

# Words for the codes the console would otherwise show raw (issue 15).
_QUEUE_WORDS = {"employer_advisory": "Employer advisory (PKS)", "callbacks": "Call-backs"}
_REASON_WORDS = {"asked_for_human": "Asked for a person", "not_understood": "Not understood by the assistant",
                 "email": "E-mail", "callback": "Call-back request", "handoff": "Handed over"}
_CHANNEL_WORDS = {"web": "Web chat", "telegram": "Telegram", "email": "E-mail", "phone": "Phone"}
_CONTACT_WORDS = {"channel": "Channel", "email": "E-mail", "name": "Name", "mailbox": "Mailbox", "phone": "Phone",
                  "window": "Call-back window", "window_hours": "Hours", "abandoned": "Hung up in the phone menu"}


def label(kind: str, value: str | None) -> str:
    """A code as the console says it: queues, languages, topics, reasons and channels in words."""
    if not value:
        return "—"
    if kind == "queue":
        if value.startswith("jobseeker_"):
            return f"Jobseekers, {value.removeprefix('jobseeker_').capitalize()}"
        return _QUEUE_WORDS.get(value, value)
    if kind == "language":
        return langid.LANGUAGE_NAMES_EN.get(value, "Unknown" if value == langid.UNDETERMINED else value)
    if kind == "topic":
        return topic_title(value, "en") or _REASON_WORDS.get(value) or value.replace("_", " ").capitalize()
    if kind == "channel":
        return _CHANNEL_WORDS.get(value, value)
    if kind == "contact":
        return _CONTACT_WORDS.get(value, value.replace("_", " ").capitalize())
    return _REASON_WORDS.get(value, value.replace("_", " ").capitalize())


def _page(request: Request, name: str, me: Adviser | None, row: AuthToken | None, **context: Any) -> HTMLResponse:
    code = request.query_params.get("flash", "")
    context.update(me=me, csrf=row.csrf if row else "", local=local, label=label, flash=FLASH.get(code),
                   flash_kind="notice" if code in {"reply_sent", "transferred", "closed", "shift_added", "call_recorded",
                                                    "callback_closed", "settings_saved"} else "error")
    response = templates.TemplateResponse(request, name, context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'unsafe-inline'"
    return response


def _to_login(expired: bool = False) -> RedirectResponse:
    url = "/console/login" + ("?expired=1" if expired else "")
    return RedirectResponse(url, status_code=303)


def _check_csrf(row: AuthToken, sent: str) -> bool:
    return bool(row.csrf) and hmac.compare_digest(row.csrf or "", sent or "")


def check_csrf(row: AuthToken, sent: str) -> None:
    if not _check_csrf(row, sent):
        raise CsrfFailed


@router.get("/login", response_class=HTMLResponse)
def read_login(request: Request) -> Response:
    login_csrf = secrets.token_urlsafe(16)
    error = "Your session has expired. Please sign in again." if request.query_params.get("expired") else None
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
        return _login_error(request, "The form expired. Please try again.", 403)
    client = request.client.host if request.client else "?"
    try:
        throttle.check(username, client)
        adviser = check_credentials(session, username, password)
    except Throttled:
        return _login_error(request, "Too many failed sign-ins. Wait a few minutes and try again.", 429)
    except AuthError:
        throttle.failed(username, client)
        return _login_error(request, "Wrong username or password.", 401)
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


@router.get("", response_class=HTMLResponse)
def read_queues_page(request: Request, session: Db) -> Response:
    me, row = _signed_in(request, session)
    now = _now()
    queues = shifts.queues_of_adviser(session, me, now)
    visible = svc.visible_tickets(session, me, now)
    waiting_q = select(Ticket).where(Ticket.status == "queued")
    if visible is not None:
        waiting_q = waiting_q.where(visible)
    waiting = session.scalars(waiting_q.order_by(Ticket.priority.desc(), Ticket.created_at).limit(100)).all()
    mine = session.scalars(select(Ticket).where(Ticket.assigned_to == me.id, Ticket.status == "claimed")).all()
    return _page(request, "queues.html", me, row, queues=queues, depths=svc.queue_depths(session, now),
                 waiting=waiting, mine=mine, working_languages=WORKING_LANGUAGES,
                 translator=request.app.state.translator.enabled)


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
    do_translate_for_adviser(session, ticket, me, request.app.state.translator, now)
    query = select(Message).where(Message.conversation_id == ticket.conversation_id)
    if until is not None:
        query = query.where(Message.created_at <= until)
    transcript = session.scalars(query.order_by(Message.id)).all()
    assigned = session.get(Adviser, ticket.assigned_to).username if ticket.assigned_to else None  # type: ignore[union-attr]
    return _page(request, "ticket.html", me, row, t=ticket, transcript=transcript, assigned=assigned,
                 files=attachments_of(session, ticket.conversation_id),
                 mine=ticket.assigned_to == me.id, all_queues=list(session.scalars(select(Queue.code))),
                 outcomes=svc.OUTCOMES, call_outcomes=CALL_OUTCOMES)


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
                      csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    def act(ticket: Ticket, me: Adviser, now: datetime) -> str:
        if not text.strip():
            raise svc.TicketError("empty", "Write a reply first.", status=422)
        if unusable_characters(text):
            raise svc.TicketError("invalid_characters", "The reply holds characters that cannot be sent.", status=422)
        message = svc.do_reply(session, ticket, me, text.strip(), now)
        do_translate_reply(session, ticket, message, me, request.app.state.translator, now)
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
        ticket, notice = svc.do_close(session, ticket, me, outcome, now)
        if notice is not None:
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
    late = [t for t in session.scalars(select(Ticket).where(Ticket.status == "queued").order_by(Ticket.created_at))
            if now - t.created_at > timedelta(minutes=targets.get(t.queue, 60))]
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
    return _page(request, "supervisor.html", me, row, depths=svc.queue_depths(session, now), breakdown=breakdown,
                 late=late, week=week, cities=CITIES, channels=CHANNELS,
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
