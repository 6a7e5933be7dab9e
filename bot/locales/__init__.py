"""One catalogue per language (<lang>.yml beside this file) serves every channel.

A text missing in a language falls back to English *visibly*: the language's own
`sys_fallback_marker` is put in front of it, never silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.messages import Button, OutboundMessage

LOCALE_DIR = Path(__file__).resolve().parent
FALLBACK_LANGUAGE = "en"


class UnknownKey(KeyError):
    """No catalogue, not even English, has this key."""


@dataclass(frozen=True)
class Catalogue:
    language: str
    name: str
    responses: dict[str, dict[str, Any]]
    ui: dict[str, str]
    # a short button title per topic (intent), with the service's official Finnish name
    topics: dict[str, str]
    # the days of the week, Monday first, as a time is said: "Monday 07.12.2026 08:00"
    weekdays: tuple[str, ...]


def _load(path: Path) -> Catalogue:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Catalogue(
        language=data["language"],
        name=data.get("name", data["language"]),
        responses=data.get("responses") or {},
        ui={k: str(v) for k, v in (data.get("ui") or {}).items()},
        topics={k: str(v) for k, v in (data.get("topics") or {}).items()},
        weekdays=tuple(str(d) for d in data.get("weekdays") or ()),
    )


@lru_cache(maxsize=1)
def catalogues() -> dict[str, Catalogue]:
    return {p.stem: _load(p) for p in sorted(LOCALE_DIR.glob("*.yml"))}


def languages() -> list[str]:
    return list(catalogues())


@lru_cache(maxsize=64)
def folder_texts(folder: Path, language: str | None) -> dict[str, Any]:
    """One language's file of a per-language text folder (bot/locales/guidance, employer,
    employer_flow): `<folder>/<language>.yml`, English for a language without its own file."""
    path = folder / f"{language}.yml"
    if not language or not language.isalpha() or not path.exists():
        path = folder / "en.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def fill(text: str, values: dict[str, Any]) -> str:
    """`{name}` placeholders replaced by their values (the catalogues' one template rule)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def _to_message(entry: dict[str, Any], variables: dict[str, str], prefix: str = "") -> OutboundMessage:
    text = fill(str(entry.get("text", "")), variables)
    buttons = tuple(
        Button(title=str(b["title"]), payload=str(b["payload"])) for b in entry.get("buttons") or []
    )
    return OutboundMessage(text=prefix + text, buttons=buttons)


def render(key: str, language: str | None, **variables: str) -> OutboundMessage:
    """The text `key` in `language`; English, marked, when that language lacks it.

    A language with no catalogue at all (tier 2) gets English unmarked: the tier-2 notice
    already told the customer that answers come in English.
    """
    cats = catalogues()
    cat = cats.get(language or "")
    if cat and key in cat.responses:
        return _to_message(cat.responses[key], variables)
    english = cats[FALLBACK_LANGUAGE]
    if key not in english.responses:
        raise UnknownKey(key)
    prefix = ""
    if cat is not None:
        marker = cat.responses.get("sys_fallback_marker", english.responses["sys_fallback_marker"])
        prefix = str(marker.get("text", "")).strip() + " "
    return _to_message(english.responses[key], variables, prefix)


def ui_strings(language: str | None) -> dict[str, str]:
    """The widget's chrome in `language`, English for any string it lacks."""
    cats = catalogues()
    strings = dict(cats[FALLBACK_LANGUAGE].ui)
    cat = cats.get(language or "")
    if cat:
        strings.update(cat.ui)
    return strings


def topic_title(topic: str, language: str | None) -> str | None:
    """A topic's button title in `language`, English when that language lacks it; None for a
    topic no catalogue names."""
    cats = catalogues()
    cat = cats.get(language or "")
    if cat and topic in cat.topics:
        return cat.topics[topic]
    return cats[FALLBACK_LANGUAGE].topics.get(topic)


HELSINKI = ZoneInfo("Europe/Helsinki")


def local_time(at: datetime, language: str | None) -> str:
    """A moment as the customer reads it, in Finnish time with the weekday in their language:
    "Monday 07.12.2026 08:00", "maanantai 07.12.2026 08:00"."""
    local = at.astimezone(HELSINKI)
    cats = catalogues()
    days = (cats.get(language or "") or cats[FALLBACK_LANGUAGE]).weekdays or cats[FALLBACK_LANGUAGE].weekdays
    day = days[local.weekday()] if len(days) == 7 else ""
    return f"{day} {local.strftime('%d.%m.%Y %H:%M')}".strip()
