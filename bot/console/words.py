"""The console's own words in Finnish, Swedish and English (the advisers' working languages).

Templates and routes write the English text, `_("Claim next ticket")`; this table gives the
Finnish and Swedish for each. A text missing here shows in English (tests/test_console_words.py
fails on any `_()` text without both). Customer-facing texts are not here: they live in the
catalogues of bot/locales, in every tier-1 language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.console.words_table import WORDS

LANGUAGES = ("fi", "sv", "en")
DEFAULT = "fi"


def gettext(language: str) -> Callable[..., str]:
    """`_(text, **values)` for one console language; `{name}` places are filled from `values`."""
    column = {"fi": 0, "sv": 1}.get(language)

    def _(text: str, **values: Any) -> str:
        out = text
        if column is not None:
            pair = WORDS.get(text)
            if pair is not None:
                out = pair[column]
        return out.format(**values) if values else out
    return _


def best_language(accept_language: str | None, offered: Iterable[str] = LANGUAGES) -> str:
    """The first of fi/sv/en the browser asks for (`Accept-Language`, by weight), else Finnish."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in offered and weight > 0:
            choices.append((-weight, index, code))
    return min(choices)[2] if choices else DEFAULT
