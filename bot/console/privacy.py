"""The data subject's rights in the console, for admins: find one person by one key, see what
Luotsi holds about them (counts and ticket ids, never message bodies on the page), download it as
JSON, and erase it after the admin has typed the key a second time. bot.services.privacy finds,
exports, erases and writes the audit entry; these routes only parse the form and render."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from bot.api.deps import get_session
from bot.config import VAR
from bot.console.pages import _page, _signed_in, check_csrf, console_language
from bot.console.words import gettext
from bot.models import Adviser, AuthToken
from bot.services import privacy as svc

router = APIRouter(prefix="/console/privacy", include_in_schema=False)
Db = Annotated[Session, Depends(get_session)]
KindField = Annotated[str, Form(max_length=32)]
ValueField = Annotated[str, Form(max_length=320)]
CsrfField = Annotated[str, Form(max_length=64)]

# What the admin chooses between, in the service's order. These tables hold the English; the pages
# show them in the console's language (`_(label)` in the templates, words in bot/console/words_table.py).
KIND_LABELS = {
    "conversation_id": "Conversation id",
    "email": "E-mail address",
    "phone": "Phone number",
    "telegram_user_id": "Telegram user id",
}
COUNT_LABELS = {
    "conversations": "Conversations",
    "messages": "Messages",
    "tickets": "Tickets",
    "mail": "Raw e-mails",
    "attachments": "Attachments",
    "phone_calls": "Phone calls",
    "telegram_chats": "Telegram chats",
    "telegram_updates": "Telegram updates",
}
ERASE_LABELS = {
    "conversations": "Conversations deleted",
    "conversations_anonymised": "Conversations kept as empty shells (their tickets remain)",
    "messages": "Messages deleted",
    "tickets_anonymised": "Tickets with personal fields emptied",
    "ticket_events_cleared": "Ticket events with details emptied",
    "mail": "Raw e-mails deleted",
    "attachments": "Attachments deleted",
    "phone_calls": "Phone calls deleted",
    "telegram_chats": "Telegram chats deleted",
    "telegram_updates": "Telegram updates deleted",
    "outbox_files": "Outgoing mail files deleted",
}
# Why a key or its confirmation cannot be used. The page gets the English text and says it in the
# console's language; the service's own message (for the API) is not shown.
KEY_ERRORS = {
    "kind": "Choose the kind of key from the list.",
    "empty": "Enter the value of the key.",
    "conversation_id": "A conversation id is 1 to 255 characters long.",
    "email": "This is not an e-mail address.",
    "phone": "This is not a phone number.",
    "telegram_user_id": "A Telegram user id is a number (digits only).",
    "confirm_empty": "The confirmation is empty. Nothing was erased.",
    "confirm_mismatch": "The confirmation does not match the key. Nothing was erased.",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _admin(request: Request, session: Session) -> tuple[Adviser, AuthToken] | Response:
    """The signed-in admin; other roles get the console's refusal (as the supervisor page does)."""
    me, row = _signed_in(request, session)
    if me.role != "admin":
        _ = gettext(console_language(request, me))
        return Response(_("Admins only"), status_code=403, media_type="text/plain")
    return me, row


def _key(kind: str, value: str) -> svc.PersonKey:
    """The service's check of exactly one key, fed from the form's two fields."""
    if kind not in KIND_LABELS:
        raise svc.PrivacyError("invalid_field", KEY_ERRORS["kind"])
    return svc.check_person_key({kind: value})


def _key_error(kind: str, exc: svc.PrivacyError) -> str:
    """The English words (a KEY_ERRORS value) for why the form's key was refused."""
    if kind not in KIND_LABELS:
        return KEY_ERRORS["kind"]
    if exc.code == "exactly_one_key":  # the one field the form sends was empty
        return KEY_ERRORS["empty"]
    return KEY_ERRORS.get(kind, KEY_ERRORS["kind"])


