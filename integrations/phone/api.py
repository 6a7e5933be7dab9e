"""The phone menu's webhooks: the provider's form parameters in, TwiML out.

    POST /api/phone/voice            an incoming call: greeting and the language menu
    POST /api/phone/menu/{step}      the caller's key press (or its time-out) at each step
    POST /api/phone/status           the call's status callback (a hang-up mid-menu)

The menu itself — the call's way through it, its transcript line, its callback ticket — is
`bot.services.calls`; this module checks the provider's signature, reads the parameters, calls one
service and renders its reply. Every request must carry a valid provider signature (403
otherwise); every answer is a few small queries, well inside the provider's time-out.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from bot.api.deps import get_now, get_settings
from bot.api.errors import error_response
from bot.config import Settings
from bot.locales import render
from bot.schemas.common import ErrorPublic
from bot.services import calls
from bot.services.callbacks import parse_windows, window_values
from bot.services.conversations import in_db
from integrations.phone.signature import check_signature
from integrations.phone.twiml import Response as TwiML
from integrations.phone.twiml import Voices
from nlu import langid

router = APIRouter(prefix="/api/phone", tags=["phone"])
Now = Annotated[datetime, Depends(get_now)]
Config = Annotated[Settings, Depends(get_settings)]


_SIGNED: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "missing or wrong request signature"},
}


class Forbidden(Exception):
    pass


async def _params(request: Request, settings: Settings) -> dict[str, str]:
    """The form parameters, after the provider's signature over them and the URL is checked."""
    form = await request.form()
    params = [(k, str(v)) for k, v in form.multi_items()]
    url = str(request.url)
    if settings.public_url:
        url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not check_signature(settings.phone_auth_token, url, params, request.headers.get("X-Twilio-Signature")):
        raise Forbidden
    return dict(params)


def _xml(doc: TwiML) -> Response:
    return Response(doc.xml(), media_type="application/xml")


def _forbidden() -> Response:
    return error_response(403, "forbidden", "missing or wrong request signature")


def _language_menu(voices: Voices, greeting: bool) -> TwiML:
    doc = TwiML()
    if greeting:
        for lang in calls.GREETED_IN:  # the three service languages of the PKS cities; the others after the menu
            doc.prompt(voices, lang, "sys_phone_greeting", render("sys_phone_greeting", lang).text,
                       render("sys_phone_greeting", "en").text)
    gather = doc.gather("/api/phone/menu/language", num_digits=1, timeout=6)
    for digit, lang in enumerate(calls.LANGUAGES, start=1):
        text = render("sys_phone_language_option", lang, digit=str(digit)).text
        # a language without a voice or recording is offered in English, naming it and saying that
        # the adviser serves in Finnish, Swedish or English with an interpreter
        english = render("sys_phone_language_option_other", "en", digit=str(digit),
                         language_name=langid.LANGUAGE_NAMES_EN.get(lang, lang)).text
        doc.prompt(voices, lang, "sys_phone_language_option", text, english, gather)
    doc.redirect("/api/phone/menu/language")
    return doc


def _gather(doc: TwiML, step: str) -> ET.Element:
    """A menu's answer: one key within six seconds, or — for a phone number — digits ended with #."""
    if step == "number":
        return doc.gather(f"/api/phone/menu/{step}", num_digits=None, finish_on_key="#", timeout=12)
    return doc.gather(f"/api/phone/menu/{step}", num_digits=1, timeout=6)


def render_reply(settings: Settings, reply: calls.CallReply) -> TwiML:
    """The service's reply as TwiML: prompts in the call's language (or its recording, or English).
    Prompts that name the callback windows take their hours from the settings."""
    voices = Voices.parse(settings.phone_voices, settings.phone_recordings)
    if isinstance(reply, calls.AskLanguage):
        return _language_menu(voices, reply.greeting)
    doc = TwiML()
    language = reply.language or "en"
    windows = window_values(parse_windows(settings.callback_windows))

    def say(prompt: calls.Prompt, parent: ET.Element | None = None) -> None:
        values = {**windows, **prompt.values}
        text = render(prompt.key, language, **values).text
        english = render(prompt.key, "en", **values).text
        doc.prompt(voices, language, prompt.key, text, english, parent)

    if isinstance(reply, calls.Goodbye):
        say(reply.prompt)
        doc.hangup()
        return doc
    for prompt in reply.before:
        say(prompt)
    if isinstance(reply, calls.Connect):
        doc.dial(reply.number, action="/api/phone/menu/dialled")
        return doc
    say(reply.prompt, _gather(doc, reply.step))
    doc.redirect(f"/api/phone/menu/{reply.step}")  # silence comes back to the same step, without Digits
    return doc


@router.post("/voice", response_class=Response,
             responses={**_SIGNED, 400: {"model": ErrorPublic, "description": "no CallSid"}})
async def create_call(request: Request, settings: Config, now: Now) -> Response:
    """The incoming-call webhook."""
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    sid = params.get("CallSid", "")[:64]
    if not sid:
        return error_response(400, "bad_request", "CallSid missing")
    await in_db(request.app.state.sessionmaker,
                lambda session: calls.do_start_call(session, call_sid=sid, caller=params.get("From", ""), now=now))
    return _xml(render_reply(settings, calls.AskLanguage(greeting=True)))


@router.post("/menu/{step}", response_class=Response,
             responses={**_SIGNED, 404: {"model": ErrorPublic, "description": "no such call or step"}})
async def create_menu_step(step: str, request: Request, settings: Config, now: Now) -> Response:
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    context = calls.CallContext.from_settings(settings)
    reply = await in_db(request.app.state.sessionmaker, lambda session: calls.do_answer_call_step(
        session, call_sid=params.get("CallSid", "")[:64], step=step, digits=params.get("Digits"),
        dial_status=params.get("DialCallStatus"), now=now, context=context))
    return _xml(render_reply(settings, reply))


@router.post("/status", status_code=204, response_class=Response, responses=_SIGNED)
async def create_status(request: Request, settings: Config, now: Now) -> Response:
    """The call ended: a caller who hung up in the menu may get a callback (see the service)."""
    try:
        params = await _params(request, settings)
    except Forbidden:
        return _forbidden()
    context = calls.CallContext.from_settings(settings)
    await in_db(request.app.state.sessionmaker, lambda session: calls.do_end_call(
        session, call_sid=params.get("CallSid", "")[:64], status=params.get("CallStatus"), now=now, context=context))
    return Response(status_code=204)
