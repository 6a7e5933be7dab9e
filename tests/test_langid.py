"""Language identification: behaviour on the cases the product brief names, and accuracy gates."""

from __future__ import annotations

import random
import time
import unicodedata

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
        ("ez dixwazim bi şêwirmendekî re biaxivim", [], "ku"),  # Kurmanji: no statistical model knows it
        ("kak najti rabotu v espoo", [], "ru"),  # Russian typed in Latin letters
        ("що таке starttiraha", [], "uk"),  # no letter tells, the words do
        ("怎么申请starttiraha", [], "zh"),  # a Finnish term glued to Chinese
        ("merci", [], "fr"),  # a tier-2 thanks alone
        ("بدي اعمل tyonhakuprofiili كيف", [], "ar"),  # a long Finnish word does not outweigh Arabic words
        ("хочу в ammattikorkeakoulu и при этом получать työttömyysetuus", [], "ru"),
        ("sidee ku dhigaa työpaikkailmoitus työmarkkinatori", [], "so"),  # Finnish words set aside
        ("what is nuorten työllistymisseteli", [], "en"),
        ("كم طلب وظيفه لازم ارسل كل شهر", [], "ar"),  # Arabic letters ي ك and no Persian ones
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


def test_independent_set_without_hints_beats_off_the_shelf_detectors() -> None:
    """Issue 14's goal on the third author's short messages, judged alone (no conversation, no
    locale): at least 99.5 %, and ahead of lingua and langdetect over the same messages."""
    stats = evaluate(load_cases(SETS["independent"]))
    langs = [k for k in stats if not k.startswith("_")]
    total = sum(stats[k]["n"] for k in langs)
    assert total >= 500
    ours = sum(stats[k]["no_hints"] for k in langs) / total
    assert ours >= 0.995, f"{ours:.4f}"
    assert ours > sum(stats[k]["lingua"] for k in langs) / total
    assert ours > sum(stats[k]["langdetect"] for k in langs) / total


