"""The catalogue of the self-assessment and the service-need mapping, one file per language
(bot/locales/guidance/<lang>.yml); a language without a file gets English."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.locales import fill, folder_texts
from bot.services.service_needs import NeedsMap, do_map

GUIDANCE_DIR = Path(__file__).resolve().parent.parent / "locales" / "guidance"


def guidance(language: str | None) -> dict[str, Any]:
    return folder_texts(GUIDANCE_DIR, language)


def reason_text(key: str, language: str | None, **values: str) -> str:
    return fill(str(guidance(language)["reasons"].get(key) or guidance("en")["reasons"][key]), values)


def explain_needs(profile: Mapping[str, Any], language: str | None) -> tuple[NeedsMap, list[tuple[str, str, str]]]:
    """The rules' verdict on a profile, and each service as (code, why in `language`, rule id)."""
    result = do_map(profile)
    years = profile.get("years_since_first_residence_permit")
    values = {"years": f"{years:g}"} if isinstance(years, (int, float)) else {}
    return result, [(code, reason_text(why, language, **values), rule) for code, why, rule in result.services]
