"""The one topic list and queue choice (bot/services/topics.py), used by every channel."""

from __future__ import annotations

import pytest

from bot.locales import catalogues, render
from bot.services import tickets, topics


@pytest.mark.parametrize(("topic", "reason", "queue"), [
    ("pay_subsidy", "asked_for_human", "employer_advisory"),
    ("change_security", "not_understood", "employer_advisory"),
    ("employer_other", "asked_for_human", "employer_advisory"),
    ("register_jobseeker", "asked_for_human", "jobseeker_vantaa"),
    ("jobseeker_other", "asked_for_human", "jobseeker_vantaa"),
    (None, "asked_for_human", "jobseeker_vantaa"),
    ("pay_subsidy", "callback", "callbacks"),
    ("request_callback", "asked_for_human", "callbacks"),
])
def test_one_queue_choice_by_topic(topic: str | None, reason: str, queue: str) -> None:
    assert topics.choose_queue(topic, reason, "vantaa") == queue


def test_change_security_goes_first() -> None:
    assert topics.priority_of("change_security") == topics.URGENT > 0
    assert topics.priority_of("pay_subsidy") == topics.priority_of(None) == 0


@pytest.mark.parametrize("text", ["Aloitamme muutosneuvottelut ensi viikolla", "Planned layoffs in March",
                                  "Vi planerar uppsägningar", "Планируем сокращение штата"])
def test_an_employer_writing_about_dismissals_is_urgent(text: str) -> None:
    assert topics.urgent_topic(text, "employer_advisory") == "change_security"
    assert topics.urgent_topic(text, "jobseeker_espoo") is None  # a jobseeker's own dismissal is not the employer's duty


def test_plain_text_is_not_urgent() -> None:
    assert topics.urgent_topic("Haemme kahta kokkia kesäksi", "employer_advisory") is None


def test_every_topic_has_its_common_answer_in_english() -> None:
    english = catalogues()["en"].responses
    assert all(f"utter_{topic}" in english for topic in topics.TOPICS)
    assert render("utter_change_security", "fi").text


def test_employer_topics_are_known_topics() -> None:
    assert topics.EMPLOYER_TOPICS <= topics.TOPICS | topics.OTHER_TOPICS


def test_the_names_stay_importable_from_tickets() -> None:
    assert tickets.choose_queue is topics.choose_queue
    assert tickets.EMPLOYER_TOPICS is topics.EMPLOYER_TOPICS
    assert tickets.PRIORITY_TOPICS is topics.PRIORITY_TOPICS
