"""Language identification: behaviour on the cases the product brief names, and accuracy gates."""

from __future__ import annotations

import pytest

from nlu import langid
from scripts.eval_langid import SETS, evaluate, load_cases


@pytest.mark.parametrize(
    ("text", "hints", "expected"),
    [
        ("kiitos", ["ru"], "ru"),  # a Finnish loanword keeps a Russian conversation Russian
        ("ok", ["ar"], "ar"),
        ("ok", ["so"], "so"),
        ("in English please", ["fi"], "en"),  # an explicit request switches at once
        ("suomeksi", ["en"], "fi"),
        ("по-русски пожалуйста", ["en"], "ru"),
        ("på svenska tack", ["fi"], "sv"),
        ("miten haen starttirahaa", [], "fi"),
        ("tyottomyysturva miten haen", [], "fi"),  # Finnish without ä/ö
        ("what is starttiraha and who can get it", ["fi"], "en"),  # a clear message switches
        ("як отримати palkkatuki", [], "uk"),
        ("как получить palkkatuki", [], "ru"),
        ("sidee loo helaa shaqo", [], "so"),
        ("kuidas saada töötutoetust", [], "et"),
        ("كيف اسجل كباحث عن عمل", [], "ar"),
        ("شكرا", ["fi"], "ar"),  # another writing system is strong evidence
        ("12345", [], "und"),
        ("👍", ["fi"], "und"),
        ("", [], "und"),
        ("Ich suche Arbeit in Espoo, können Sie mir helfen?", [], "de"),
        ("من دنبال کار هستم", [], "fa"),
    ],
)
def test_detects(text: str, hints: list[str], expected: str) -> None:
    assert langid.detect(text, hints).language == expected


def test_supported_means_tier_one() -> None:
    assert langid.detect("hyvää päivää, tarvitsen apua työnhakuun", []).supported
    assert not langid.detect("Bonjour, je cherche un travail à Espoo", []).supported


def test_conversation_keeps_language_on_unclear_message() -> None:
    found = langid.detect("ok", [])
    assert langid.conversation_language("fi", found, 1) == "fi"
    switched = langid.detect("Hello, how do I register as a jobseeker?", ["fi"])
    assert langid.conversation_language("fi", switched, 8) == "en"


def test_hint_normalisation() -> None:
    assert langid.normalise_hint("uk_UA") == "uk"
    assert langid.normalise_hint("ar-IQ") == "ar"
    assert langid.normalise_hint("xx") is None
    assert langid.normalise_hint(None) is None


@pytest.mark.parametrize("name", list(SETS))
def test_accuracy_goal(name: str) -> None:
    """The issue's goal: ≥ 98 % overall and no tier-1 language under 95 %, on held-out messages."""
    stats = evaluate(load_cases(SETS[name]))
    langs = [k for k in stats if not k.startswith("_")]
    total = sum(stats[k]["n"] for k in langs)
    correct = sum(stats[k]["ours"] for k in langs)
    assert total >= 250
    assert correct / total >= 0.98, f"{name}: overall {correct / total:.3f}"
    for lang in langid.TIER1:
        assert stats[lang]["n"] >= 30, f"{name}: too few {lang} messages"
        accuracy = stats[lang]["ours"] / stats[lang]["n"]
        assert accuracy >= 0.95, f"{name}: {lang} {accuracy:.3f}"


def test_langdetect_is_asked_only_when_it_could_change_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping langdetect when lingua leads by more than its vote can make up is exact: on every
    evaluation message the language and method are the same as with langdetect always asked."""
    cases = [case for folder in SETS.values() for case in load_cases(folder)]
    quick = [langid.detect(text, hints) for text, _expected, hints in cases]
    monkeypatch.setattr(langid, "_close_call", lambda scores: True)
    always = [langid.detect(text, hints) for text, _expected, hints in cases]
    assert [(d.language, d.method) for d in quick] == [(d.language, d.method) for d in always]
    assert len(cases) > 500
