"""Language self-assessment and service-need mapping: requests and answers of the public API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["A1", "A2", "B1", "B2", "C1", "C2"]
Skill = Literal["listening", "reading", "speaking", "writing"]
Education = Literal["none", "basic", "upper_secondary", "tertiary"]


class AssessmentAnswer(BaseModel):
    skill: Skill
    level: Level
    can: bool


class AssessmentRequest(BaseModel):
    target: Literal["fi", "sv", "en"]
    answers: list[AssessmentAnswer] = Field(max_length=200)


class AssessmentPublic(BaseModel):
    target: str
    skills: dict[str, str | None]  # a CEFR level, "below_A1", or null when the skill was not assessed
    yki: dict[str, int | None]
    citizenship_level: bool
    overall: str | None


class JobseekerProfile(BaseModel):
    """A jobseeker's situation. Every field may be missing: missing means unknown, not false."""

    model_config = ConfigDict(extra="forbid")

    age: int | None = Field(default=None, ge=0, le=120)
    municipality: str | None = Field(default=None, max_length=60)
    education: Education | None = None
    registered_jobseeker: bool | None = None
    unemployed_months: int | None = Field(default=None, ge=0, le=600)
    foreign_language_speaker: bool | None = None
    years_since_first_residence_permit: float | None = Field(default=None, ge=0, le=100)
    finnish_level: Literal["none", "A1", "A2", "B1", "B2", "C1", "C2"] | None = None
    goal: Literal["job", "study", "business"] | None = None
    dismissed: bool | None = None
    years_with_employer: float | None = Field(default=None, ge=0, le=80)


class ServiceNeedsRequest(JobseekerProfile):
    role: Literal["jobseeker", "employer"] | None = None
    employer_goal: Literal["recruit", "layoffs", "training"] | None = None
    company_size: int | None = Field(default=None, ge=0, le=1_000_000)
    dismissals_planned: int | None = Field(default=None, ge=0, le=1_000_000)
    hiree: JobseekerProfile | None = None
    # the language of the `why` texts (a tier-1 language; English by default)
    language: str | None = Field(default=None, max_length=35)


class ServiceNeed(BaseModel):
    code: str
    why: str
    rule: str


class ServiceNeedsPublic(BaseModel):
    services: list[ServiceNeed]
    adviser_needed: bool
    missing: list[str]  # the profile fields that would let more rules decide
    rules_version: int
