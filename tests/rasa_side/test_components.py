"""The custom NLU components and the fallback action, in the Rasa environment (.venv-rasa)."""

from __future__ import annotations

from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from nlu.components import LanguageIdentifier, Stemmer, age_word, fold, stem


def _identify(text: str, metadata: dict | None = None) -> Message:
    component = LanguageIdentifier(LanguageIdentifier.get_default_config())
    message = Message(data={"text": text, "metadata": metadata or {}})
    component.process([message])
    return message


def test_language_is_put_on_every_message_and_in_the_output() -> None:
    message = _identify("Miten haen starttirahaa?")
    assert message.get("language")["language"] == "fi"
    assert 0.0 < message.get("language")["confidence"] <= 1.0
    assert message.get("language")["supported"] is True
    assert "language" in message.as_dict(only_output_properties=True)
    assert message.get("entities")[0]["entity"] == "language"
    assert message.get("entities")[0]["value"] == "fi"


def test_hints_from_the_hub_keep_a_short_message_in_the_conversation_language() -> None:
    message = _identify("ok", {"language_hints": ["ar"]})
    assert message.get("entities")[0]["value"] == "ar"


def test_undetermined_message_leaves_the_slot_alone() -> None:
    message = _identify("12345")
    assert message.get("language")["language"] == "und"
    assert not message.get("entities")


def test_bad_metadata_is_ignored() -> None:
    message = _identify("hej, hur mår du", {"language_hints": "sv"})
    assert message.get("language")["language"] == "sv"


def test_fold() -> None:
    assert fold("Työttömyysturva") == "tyottomyysturva"
    assert fold("Päivää") == "paivaa"
    assert fold("Йога") == "йога"
    assert fold("أهلاً") == "اهلا"
    assert fold("شكراااا") == "شكرا"


def test_stemmer_folds_case_and_diacritics() -> None:
    # Somali has no stemmer: both forms are the folded word
    assert _stemmed("Työttömyysturva PÄIVÄRAHA", {"language": "so"}) == [
        ("tyottomyysturva", "tyottomyysturva"), ("paivaraha", "paivaraha")]


def _stemmed(text: str, metadata: dict | None = None) -> list[tuple[str, str]]:
    message = _identify(text, metadata)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process([message])
    Stemmer().process([message])
    return [(t.text, t.lemma) for t in message.get("text_tokens")]


def test_stemmer_gives_word_ngrams_stems_and_char_ngrams_folded_words() -> None:
    assert _stemmed("Joudumme irtisanomaan") == [("joudumme", "joudu"), ("irtisanomaan", "irtisanom")]
    assert _stemmed("нужно сократить сотрудников")[2] == ("сотрудников", "сотрудник")
    # Ukrainian has no Snowball stemmer: pymorphy3's dictionary gives the lemma
    assert _stemmed("мусимо звільнити працівників")[2] == ("працівників", "працівник")
    # the hub's decision chooses the stemmer; a language without one keeps the folded word
    assert _stemmed("shaqaalaha waan dhimaynaa", {"language": "so"})[0] == ("shaqaalaha", "shaqaalaha")


def test_stem_is_the_same_for_inflected_forms() -> None:
    assert stem("työttömyysturvasta", "fi") == stem("työttömyysturva", "fi")
    assert stem("uppsägningar", "sv") == stem("uppsägning", "sv")
    assert stem("сокращения", "ru") == stem("сокращение", "ru")


def test_an_age_becomes_a_word_the_classifier_can_learn() -> None:
    assert age_word("haluttais palkata 22-vuotias joka on ollu työttömänä") == "age18to29"
    assert age_word("vi funderar på att anställa en 60-åring") == "age55plus"
    assert age_word("عمره ٥٨ سنة") == "age55plus"  # Arabic-Indic digits
    assert age_word("wiilkeyga 20 jir ah") == "age18to29"
    assert age_word("парня 23 лет") == "age18to29"
    # years of work, money and head counts are not ages
    assert age_word("olen ollut 20 vuotta töissä") is None
    assert age_word("worked 20 years here") is None
    assert age_word("palkkatuki 50 % 1260 euroa, 25 työntekijää") is None
    assert [lemma for _text, lemma in _stemmed("hiring a 24-year-old")][-1] == "age18to29"
