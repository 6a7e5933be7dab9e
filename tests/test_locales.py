"""The catalogues: complete in every tier-1 language, facts and official Finnish names intact."""

from __future__ import annotations

import re

import pytest

from bot.locales import catalogues, render, ui_strings
from nlu import langid
from tests.test_facts import required_numbers, tokens

# Every answer about a service names it by its official Finnish name too (docs/facts.md).
FINNISH_NAMES = {
    "utter_register_jobseeker": ["työmarkkinatori"],
    "utter_unemployment_benefit": ["työttömyyskassa", "peruspäiväraha", "työmarkkinatuki"],
    "utter_jobseeker_obligations": ["karenssi", "työtarjou"],
    "utter_initial_interview": ["alkuhaastattelu"],
    "utter_job_search_help": ["työmarkkinatori"],
    "utter_labour_market_training": ["työvoimakoulutus"],
    "utter_self_motivated_study": ["omaehtoinen opiskelu"],
    "utter_startup_grant": ["starttiraha"],
    "utter_learn_finnish": ["kotoutumiskoulutu"],
    "utter_competence_centre": ["osaamiskeskus"],
    "utter_youth_services": ["ohjaamo"],
    "utter_recruiting_help": ["työmarkkinatori"],
    "utter_hiring_supports": ["palkkatuki", "espoon rekrytointituki", "työllistämistuki", "nuorten työllistymisseteli"],
    "utter_pay_subsidy": ["palkkatuki"],
    "utter_espoo_recruitment_subsidy": ["espoon rekrytointituki"],
    "utter_youth_employment_voucher": ["nuorten työllistymisseteli"],
    "utter_employment_subsidy_55": ["työllistämistuki"],
    "utter_change_security": ["muutosturva"],
    "utter_joint_purchase_training": ["yhteishankintakoulutu"],
}
# Numbers the answers must get exactly right, written in any local style: every number of each fact
# of docs/facts.md that names the answer under `answers` (tests/test_facts.py: and no other number).
NUMBERS = {key: required_numbers(key) for key in sorted(FINNISH_NAMES) if required_numbers(key)}
# Answers that must name every one of their Finnish names (an overview), not just one of them.
NAMES_ALL = {"utter_hiring_supports"}
FORM_ANSWERS = {"sys_callback_ask_window": ("morning", "afternoon")}
ALLOWED_PAGES = ("tyomarkkinatori.fi", "kela.fi", "tyj.fi", "kotoutuminen.fi", "oph.fi", "ohjaamot.fi",
                 "espoo.fi", "hel.fi", "vantaa.fi")


def test_every_tier1_language_has_a_catalogue() -> None:
    assert set(catalogues()) == set(langid.TIER1)


@pytest.mark.parametrize("lang", langid.TIER1)
def test_catalogue_complete(lang: str) -> None:
    english = catalogues()["en"]
    cat = catalogues()[lang]
    assert set(english.responses) <= set(cat.responses), set(english.responses) - set(cat.responses)
    assert set(english.ui) <= set(cat.ui)
    for key, entry in cat.responses.items():
        assert len(entry["text"]) <= 700, key
        assert set(re.findall(r"\{\w+\}", entry["text"])) == set(re.findall(r"\{\w+\}", english.responses[key]["text"]))
        for button in entry.get("buttons") or []:
            # buttons start an intent ("/request_human"), except answers inside a guided conversation
            if key in FORM_ANSWERS:
                assert button["payload"] in FORM_ANSWERS[key], key
            else:
                assert button["payload"].startswith("/"), key


@pytest.mark.parametrize("lang", langid.TIER1)
def test_every_language_offers_the_same_buttons(lang: str) -> None:
    english = catalogues()["en"].responses
    for key, entry in catalogues()[lang].responses.items():
        payloads = [b["payload"] for b in entry.get("buttons") or []]
        assert payloads == [b["payload"] for b in english[key].get("buttons") or []], (lang, key)


# The facts' thresholds read as they are: "50 or over", "under 10" — not "over 50", "up to 10";
# and the employment leave during notice is paid.
NOT_SAID = {"fi": [r"\byli \d"], "sv": [r"\böver \d"], "ru": [r"\bдо (?:10|30)\b(?! ?€)"],
            "uk": [r"\bдо (?:10|30)\b(?! ?€)"]}
