"""Language self-assessment and service-need mapping as plain functions over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

from bot.schemas.guidance import (
    AssessmentPublic,
    AssessmentRequest,
    ServiceNeed,
    ServiceNeedsPublic,
    ServiceNeedsRequest,
)
from bot.services import assessment, service_needs
from bot.services.guidance_texts import explain_needs
from nlu import langid

router = APIRouter(prefix="/api", tags=["guidance"])


@router.post("/assessment/language", response_model=AssessmentPublic)
def create_assessment(body: AssessmentRequest) -> AssessmentPublic:
    """CEFR level per YKI skill from "I can…" answers (scoring rules: bot/services/assessment.py)."""
    answers = [assessment.Answer(skill=a.skill, level=a.level, can=a.can) for a in body.answers]
    return AssessmentPublic(**assessment.score(body.target, answers).as_dict())  # type: ignore[arg-type]


@router.post("/service-needs", response_model=ServiceNeedsPublic)
def create_service_needs(body: ServiceNeedsRequest) -> ServiceNeedsPublic:
    """The services that fit a profile, why, whether an adviser is needed, and what is still unknown."""
    profile = body.model_dump(exclude_none=True, exclude={"language"})
    language = langid.normalise_hint(body.language) or "en"
    result, explained = explain_needs(profile, language)
    return ServiceNeedsPublic(
        services=[ServiceNeed(code=code, why=why, rule=rule) for code, why, rule in explained],
        adviser_needed=result.adviser_needed, missing=list(dict.fromkeys(m.split(".")[0] for m in result.missing)),
        rules_version=service_needs.load_rules().version,
    )
