"""Service-need mapping: a profile → the services that fit, why, and what more would be needed.

The rules are data (bot/rules/service_needs.yml, versioned, each with rationale and source); this
module only evaluates them, in three-valued logic: a field the profile does not give is unknown,
never false. A rule fires when every condition holds; a rule whose known conditions hold but that
needs unknown fields does not fire, and those fields are what more would be needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "service_needs.yml"
SERVICE_CODES = (
    "register_jobseeker", "unemployment_benefit", "ohjaamo", "koske", "osaamiskeskus", "integration_plan",
    "kotoutumiskoulutus", "omaehtoinen_opiskelu", "tyovoimakoulutus", "starttiraha", "palkkatuki",
    "tyollistamistuki_55", "espoo_rekrytointituki", "nuorten_tyollistymisseteli", "muutosturva", "muutosturva_55",
    "rekrytointipalvelu", "yhteishankintakoulutus", "adviser",
)
JOBSEEKER_FIELDS = ("age", "municipality", "education", "registered_jobseeker", "unemployed_months",
                    "foreign_language_speaker", "years_since_first_residence_permit", "finnish_level", "goal",
                    "dismissed", "years_with_employer")
EMPLOYER_FIELDS = ("employer_goal", "company_size", "dismissals_planned", "hiree")
OPERATORS = ("in", "lt", "lte", "gt", "gte")


class RulesError(ValueError):
    """The rules file is malformed (caught by the tests, never at a customer's turn)."""


@dataclass(frozen=True)
class Rule:
    id: str
    service: str
    why: str
    when: dict[str, Any]
    any: tuple[dict[str, Any], ...]
    adviser: bool
    rationale: str
    source: str


@dataclass(frozen=True)
class Rules:
    version: int
    updated: str
    rules: tuple[Rule, ...]


@dataclass
class NeedsMap:
    """The outcome: services in rule order (one entry per service), whether an adviser is needed,
    and the fields that would let more rules decide (dotted for the hiree's: "hiree.age")."""

    services: list[tuple[str, str, str]] = field(default_factory=list)  # (code, reason key, rule id)
    adviser_needed: bool = False
    missing: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def load_rules(path: Path = RULES_FILE) -> Rules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = []
    for raw in data["rules"]:
        rule = Rule(id=str(raw["id"]), service=str(raw["service"]), why=str(raw["why"]),
                    when=dict(raw.get("when") or {}), any=tuple(dict(a) for a in raw.get("any") or ()),
                    adviser=bool(raw.get("adviser", False)), rationale=str(raw["rationale"]),
                    source=str(raw["source"]))
        if rule.service not in SERVICE_CODES:
            raise RulesError(f"rule {rule.id}: unknown service {rule.service!r}")
        for cond in (rule.when, *rule.any):
            for name, test in cond.items():
                if isinstance(test, dict) and (not test or set(test) - set(OPERATORS)):
                    raise RulesError(f"rule {rule.id}: bad condition on {name}: {test!r}")
        rules.append(rule)
    return Rules(version=int(data["version"]), updated=str(data["updated"]), rules=tuple(rules))


_UNKNOWN = object()


def _value(profile: Mapping[str, Any], name: str) -> Any:
    current: Any = profile
    for part in name.split("."):
        if not isinstance(current, Mapping) or current.get(part) is None:
            return _UNKNOWN
        current = current[part]
    return current


def _holds(value: Any, test: Any) -> bool:
    if not isinstance(test, dict):
        return bool(value == test)
    for op, expected in test.items():
        if op == "in":
            ok = value in expected
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return False
            ok = {"lt": value < expected, "lte": value <= expected, "gt": value > expected,
                  "gte": value >= expected}[op]
        if not ok:
            return False
    return True


def _check(profile: Mapping[str, Any], conditions: Mapping[str, Any]) -> tuple[bool | None, list[str]]:
    """True, False, or None (undecided) with the unknown fields."""
    unknown = []
    for name, test in conditions.items():
        value = _value(profile, name)
        if value is _UNKNOWN:
            unknown.append(name)
        elif not _holds(value, test):
            return False, []
    return (None, unknown) if unknown else (True, [])


def _decide(profile: Mapping[str, Any], rule: Rule) -> tuple[bool | None, list[str]]:
    verdict, unknown = _check(profile, rule.when)
    if verdict is False or not rule.any:
        return verdict, unknown
    alternatives = [_check(profile, alt) for alt in rule.any]
    if any(v is True for v, _ in alternatives):
        return verdict, unknown
    if all(v is False for v, _ in alternatives):
        return False, []
    return None, unknown + [name for v, names in alternatives if v is None for name in names]


def do_map(profile: Mapping[str, Any], rules: Rules | None = None) -> NeedsMap:
    rules = rules or load_rules()
    out = NeedsMap()
    seen: set[str] = set()
    missing: list[str] = []
    for rule in rules.rules:
        verdict, unknown = _decide(profile, rule)
        if verdict is True:
            out.adviser_needed = out.adviser_needed or rule.adviser
            if rule.service not in seen:
                seen.add(rule.service)
                out.services.append((rule.service, rule.why, rule.id))
        elif verdict is None:
            missing += [u for u in unknown if u not in missing]
    out.missing = missing  # "hiree.age" stays dotted: the chat asks about the hiree field by field
    return out
