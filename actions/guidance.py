"""The guided conversations (language self-assessment, service-need mapping, a callback request,
an employer's recruitment assignment or change-security notice) as one Rasa form.

Rasa owns the dialogue: the intents start `guidance_form`, whose one slot takes each answer as
text; the hub owns the questionnaire (its state lives on the conversation). These actions only
decide: "start this flow" or "this is an answer", returned to the hub in Rasa's response
(actions/commands.py). Whether an answer ends the flow the hub has already worked out before it
asked Rasa and sent along as `metadata.guidance.finishes`, so the form ends in the same turn.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import commands
from actions.handoff import last_topic

FLOW_OF_INTENT = {"language_assessment": "assessment", "service_needs": "needs", "request_callback": "callback",
                  "recruitment_assignment": "assignment", "change_notice": "change_notice"}
EMPLOYER_INTENTS = {"recruiting_help", "hiring_supports", "pay_subsidy", "espoo_recruitment_subsidy", "youth_employment_voucher",
                    "employment_subsidy_55", "change_security", "joint_purchase_training"}
JOBSEEKER_INTENTS = {"register_jobseeker", "unemployment_benefit", "jobseeker_obligations", "initial_interview",
                     "job_search_help", "labour_market_training", "self_motivated_study", "startup_grant",
                     "learn_finnish", "competence_centre", "youth_services", "language_assessment"}
SLOT = "guidance_answer"


def role_hint(tracker: Tracker) -> Optional[str]:
    """Employer or jobseeker, when the topics so far tell (so the mapping need not ask)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name in EMPLOYER_INTENTS:
            return "employer"
        if name in JOBSEEKER_INTENTS:
            return "jobseeker"
    return None


def answer_ends_flow(tracker: Tracker) -> bool:
    """What the hub worked out before asking: this answer completes (or stops) the flow."""
    guidance = commands.hub_metadata(tracker).get("guidance")
    return isinstance(guidance, dict) and bool(guidance.get("finishes"))


class ActionGuidanceStart(Action):
    def name(self) -> str:
        return "action_guidance_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        intent = (tracker.latest_message or {}).get("intent", {}).get("name")
        flow = FLOW_OF_INTENT.get(intent or "", "assessment")
        commands.guidance(dispatcher, start=flow, text=(tracker.latest_message or {}).get("text"),
                          role_hint=role_hint(tracker), topic=last_topic(tracker) if flow == "callback" else None)
        return [SlotSet(SLOT, None)]  # a flow's first step always asks something


class ValidateGuidanceForm(FormValidationAction):
    def name(self) -> str:
        return "validate_guidance_form"

    async def validate_guidance_answer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> Dict[str, Any]:
        text = (tracker.latest_message or {}).get("text") or str(slot_value or "")
        commands.guidance(dispatcher, text=text)
        return {SLOT: "done" if answer_ends_flow(tracker) else None}


class ActionAskGuidanceAnswer(Action):
    """The question is already said (by the start or by the validation); nothing to add."""

    def name(self) -> str:
        return "action_ask_guidance_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        return []


class ActionGuidanceDone(Action):
    def name(self) -> str:
        return "action_guidance_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        return [SlotSet(SLOT, None)]
