"""docs/facts.md, the project's own facts: well formed, sourced and dated, cited by the rules, and
covering every number the answers use. (tests/test_locales.py checks that each answer states the
numbers of the facts it `answers`.)"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.locales import catalogues
from bot.services.guidance_texts import GUIDANCE_DIR
from bot.services.service_needs import load_rules
from nlu import langid

FACTS_FILE = Path(__file__).resolve().parent.parent / "docs" / "facts.md"
CHECKED = date(2026, 12, 5)
GUIDANCE_KEY = re.compile(r"guidance:(services|reasons)\.(\w+)")
FIELDS = {"id", "fact", "source", "from", "checked", "uncertain", "numbers", "answers", "mentions"}


@dataclass(frozen=True)
class Fact:
    id: str
    fact: str
    source: str
    checked: date
    holds_from: date | None
    uncertain: str | None
    numbers: frozenset[str]
    answers: tuple[str, ...]
    mentions: tuple[str, ...]


@lru_cache(maxsize=1)
def raw_facts() -> tuple[dict[str, Any], ...]:
    """Every entry of every ```yaml block of docs/facts.md, in order."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", FACTS_FILE.read_text(encoding="utf-8"), re.S | re.M)
    return tuple(entry for block in blocks for entry in yaml.safe_load(block) or [])


@lru_cache(maxsize=1)
def facts() -> tuple[Fact, ...]:
    return tuple(Fact(id=raw["id"], fact=raw["fact"], source=raw["source"], checked=raw["checked"],
                      holds_from=raw.get("from"), uncertain=raw.get("uncertain"),
                      numbers=frozenset(str(n) for n in raw.get("numbers") or ()),
                      answers=tuple(raw.get("answers") or ()), mentions=tuple(raw.get("mentions") or ()))
                 for raw in raw_facts())


def tokens(text: str) -> list[str]:
    """The numbers a text uses, as docs/facts.md writes them: "€1 260" and "1,260" → "1260",
    "1.3.2026" a date, "B1.1" a level, any script's digits; web addresses and {placeholders} left out."""
    text = re.sub(r"https?://\S+|\{\w+\}", " ", text)
    text = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in text)
    text = re.sub(r"(?<=\d)[\s\u00a0\u202f,.](?=\d{3}(?!\d))", "", text)
    return re.findall(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|(?<![A-Za-z])[ABC][12](?:\.\d)?(?!\d)|\d+(?:[.,]\d+)?", text)


def required_numbers(key: str) -> frozenset[str]:
    """The numbers an answer must state: those of every fact that `answers` it."""
    return frozenset(n for fact in facts() if key in fact.answers for n in fact.numbers)


def allowed_numbers(key: str) -> frozenset[str]:
    return frozenset(n for fact in facts() if key in fact.answers + fact.mentions for n in fact.numbers)


def answer_keys() -> set[str]:
    """Keys the facts may name: the answers (utter_*) and the service-need texts."""
    english = yaml.safe_load((GUIDANCE_DIR / "en.yml").read_text(encoding="utf-8"))
    return ({k for k in catalogues()["en"].responses if k.startswith("utter_")}
            | {f"guidance:services.{code}" for code in english["services"]}
            | {f"guidance:reasons.{key}" for key in english["reasons"]})


def answer_text(language: str, key: str) -> str:
    """The language's own text of `key` (no English fallback)."""
    found = GUIDANCE_KEY.fullmatch(key)
    if found is None:
        return str(catalogues()[language].responses[key]["text"])
    cat = yaml.safe_load((GUIDANCE_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    section, name = found.groups()
    entry = cat[section][name]
    return " ".join(str(entry[part]) for part in ("name", "what", "next")) if section == "services" else str(entry)


# --- the file ------------------------------------------------------------------------------------

def test_the_stale_copy_is_gone() -> None:
    assert not (FACTS_FILE.parent / "FACTS.md").exists()
    assert FACTS_FILE.name == "facts.md"  # (a case-insensitive file system would see one file)


def test_every_fact_has_an_id_a_source_and_a_date() -> None:
    ids = [raw["id"] for raw in raw_facts()]
    assert len(ids) >= 40 and len(ids) == len(set(ids)), "ids are unique"
    for raw in raw_facts():
        assert set(raw) <= FIELDS, (raw["id"], set(raw) - FIELDS)
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", raw["id"]), raw["id"]
        assert len(str(raw.get("fact", ""))) >= 20, raw["id"]
        assert re.search(r"\b[a-z.]+\.fi\b|the review", str(raw.get("source", ""))), (raw["id"], raw.get("source"))
        assert raw.get("checked") == CHECKED, raw["id"]
        assert raw.get("from") is None or isinstance(raw["from"], date), raw["id"]
        assert raw.get("uncertain") is None or len(str(raw["uncertain"])) >= 10, raw["id"]


def test_numbers_are_written_as_the_answers_write_them() -> None:
    for fact in facts():
        for number in fact.numbers:
            assert tokens(f" {number} ") == [number], (fact.id, number)


def test_facts_name_only_keys_that_exist() -> None:
    keys = answer_keys()
    for fact in facts():
        unknown = set(fact.answers + fact.mentions) - keys
        assert not unknown, (fact.id, unknown)
        assert not set(fact.answers) & set(fact.mentions), fact.id
        assert not (fact.answers or fact.mentions) or fact.numbers, f"{fact.id}: names answers but has no numbers"


def test_the_uncertain_facts_of_the_december_review_are_marked() -> None:
    uncertain = {fact.id for fact in facts() if fact.uncertain}
    assert {"pks-employer-advisory", "benefit-amounts", "ohjaamo-age-limit", "ohjaamo-kauniainen",
            "joint-purchase-training", "espoo-subsidy-2027"} <= uncertain


def test_the_rules_cite_facts_that_exist() -> None:
    ids = {fact.id for fact in facts()}
    for rule in load_rules().rules:
        cited = re.match(r"docs/facts\.md ([a-z0-9, -]+)", rule.source)
        assert cited, f"{rule.id}: its source should start with docs/facts.md and fact ids"
        names = {name.strip() for name in cited.group(1).split(",") if name.strip()}
        assert names and names <= ids, (rule.id, names - ids)


# --- the answers ---------------------------------------------------------------------------------

def test_tokens_read_numbers_in_local_styles() -> None:
    assert tokens("up to €1,260 a month, 5 000 €, 1 770 € and 9.000") == ["1260", "5000", "1770", "9000"]
    assert tokens("from 1.3.2026 a 7-day karenssi; level B1.1 (B1); 15–24 or 50+; 5/10/20") == [
        "1.3.2026", "7", "B1.1", "B1", "15", "24", "50", "5", "10", "20"]
    assert tokens("٣ أشهر https://www.kela.fi {years} 19,394 people, 9.7 %") == ["3", "19394", "9.7"]


@pytest.mark.parametrize("lang", langid.TIER1)
def test_every_number_an_answer_uses_is_a_fact(lang: str) -> None:
    problems = {}
    for key in sorted(answer_keys()):
        unexplained = set(tokens(answer_text(lang, key))) - allowed_numbers(key)
        if unexplained:
            problems[key] = sorted(unexplained)
    assert not problems, f"{lang}: numbers no fact in docs/facts.md covers for that answer: {problems}"


@pytest.mark.parametrize("lang", langid.TIER1)
def test_the_service_need_texts_state_their_facts(lang: str) -> None:
    """The answers (utter_*) are checked in tests/test_locales.py; here the service-need texts."""
    problems = {}
    for key in sorted(k for k in answer_keys() if k.startswith("guidance:")):
        missing = required_numbers(key) - set(tokens(answer_text(lang, key)))
        if missing:
            problems[key] = sorted(missing)
    assert not problems, f"{lang}: {problems}"