PAID_LEAVE = {"en": "paid employment leave", "fi": "palkallista", "sv": "med lön", "ru": "оплачиваемый отпуск",
              "uk": "оплачувана відпустка", "et": "tasustatud", "ar": "مدفوعة", "so": "fasax lacag leh"}


@pytest.mark.parametrize("lang", langid.TIER1)
def test_thresholds_and_paid_leave_read_as_the_facts_say(lang: str) -> None:
    assert PAID_LEAVE[lang] in render("utter_change_security", lang).text.lower(), lang
    for key in sorted(FINNISH_NAMES):
        for pattern in NOT_SAID.get(lang, []):
            assert not re.search(pattern, render(key, lang).text), (lang, key, pattern)


@pytest.mark.parametrize("lang", langid.TIER1)
@pytest.mark.parametrize("key", sorted(FINNISH_NAMES))
def test_service_answers_name_the_finnish_service_and_page(lang: str, key: str) -> None:
    text = render(key, lang).text
    lowered = text.lower()
    if key in NAMES_ALL:
        missing = [name for name in FINNISH_NAMES[key] if name not in lowered]
        assert not missing, f"{lang} {key}: does not name {missing}"
    else:
        assert any(name in lowered for name in FINNISH_NAMES[key]), f"{lang} {key}: no Finnish name"
    pages = re.findall(r"https://(?:www\.)?([a-z.]+\.fi)", text)
    assert pages and all(p in ALLOWED_PAGES for p in pages), f"{lang} {key}: pages {pages}"


def test_the_facts_give_the_answers_their_numbers() -> None:
    assert {"utter_pay_subsidy", "utter_espoo_recruitment_subsidy", "utter_youth_employment_voucher",
            "utter_employment_subsidy_55", "utter_unemployment_benefit", "utter_change_security"} <= set(NUMBERS)
    assert {"1260", "1770", "50", "70", "2026"} <= NUMBERS["utter_pay_subsidy"]


@pytest.mark.parametrize("lang", langid.TIER1)
@pytest.mark.parametrize("key", sorted(NUMBERS))
def test_numbers_match_the_facts(lang: str, key: str) -> None:
    stated = set(tokens(catalogues()[lang].responses[key]["text"]))  # the language's own text
    missing = sorted(NUMBERS[key] - stated)
    assert not missing, f"{lang} {key}: missing {missing} (docs/facts.md)"


@pytest.mark.parametrize("lang", langid.TIER1)
def test_answers_are_written_in_their_language(lang: str) -> None:
    """Authored, not copied: the greeting and a long answer are detected as the language."""
    for key in ("utter_greet", "utter_register_jobseeker", "utter_pay_subsidy", "utter_hiring_supports", "sys_clarify"):
        assert langid.detect(render(key, lang).text).language == lang, key


def test_the_hiring_overview_leads_into_each_support() -> None:
    for lang in langid.TIER1:
        buttons = catalogues()[lang].responses["utter_hiring_supports"]["buttons"]
        assert [b["payload"] for b in buttons] == ["/pay_subsidy", "/espoo_recruitment_subsidy", "/employment_subsidy_55",
                                                   "/youth_employment_voucher", "/request_human"], lang
        assert all(b["title"] == catalogues()[lang].topics[b["payload"][1:]] for b in buttons), lang
        clarify = catalogues()[lang].responses["sys_clarify"]
        assert clarify["text"].rstrip().endswith(("?", "؟")) and not clarify.get("buttons"), lang  # the code adds them


