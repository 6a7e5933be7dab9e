"""NLU quality gate: intent macro-F1 ≥ 0.90 in every tier-1 language, on both held-out sets."""

from __future__ import annotations

import pytest

from scripts.eval_nlu import BLIND_DATA, TEST_DATA, evaluate

TIER1 = ("fi", "sv", "en", "ru", "uk", "et", "ar", "so")


@pytest.mark.parametrize("folder", [TEST_DATA, BLIND_DATA], ids=["held-out", "blind"])
def test_macro_f1_per_language(folder) -> None:  # type: ignore[no-untyped-def]
    results = evaluate(folder)
    assert set(TIER1) <= set(results)
    low = {lang: round(results[lang]["macro_f1"], 3) for lang in TIER1 if results[lang]["macro_f1"] < 0.90}
    assert not low, f"macro-F1 under 0.90: {low}"
