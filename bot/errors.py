"""Domain errors. Services raise these; only the API layer turns them into HTTP answers."""

from __future__ import annotations

import re


class BadInput(Exception):
    """The client's input cannot be used. `key` names a localised explanation."""

    def __init__(self, code: str, key: str, language: str | None = None, status: int = 422) -> None:
        super().__init__(code)
        self.code = code
        self.key = key
        self.language = language
        self.status = status


class NotFound(Exception):
    """What the client names does not exist (a call, a step of the phone menu); answered 404."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code



# C0 and C1 control characters except tab, newline and carriage return; lone surrogates.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def unusable_characters(text: str) -> str | None:
    """Why a text cannot be taken as a person's message, as an error code, or None when it can.

    'control_characters': NUL or another control character than tab, newline and carriage return
    (they hide text in logs and terminals, and PostgreSQL cannot store NUL). 'invalid_characters':
    a lone surrogate ('\\udc00', possible in a JSON escape), which is not Unicode text and cannot be
    stored or sent anywhere.
    """
    if _CONTROL_RE.search(text):
        return "control_characters"
    if _SURROGATE_RE.search(text):
        return "invalid_characters"
    return None


def check_text_characters(text: str, language: str | None) -> None:
    """BadInput (422, explained in `language`) for a text `unusable_characters` refuses."""
    code = unusable_characters(text)
    if code is not None:
        raise BadInput(code, "sys_error_invalid", language)


def clean_text(text: str) -> str:
    """For channels that cannot refuse a message (mail, Telegram): lone surrogates become U+FFFD and
    the control characters `unusable_characters` refuses are dropped; anything else is kept."""
    return _SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", text))
