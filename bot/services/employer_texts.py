"""The texts of employers' structured intake, one catalogue per language
(bot/locales/employer/<lang>.yml): results, supports, duties, next steps, field labels and error
messages for the API, the web form and the chat flow's last message.

All eight tier-1 languages are authored (ar and so still want a native reviewer). A language
without a catalogue gets English, visibly: its results start with that language's fallback marker
from the main catalogue (bot/locales/<lang>.yml).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.locales import catalogues, fill, folder_texts, render

if TYPE_CHECKING:
    from bot.services.employer import FieldError, Submitted

EMPLOYER_DIR = Path(__file__).resolve().parent.parent / "locales" / "employer"
FALLBACK = "en"


def authored() -> list[str]:
    return sorted(p.stem for p in EMPLOYER_DIR.glob("*.yml"))


def language_of(requested: Any) -> str:
    """The answer's language: a language with texts here, else English (unknown codes included)."""
    code = str(requested or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in authored() else FALLBACK


def texts(language: str) -> dict[str, Any]:
    return folder_texts(EMPLOYER_DIR, language_of(language))


def text(section: str, key: str, language: str | None, **values: Any) -> str:
    """One text, English when the language lacks it."""
    found = texts(language_of(language)).get(section, {}).get(key)
    if found is None:
        found = texts(FALLBACK)[section][key]
    return fill(str(found), values)


def _marker(language: str | None) -> str:
    """The visible mark in front of English given to a tier-1 language without employer texts."""
    if not language or language_of(language) == language or language not in catalogues():
        return ""
    return render("sys_fallback_marker", language).text.strip() + " "


def result_messages(submitted: Submitted, *, kind: str, language: str) -> list[str]:
    """What the employer reads after submitting: the ticket number, the supports that may apply or
    the duties that apply, explained, and what happens next."""
    marker = _marker(language)
    messages = [text("results", f"{kind}_received", language, ticket=submitted.ticket_id)]
    if kind == "assignment":
        lines = [text("supports", code, language) for code in submitted.supports]
        messages.append("\n".join([text("results", "supports_intro", language), *("• " + line for line in lines)]))
    else:
        if submitted.duties:
            lines = [text("duties", code, language) for code in submitted.duties]
            messages.append("\n".join([text("results", "duties_intro", language), *("• " + line for line in lines)]))
        else:
            messages.append(text("results", "no_duties", language))
        messages.append(text("results", "coordination" if submitted.coordination else "advisory", language))
    messages.append(text("results", f"next_{kind}", language, ticket=submitted.ticket_id))
    return [marker + messages[0], *messages[1:]] if marker else messages


def field_label(field: str, language: str | None) -> str:
    """"job.languages.0.level" → the label of "job.languages.level" with the row's number."""
    parts = field.split(".")
    number = next((int(p) for p in parts if p.isdigit()), None)
    key = ".".join(p for p in parts if not p.isdigit())
    label = text("fields", key, language) if key in texts(FALLBACK)["fields"] else field
    return f"{label} ({number + 1})" if number is not None else label


def error_text(error: FieldError, language: str | None) -> str:
    return text("errors", error.code, language)


def error_summary(errors: list[FieldError], language: str | None) -> str:
    """One sentence for the API's error message: the intro, then each field and what is wrong."""
    parts = [f"{field_label(e.field, language)} ({e.field}): {error_text(e, language)}" for e in errors]
    return text("errors", "intro", language) + " " + " ".join(parts)