def _checked(request: Request, session: Session, kind: str, value: str,
             csrf: str) -> tuple[Adviser, AuthToken, svc.PersonKey] | Response:
    """The signed-in admin (after the CSRF check) and the person's key; or the page to answer with."""
    admin = _admin(request, session)
    if isinstance(admin, Response):
        return admin
    me, row = admin
    check_csrf(row, csrf)
    try:
        return me, row, _key(kind, value)
    except svc.PrivacyError as exc:
        return _form(request, me, row, kind=kind, value=value, error=_key_error(kind, exc))


def _form(request: Request, me: Adviser, row: AuthToken, *, kind: str = "email", value: str = "",
          error: str | None = None) -> Response:
    response = _page(request, "privacy.html", me, row, kinds=KIND_LABELS, kind=kind, value=value, error=error)
    if error:
        response.status_code = 422
    return response


@router.get("")
def read_privacy_page(request: Request, session: Db) -> Response:
    """The form: choose the kind of key and enter its value."""
    admin = _admin(request, session)
    if isinstance(admin, Response):
        return admin
    return _form(request, *admin)


@router.post("/export")
def create_export_page(request: Request, session: Db, kind: KindField = "", value: ValueField = "",
                       csrf: CsrfField = "") -> Response:
    """What was found, counted, with ticket ids; the lookup is an export and audited as one."""
    checked = _checked(request, session, kind, value, csrf)
    if isinstance(checked, Response):
        return checked
    me, row, key = checked
    data = svc.do_export_person(session, key, actor=me, now=_now())
    counts = svc.export_counts(data)
    return _page(request, "privacy_found.html", me, row, key=key, kind_label=KIND_LABELS[key.kind],
                 counts=[(COUNT_LABELS[name], n) for name, n in counts.items()], found=any(counts.values()),
                 tickets=data["tickets"], confirm_error=None)


@router.post("/export/download")
def create_export_download(request: Request, session: Db, kind: KindField = "", value: ValueField = "",
                           csrf: CsrfField = "") -> Response:
    """The export as a JSON file (machine-readable: art. 20); the file name holds no personal data."""
    checked = _checked(request, session, kind, value, csrf)
    if isinstance(checked, Response):
        return checked
    me, _row, key = checked
    now = _now()
    data = svc.do_export_person(session, key, actor=me, now=now)
    name = f"luotsi-export-{key.kind}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                       "Cache-Control": "no-store"})


@router.post("/erase")
def create_erasure_page(request: Request, session: Db, kind: KindField = "", value: ValueField = "",
                        confirm: ValueField = "", csrf: CsrfField = "") -> Response:
    """Erase once the admin has typed the key again (the same key after normalising); otherwise the
    confirmation step is shown again and nothing is erased."""
    checked = _checked(request, session, kind, value, csrf)
    if isinstance(checked, Response):
        return checked
    me, row, key = checked
    if not _confirmed(key, confirm):
        problem = "confirm_mismatch" if confirm.strip() else "confirm_empty"
        response = _page(request, "privacy_found.html", me, row, key=key, kind_label=KIND_LABELS[key.kind],
                         counts=None, found=True, tickets=None, confirm_error=KEY_ERRORS[problem])
        response.status_code = 422
        return response
    outbox = getattr(request.app.state, "outbox", VAR / "outbox")
    counts = svc.do_erase_person(session, key, actor=me, now=_now(), forget=request.app.state.forget,
                                 outbox=outbox)
    return _page(request, "privacy_erased.html", me, row, kind_label=KIND_LABELS[key.kind],
                 counts=[(label, counts.get(name, 0)) for name, label in ERASE_LABELS.items()],
                 rasa_forgotten=counts.get("rasa_forgotten"))


def _confirmed(key: svc.PersonKey, confirm: str) -> bool:
    try:
        return bool(confirm.strip()) and svc.check_person_key({key.kind: confirm}) == key
    except svc.PrivacyError:
        return False

