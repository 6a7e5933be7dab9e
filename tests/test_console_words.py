"""The console speaks Finnish, Swedish and English: every text it shows has all three."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.console import pages, privacy
from bot.console.words import best_language, gettext
from bot.console.words_table import WORDS
from nlu import langid

TEMPLATES = Path(pages.__file__).parent / "templates"
_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def console_texts() -> set[str]:
    """Every English text the console can show: `_()` literals in the templates and the console's
    Python, and the word tables the routes translate."""
    found: set[str] = set()
    sources = [p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.html")]
    sources += [p.read_text(encoding="utf-8") for p in Path(pages.__file__).parent.glob("*.py")]
    for source in sources:
        for double, single in _CALL.findall(source):
            found.add(double or single)
    tables = [pages.FLASH, pages.LOGIN_ERRORS, pages.TRANSLATION_WORDS, pages._QUEUE_WORDS, pages._REASON_WORDS,
              pages._CHANNEL_WORDS, pages._CONTACT_WORDS, pages._STATUS_WORDS, pages._CITY_WORDS,
              pages._OUTCOME_WORDS, pages._SENDER_WORDS, pages._ROLE_WORDS, pages._SORT_WORDS,
              langid.LANGUAGE_NAMES_EN, privacy.KIND_LABELS, privacy.COUNT_LABELS, privacy.ERASE_LABELS,
              privacy.KEY_ERRORS]
    for table in tables:
        found.update(table.values())
    found.add("Unknown")
    return found


def test_every_console_text_has_finnish_and_swedish() -> None:
    missing = sorted(t for t in console_texts() if t not in WORDS)
    assert not missing, f"{len(missing)} console texts lack Finnish and Swedish: {missing[:20]}"


def test_translations_keep_their_places_and_are_not_english() -> None:
    places = re.compile(r"\{(\w+)\}")
    for english, (fi, sv) in WORDS.items():
        for text in (fi, sv):
            assert text.strip(), english
            assert set(places.findall(text)) == set(places.findall(english)), (english, text)


@pytest.mark.parametrize(("header", "expected"), [
    ("sv-FI,sv;q=0.9,en;q=0.5", "sv"), ("en-GB,en;q=0.8,fi;q=0.3", "en"), ("de-DE,de;q=0.9", "fi"),
    ("fi;q=0.2,sv;q=0.7", "sv"), ("", "fi"), ("en;q=0,sv;q=bad", "fi"),
])
def test_the_sign_in_page_follows_the_browser(header: str, expected: str) -> None:
    assert best_language(header) == expected


def test_gettext_fills_places_and_falls_back_to_english() -> None:
    assert gettext("en")("Ticket {id}", id="abc") == "Ticket abc"
    assert gettext("fi")("A text nobody wrote {x}", x=1) == "A text nobody wrote 1"
