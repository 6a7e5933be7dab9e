"""NLU quality gate on the held-out test files: intent macro-F1 ≥ 0.90 in every tier-1 language."""

from __future__ import annotations

from scripts.eval_nlu import evaluate

TIER1 = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")


def test_macro_f1_per_language() -> None:
    results = evaluate()
    assert set(TIER1) <= set(results)
    low = {lang: round(results[lang]["macro_f1"], 3) for lang in TIER1 if results[lang]["macro_f1"] < 0.90}
    assert not low, f"macro-F1 under 0.90: {low}"
