"""Language self-assessment: CEFR level per YKI skill from "I can…" answers, and the adaptive order
of the questions.

Scoring (also the contract of `POST /api/assessment/language`):
- A skill's level is the highest level the person says they can do *together with every level
  below it*: going up from A1, the first level answered "not yet" ends the climb. A level that was
  not asked does not end it — the adaptive questions skip levels that the answers already imply —
  so "B1 yes, B2 no" is B1, and the inconsistent "A1 no, B1 yes" is below A1. When a level is
  answered twice, the later answer counts.
- A skill with answers but no level reached is "below_A1"; a skill without answers is null
  (not assessed).
- YKI levels: A1=1 … C2=6; below A1 and not assessed are null.
- `citizenship_level`: the language is Finnish or Swedish and YKI 3 (B1) or higher is reached in
  speaking+writing, listening+writing or reading+speaking (docs/FACTS.md).
- `overall`: the lower median of the assessed skills (below A1 counting as the lowest step):
  the level that at least half of the assessed skills reach while no more than half are above it.
  With four skills it is the second lowest. A single strong skill cannot lift it, a single weak
  one cannot sink it. Null when no skill was assessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
SKILLS = ("listening", "reading", "speaking", "writing")
TARGETS = ("fi", "sv", "en")
BELOW_A1 = "below_A1"
CITIZENSHIP_PAIRS = (("speaking", "writing"), ("listening", "writing"), ("reading", "speaking"))
CITIZENSHIP_YKI = 3
START = "B1"  # the adaptive questions start here: most customers are near A2/B1


@dataclass(frozen=True)
class Answer:
    skill: str
    level: str
    can: bool


@dataclass(frozen=True)
class Result:
    target: str
    skills: dict[str, str | None]
    yki: dict[str, int | None]
    citizenship_level: bool
    overall: str | None

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "skills": dict(self.skills), "yki": dict(self.yki),
                "citizenship_level": self.citizenship_level, "overall": self.overall}


def yki_of(level: str | None) -> int | None:
    return LEVELS.index(level) + 1 if level in LEVELS else None


def _rank(level: str) -> int:
    return 0 if level == BELOW_A1 else LEVELS.index(level) + 1


def skill_level(answers: Iterable[Answer]) -> str | None:
    said: dict[str, bool] = {}
    for answer in answers:
        said[answer.level] = answer.can  # a later answer to the same level counts
    if not said:
        return None
    reached = BELOW_A1
    for level in LEVELS:
        if said.get(level) is False:
            break
        if said.get(level) is True:
            reached = level
    return reached


def overall_level(levels: Sequence[str]) -> str | None:
    if not levels:
        return None
    ranked = sorted(levels, key=_rank)
    return ranked[(len(ranked) - 1) // 2]


def score(target: str, answers: Iterable[Answer]) -> Result:
    answers = list(answers)
    skills = {skill: skill_level(a for a in answers if a.skill == skill) for skill in SKILLS}
    yki = {skill: yki_of(level) for skill, level in skills.items()}
    citizenship = target in ("fi", "sv") and any(
        (yki[a] or 0) >= CITIZENSHIP_YKI and (yki[b] or 0) >= CITIZENSHIP_YKI for a, b in CITIZENSHIP_PAIRS)
    overall = overall_level([level for level in skills.values() if level is not None])
    return Result(target=target, skills=skills, yki=yki, citizenship_level=citizenship, overall=overall)


def next_question(answers: Sequence[Answer], skills: Sequence[str] = SKILLS) -> tuple[str, str] | None:
    """The next (skill, level) to ask, or None when every skill is placed.

    Per skill a binary search over below-A1 … C2 that starts at B1: yes → C1, then C2 or B2;
    no → A1, then A2. At most three questions a skill, twelve in all.
    """
    for skill in skills:
        said = {a.level: a.can for a in answers if a.skill == skill}
        level = _next_for_skill(said)
        if level is not None:
            return skill, level
    return None


def _next_for_skill(said: dict[str, bool]) -> str | None:
    if START not in said:
        return START
    if said[START]:
        if "C1" not in said:
            return "C1"
        if said["C1"]:
            return None if "C2" in said else "C2"
        return None if "B2" in said else "B2"
    if "A1" not in said:
        return "A1"
    if not said["A1"]:
        return None
    return None if "A2" in said else "A2"


MAX_QUESTIONS = len(SKILLS) * 3
