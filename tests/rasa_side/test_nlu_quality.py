"""NLU quality gates: intent macro-F1 ≥ 0.90 on both held-out sets and ≥ 95 % right on the independent
questions, in every tier-1 language."""

from __future__ import annotations

import pytest

from scripts.eval_nlu import BLIND_DATA, INDEPENDENT_DATA, TEST_DATA, evaluate

TIER1 = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")


@pytest.mark.parametrize("folder", [TEST_DATA, BLIND_DATA], ids=["held-out", "blind"])
def test_macro_f1_per_language(folder) -> None:  # type: ignore[no-untyped-def]
    results = evaluate(folder)
    assert set(TIER1) <= set(results)
    low = {lang: round(results[lang]["macro_f1"], 3) for lang in TIER1 if results[lang]["macro_f1"] < 0.90}
    assert not low, f"macro-F1 under 0.90: {low}"


def test_independent_questions_right_in_every_language() -> None:
    """Issue 14's goal on the questions written apart from the training data (topic list and facts
    only): at least 95 % understood in every tier-1 language. (`make eval` asks the same questions
    through the chat API and also checks the language of the answer.)"""
    results = evaluate(INDEPENDENT_DATA)
    assert set(TIER1) <= set(results)
    low = {lang: round(results[lang]["accuracy"], 3) for lang in TIER1 if results[lang]["accuracy"] < 0.95}
    assert not low, f"under 95 % on the independent questions: {low}"