def test_langdetect_is_asked_only_when_it_could_change_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping langdetect when lingua leads by more than its vote can make up is exact: on every
    evaluation message the language and method are the same as with langdetect always asked."""
    cases = [case for folder in SETS.values() for case in load_cases(folder)]
    quick = [langid.detect(text, hints) for text, _expected, hints in cases]
    monkeypatch.setattr(langid, "_close_call", lambda scores: True)
    always = [langid.detect(text, hints) for text, _expected, hints in cases]
    assert [(d.language, d.method) for d in quick] == [(d.language, d.method) for d in always]
    assert len(cases) > 500


@pytest.mark.parametrize(
    ("text", "hints", "expected"),
    [
        ("½ ¹ ²", [], "und"),  # numerals that are not decimal digits: no letters, not a crash
        ("Ⅻ ³", ["fi"], "und"),
        ("palkkatuki ²", [], "fi"),  # a service name and a numeral: the name decides as before
        ("\udc00", [], "und"),  # a lone surrogate (a JSON escape) is no letter
        ("hello how are you today my friend \udc00", [], "en"),  # lingua never sees the surrogate
        ("kiitos paljon \ud800 hyvää päivää", [], "fi"),
    ],
)
def test_hostile_text_is_decided_not_raised(text: str, hints: list[str], expected: str) -> None:
    assert langid.detect(text, hints).language == expected


def _code_points_by_category() -> dict[str, list[str]]:
    by_category: dict[str, list[str]] = {}
    for cp in range(0x30000):  # the planes in use (BMP, SMP, SIP), surrogates left out
        if not 0xD800 <= cp <= 0xDFFF:
            ch = chr(cp)
            by_category.setdefault(unicodedata.category(ch), []).append(ch)
    return by_category


def test_detect_never_raises_and_is_fast_on_random_text() -> None:
    """A property test without hypothesis: thousands of strings of random code points, weighted
    towards the categories that broke it (No, Nd, Mn, Zs, So) and mixed with real chat words, are
    each decided (a language or 'und') without an exception and within a time bound."""
    langid.warm_up()
    pools = _code_points_by_category()
    categories = sorted(pools)
    hostile = ["No", "Nd", "Nl", "Mn", "Mc", "Me", "Zs", "So", "Sm", "Cc", "Cf", "Co", "Cn", "Lo", "Ll", "Lm", "Po"]
    words = ["kiitos", "palkkatuki", "hello", "привет", "شكرا", "in english", "suomeksi", "https://x.fi", "#tag"]
    rng = random.Random(13)
    slowest = 0.0
    for _ in range(3000):
        length = rng.choice([1, 2, 3, 5, 12, 40, 300])
        roll = rng.random()
        if roll < 0.4:
            mix = rng.sample(hostile, rng.randint(1, 3))
            text = "".join(rng.choice(pools[rng.choice(mix)]) for _ in range(length))
        elif roll < 0.7:
            text = " ".join(rng.choice(pools[rng.choice(hostile)]) + rng.choice(["", rng.choice(words)])
                            for _ in range(length))
        else:
            text = "".join(rng.choice(pools[rng.choice(categories)]) for _ in range(length))
        hints = rng.choice([[], ["fi"], ["ar", "en"], ["xx"], [text[:5]]])
        started = time.perf_counter()
        try:
            found = langid.detect(text, hints, thorough=rng.random() < 0.5)
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"detect raised {type(exc).__name__} on {text!r} with hints {hints!r}")
        slowest = max(slowest, time.perf_counter() - started)
        assert found.language == langid.UNDETERMINED or len(found.language) >= 2
        assert 0.0 <= found.confidence <= 1.0
    assert slowest < 1.0, f"slowest message took {slowest:.3f} s"


@pytest.mark.parametrize(("text", "hints", "expected"), [
    # a language named as a subject never switches: the sentence's own language decides (issue 14)
    ("Jag vill lära mig finska, var börjar jag?", ["sv"], "sv"),
    ("по-фински понимаю совсем мало, как найти работу?", ["ru"], "ru"),
    ("I want to learn Finnish, where do I start?", ["en"], "en"),
    ("Haluan oppia ruotsia, missä on kursseja?", ["fi"], "fi"),
    ("Хочу вивчати фінську мову, де курси?", ["uk"], "uk"),
    ("Tahan õppida soome keelt, kust alustada?", ["et"], "et"),
    ("أريد أن أتعلم اللغة الفنلندية، من أين أبدأ؟", ["ar"], "ar"),
    ("Waxaan rabaa inaan barto af-Finnish, xagee ka bilaabaa?", ["so"], "so"),
    ("My Finnish is weak, can I get a job in English?", ["en"], "en"),
])
def test_a_language_mentioned_is_not_a_request_to_switch(text: str, hints: list[str], expected: str) -> None:
    detection = langid.detect(text, hints)
    assert detection.language == expected and detection.method != "explicit"


@pytest.mark.parametrize(("text", "hints", "expected"), [
    ("suomeksi kiitos", ["en"], "fi"),
    ("voisitko vastata englanniksi", ["fi"], "en"),
    ("kan vi prata finska", ["sv"], "fi"),
    ("can we speak English please", ["fi"], "en"),
    ("можно по-русски?", ["fi"], "ru"),
    ("українською будь ласка", ["ru"], "uk"),
    ("eesti keeles palun", ["fi"], "et"),
    ("بالعربي من فضلك", ["fi"], "ar"),
    ("afka ingiriisiga fadlan", ["so"], "en"),
    ("af-soomaali fadlan", ["en"], "so"),
])
def test_a_request_to_switch_switches_in_every_language(text: str, hints: list[str], expected: str) -> None:
    detection = langid.detect(text, hints)
    assert (detection.language, detection.method) == (expected, "explicit")
