"""The catalogue of the self-assessment and the service-need mapping, one file per language
(bot/locales/guidance/<lang>.yml); a language without a file gets English."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

GUIDANCE_DIR = Path(__file__).resolve().parent.parent / "locales" / "guidance"


@lru_cache(maxsize=16)
def guidance(language: str | None) -> dict[str, Any]:
    path = GUIDANCE_DIR / f"{language}.yml"
    if not language or not language.isalpha() or not path.exists():
        path = GUIDANCE_DIR / "en.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def reason_text(key: str, language: str | None, **values: str) -> str:
    text = str(guidance(language)["reasons"].get(key) or guidance("en")["reasons"][key])
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