# Every service intent has a short button title per language (the clarifying question's buttons),
# with the official Finnish name; the conversation topics have a title in the language only.
TOPIC_FINNISH = {
    "register_jobseeker": "työnhaki", "unemployment_benefit": "työttömyysetuu", "jobseeker_obligations": "työnhakuvelvollisuu",
    "initial_interview": "alkuhaastattelu", "job_search_help": "työmarkkinatori", "labour_market_training": "työvoimakoulutu",
    "self_motivated_study": "omaehtoi", "startup_grant": "starttiraha", "learn_finnish": "kotoutumiskoulutu",
    "competence_centre": "osaamiskeskus", "youth_services": "ohjaamo", "interpreter": "tulk", "contact_info": "yhteystied",
    "recruiting_help": "rekrytoin", "hiring_supports": "palkkaamisen tu", "pay_subsidy": "palkkatuki",
    "espoo_recruitment_subsidy": "espoon rekrytointituki", "youth_employment_voucher": "työllistymisseteli",
    "employment_subsidy_55": "työllistämistuki", "change_security": "muutosturva", "joint_purchase_training": "yhteishankinta",
}
TOPICS = (*TOPIC_FINNISH, "language_assessment", "service_needs", "request_human", "request_callback")
TITLE_MAX = 44  # Telegram shows about 40 characters on a phone; a few titles need the Finnish name too


@pytest.mark.parametrize("lang", langid.TIER1)
def test_every_language_has_every_topic_title(lang: str) -> None:
    titles = catalogues()[lang].topics
    assert set(titles) == set(TOPICS), set(TOPICS) ^ set(titles)
    for topic, title in titles.items():
        assert title.strip() and "{" not in title and "\n" not in title, (lang, topic)
        assert len(title) <= TITLE_MAX, (lang, topic, len(title))
        if topic in TOPIC_FINNISH:
            assert TOPIC_FINNISH[topic] in title.lower(), (lang, topic, title)
    assert len(set(titles.values())) == len(titles), f"{lang}: two topics share a title"


def test_arabic_numbers_read_right_to_left() -> None:
    """In a right-to-left line "18–29" shows as 29–18 and "+5" as 5+: Arabic says the range and the
    extra in words (the callback texts' example phone number aside)."""
    texts = {k: e["text"] for k, e in catalogues()["ar"].responses.items() if not k.startswith("sys_callback")}
    texts |= {k: str(v) for k, v in catalogues()["ar"].topics.items()}
    for key, text in texts.items():
        assert not re.search(r"\d\s?[–-]\s?\d|\+\d|\d\+", text), (key, text)


def test_missing_text_falls_back_visibly() -> None:
    cat = catalogues()["so"]
    saved = cat.responses.pop("utter_thanks")
    try:
        text = render("utter_thanks", "so").text
    finally:
        cat.responses["utter_thanks"] = saved
    assert text.startswith(catalogues()["so"].responses["sys_fallback_marker"]["text"].strip())
    assert text.endswith(catalogues()["en"].responses["utter_thanks"]["text"])


def test_tier2_language_gets_english_unmarked() -> None:
    assert render("utter_thanks", "fa").text == catalogues()["en"].responses["utter_thanks"]["text"]


def test_ui_strings_fill_from_english() -> None:
    assert ui_strings("ar")["send"] != ui_strings("en")["send"]
    assert ui_strings("fa") == ui_strings("en")


# EU AI Act art. 50: the first answer in every channel says that a program answers, not a person,
# and how to reach one. Per language: the word for "automated" and the word for "person".
AI_DISCLOSURE = {
    "en": ("automat", "person"), "fi": ("automaatti", "ihmi"), "sv": ("automatisk", "människa"),
    "ru": ("автоматическ", "человек"), "uk": ("автоматичн", "люд"), "et": ("automaat", "inimene"),
    "ar": ("آلي", "إنسان"), "so": ("kombiyuutar", "qof"),
}
FIRST_ANSWERS = ("sys_ai_disclosure", "sys_telegram_start", "sys_mail_ack", "sys_phone_greeting")


@pytest.mark.parametrize("lang", langid.TIER1)
@pytest.mark.parametrize("key", FIRST_ANSWERS)
def test_first_answers_say_a_program_answers_and_how_to_reach_a_person(lang: str, key: str) -> None:
    assert set(AI_DISCLOSURE) == set(langid.TIER1)
    text = catalogues()[lang].responses[key]["text"].lower()  # the language's own text, no fallback
    automated, person = AI_DISCLOSURE[lang]
    assert automated in text and person in text, f"{lang} {key}"


@pytest.mark.parametrize("lang", langid.TIER1)
def test_the_ai_disclosure_is_written_in_its_language(lang: str) -> None:
    assert langid.detect(render("sys_ai_disclosure", lang).text).language == lang
