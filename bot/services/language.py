"""The hub's use of the shared language identifier: which language a conversation is in."""

from __future__ import annotations

from dataclasses import dataclass

from nlu import langid


@dataclass(frozen=True)
class LanguageDecision:
    detected: langid.Detection
    conversation_language: str
    hints: tuple[str, ...]  # what the Rasa component gets, so both sides decide alike


def check_locale(locale: str | None) -> str | None:
    """The language code of a client locale, None when absent; ValueError when unknown."""
    if locale is None or locale == "":
        return None
    code = langid.normalise_hint(locale)
    if code is None:
        raise ValueError(locale)
    return code


def chosen_language(code: str) -> LanguageDecision:
    """The customer picked the language themselves (a language button): no detection needed."""
    return LanguageDecision(detected=langid.Detection(code, 1.0, "chosen"), conversation_language=code,
                            hints=(code,))


def decide_language(text: str, previous: str | None, locale: str | None, *, thorough: bool = True) -> LanguageDecision:
    """Detect this message's language and the conversation's language after it.

    The conversation's language so far is the strongest hint; the client locale comes next
    and also stands in for "so far" on the first message.
    """
    locale_code = langid.normalise_hint(locale)
    start = previous if previous and previous != langid.UNDETERMINED else locale_code
    hints = tuple(h for h in dict.fromkeys([start, locale_code]) if h)
    detected = langid.detect(text, list(hints), thorough=thorough)
    language = langid.conversation_language(hints[0] if hints else None, detected, langid.word_count(text))
    return LanguageDecision(detected=detected, conversation_language=language, hints=hints)
