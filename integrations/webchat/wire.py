"""Pure parse (wire → InboundMessage) and render (Turn → wire) for the web chat."""

from __future__ import annotations

import re

from bot.errors import BadInput, check_text_characters
from bot.messages import InboundMessage, Turn
from bot.schemas.common import ButtonPublic, ReplyPublic
from bot.services.language import check_locale
from integrations.webchat.schemas import ChatPublic, ChatRequest, TicketPublic
from nlu import langid

CHANNEL = "web"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def check_conversation_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def parse(body: ChatRequest, *, max_chars: int) -> InboundMessage:
    """Check the widget's request; BadInput (with a localised message) when it is unusable."""
    try:
        language = check_locale(body.locale)
    except ValueError:
        raise BadInput("unknown_locale", "sys_error_invalid", None, status=422) from None
    if not _ID_RE.match(body.conversation_id):
        raise BadInput("invalid_conversation_id", "sys_error_invalid", language)
    check_text_characters(body.text, language)  # NUL, escapes, a lone surrogate: 422, never a 500 at the commit
    text = body.text.strip()
    if not text:
        raise BadInput("empty_text", "sys_error_empty", language)
    if len(text) > max_chars:
        raise BadInput("text_too_long", "sys_error_too_long", language, status=413)
    chosen = body.language
    if chosen is not None and chosen not in langid.TIER1:
        raise BadInput("unknown_language", "sys_error_invalid", language, status=422)
    return InboundMessage(channel=CHANNEL, external_id=body.conversation_id, text=text, locale=body.locale,
                          chosen_language=chosen)


def render(turn: Turn, client_conversation_id: str) -> ChatPublic:
    return ChatPublic(
        conversation_id=client_conversation_id,
        language=turn.language,
        replies=[
            ReplyPublic(text=r.text, buttons=[ButtonPublic(title=b.title, payload=b.payload) for b in r.buttons])
            for r in turn.replies
        ],
        ticket=TicketPublic(id=turn.ticket.id, queue=turn.ticket.queue, status=turn.ticket.status)
        if turn.ticket
        else None,
    )
