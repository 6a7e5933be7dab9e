"""The one list of topics and the one queue choice, used by every channel.

A topic is what a customer's need is about: an intent the assistant understands (each has an
authored answer `utter_<topic>` in every catalogue) or a phone menu's "something else". The topic
decides the shared queue a hand-off goes to and how far forward in it the ticket stands; a
mailbox's own queue (settings) and a callback's queue override the choice by topic.
"""

from __future__ import annotations

import re

EMPLOYER_QUEUE = "employer_advisory"
CALLBACK_QUEUE = "callbacks"

# The topics the assistant understands; each has a common answer, `utter_<topic>`.
TOPICS = frozenset({
    "register_jobseeker", "unemployment_benefit", "jobseeker_obligations", "initial_interview", "job_search_help",
    "labour_market_training", "self_motivated_study", "startup_grant", "learn_finnish", "competence_centre",
    "youth_services", "interpreter", "contact_info", "recruiting_help", "hiring_supports", "pay_subsidy",
    "espoo_recruitment_subsidy", "youth_employment_voucher", "employment_subsidy_55", "change_security", "joint_purchase_training",
})
# A caller's "something else" in the phone menu: a topic with no common answer.
OTHER_TOPICS = frozenset({"employer_other", "jobseeker_other"})
EMPLOYER_TOPICS = frozenset({
    "recruiting_help", "hiring_supports", "pay_subsidy", "espoo_recruitment_subsidy", "youth_employment_voucher",
    "employment_subsidy_55", "change_security", "joint_purchase_training", "employer_other",
})
URGENT = 10
PRIORITY_TOPICS = {"change_security": URGENT}

# Change negotiations and dismissals an employer writes about go to the front of the queue,
# even before the assistant has read the message.
URGENT_WORDS = re.compile(
    r"muutosneuvottel|muutosturv|irtisano|lomaut|yt-neuvottel|omställning|uppsägning|permitter|"
    r"change negotiation|redundan|dismiss|lay ?offs?\b|сокращени|увольнени|скорочен|звільнен|koondami",
    re.IGNORECASE,
)


def jobseeker_queue(home_area: str) -> str:
    return f"jobseeker_{home_area}"


def choose_queue(topic: str | None, reason: str, home_area: str) -> str:
    """The shared queue for a hand-off: callbacks, the employer advisory or the home area's
    jobseeker advice."""
    if reason == "callback" or topic == "request_callback":
        return CALLBACK_QUEUE
    if topic in EMPLOYER_TOPICS:
        return EMPLOYER_QUEUE
    return jobseeker_queue(home_area)


def priority_of(topic: str | None) -> int:
    return PRIORITY_TOPICS.get(topic or "", 0)


def urgent_topic(text: str, queue: str) -> str | None:
    """"change_security" when `text`, bound for the employer advisory, speaks of change
    negotiations, dismissals or lay-offs; otherwise None."""
    if queue == EMPLOYER_QUEUE and URGENT_WORDS.search(text):
        return "change_security"
    return None
