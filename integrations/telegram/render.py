"""Pure render step of the Telegram channel: our outbound messages → Bot API message parameters.

Text goes out with parse mode HTML, so the only escaping needed is `&`, `<` and `>`; the
assistant's buttons become inline keyboards; a long text is split at Telegram's limit of 4096
characters (counted, as Telegram does, in UTF-16 code units) on paragraph, line or word
boundaries, with the keyboard on the last part.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PARSE_MODE = "HTML"
TEXT_LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram keeps
LANGUAGE_PREFIX = "lang:"
TITLE_PREFIX = "t:"

# Each tier-1 language offered in its own name (endonym), in the order of the Espoo service languages.
LANGUAGE_CHOICES: tuple[tuple[str, str], ...] = (
    ("fi", "Suomi"), ("sv", "Svenska"), ("en", "English"), ("ru", "Русский"),
    ("uk", "Українська"), ("et", "Eesti"), ("ar", "العربية"), ("so", "Soomaali"),
)


@dataclass(frozen=True)
class Part:
    """One sendMessage: HTML text and, on the last part, the inline keyboard."""

    text: str
    keyboard: list[list[dict[str, str]]] | None = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> int:
    """The index of the longest prefix of `text` within `limit` UTF-16 units, ending at the best
    boundary there is: a blank line, a line break, a sentence end, a space — or anywhere."""
    units = 0
    end = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            break
        end = index + 1
    window = text[:end]
    for separator in ("\n\n", "\n", ". ", " "):
        at = window.rfind(separator)
        if at > end // 2:
            return at + len(separator)
    return end


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 units, none empty, nothing lost but the
    whitespace at the seams."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        at = _cut(rest, limit)
        head, rest = rest[:at].rstrip(), rest[at:].lstrip()
        if head:
            parts.append(head)
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


def callback_data(title: str, payload: str) -> str:
    """The payload when it fits Telegram's 64 bytes; else the title (pressing a button then means
    the same as typing its title), shortened to fit."""
    if payload and len(payload.encode()) <= CALLBACK_LIMIT:
        return payload
    data = TITLE_PREFIX + title
    while len(data.encode()) > CALLBACK_LIMIT:
        data = data[:-1]
    return data


def text_of_callback(data: str) -> str:
    """What a pressed button says, as the customer's message."""
    return data[len(TITLE_PREFIX):] if data.startswith(TITLE_PREFIX) else data


def language_of_callback(data: str) -> str | None:
    if not data.startswith(LANGUAGE_PREFIX):
        return None
    code = data[len(LANGUAGE_PREFIX):]
    return code if code in dict(LANGUAGE_CHOICES) else None


SCALE_TITLE = 2  # buttons titled this short are a scale (the satisfaction question's 1–5): one row


def keyboard(buttons: Sequence[dict[str, Any]]) -> list[list[dict[str, str]]] | None:
    """Rasa's buttons as an inline keyboard, one per row (their titles are whole phrases); a scale
    of short titles side by side on one row."""
    keys = [{"text": str(b.get("title") or "")[:64] or "…",
             "callback_data": callback_data(str(b.get("title") or ""), str(b.get("payload") or ""))}
            for b in buttons]
    if 1 < len(keys) <= 8 and all(len(k["text"]) <= SCALE_TITLE for k in keys):
        return [keys]
    return [[k] for k in keys] or None


def render(text: str, buttons: Sequence[dict[str, Any]] | None = None, *, label: str | None = None) -> list[Part]:
    """One outbound message as the sendMessage calls that carry it. `label` (the adviser's title)
    is set in bold before the text."""
    pieces = split_text(text, TEXT_LIMIT - (utf16_len(label) + 1 if label else 0))
    rows = keyboard(buttons or [])
    parts = []
    for index, piece in enumerate(pieces):
        body = html.escape(piece, quote=False)
        if label and index == 0:
            body = f"<b>{html.escape(label, quote=False)}</b>\n{body}"
        parts.append(Part(text=body, keyboard=rows if index == len(pieces) - 1 else None))
    return parts
