"""The translator against a local LibreTranslate-compatible server: protection, masking, cache, time-out."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.services.translation import Translator, protect, restore, similarity
from tests.libretranslate_api import LibreTranslateApi, running_libretranslate


@pytest.fixture
def lt() -> Iterator[LibreTranslateApi]:
    with running_libretranslate() as api:
        yield api


def test_none_translates_nothing_and_says_so() -> None:
    result = Translator.from_setting("none").translate("مرحبا", "ar", "fi")
    assert result.text == "مرحبا" and not result.translated and result.note == "none"


def test_service_names_numbers_links_and_contacts_reach_the_backend_as_placeholders(lt: LibreTranslateApi) -> None:
    text = ("Sain palkkatuki-päätöksen 3.2.2026? Kela maksaa 1 260 € ja 50 %. Soita +358 40 123 4567 "
            "tai maija@firma.fi, katso https://tyomarkkinatori.fi/ohjeet")
    result = Translator.from_setting(lt.url).translate(text, "fi", "ar")
    sent = lt.calls[-1]["q"]
    for kept in ("palkkatuki", "3.2.2026", "Kela", "1 260 €", "50 %", "+358 40 123 4567", "maija@firma.fi",
                 "https://tyomarkkinatori.fi/ohjeet"):
        assert kept not in sent, kept  # the backend never saw it…
        assert kept in result.text, kept  # …and it came back exactly
    assert result.translated and result.reliable and result.text.startswith("[ar] ")


def test_identity_codes_never_leave_and_are_not_copied_into_the_translation(lt: LibreTranslateApi) -> None:
    translator = Translator.from_setting(lt.url)
    result = translator.translate("Henkilötunnukseni on 131052-308T ja tilini FI21 1234 5600 0007 85", "fi", "en")
    assert "131052-308T" not in lt.calls[-1]["q"] and "131052-308T" not in result.text
    assert "[henkilötunnus]" in result.text and "[IBAN]" in result.text
    # the policy can mask more: phone numbers too
    strict = Translator.from_setting(lt.url, mask="hetu,iban,phone")
    assert "[phone]" in strict.translate("soita 040 123 4567", "fi", "en").text


def test_placeholders_restore_in_any_order_and_loss_is_noticed() -> None:
    protected = protect("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, Kela")
    assert protected.text == ", ".join(f"[{n}]" for n in range(12))
    text, intact = restore(" ".join(f"[{n}]" for n in reversed(range(12))), protected)
    assert intact and text.split()[0] == "Kela"
    _, intact = restore("[0] [1]", protected)
    assert not intact


def test_lost_placeholders_make_the_translation_unreliable(lt: LibreTranslateApi) -> None:
    lt.drop_placeholders = True
    translator = Translator.from_setting(lt.url)
    result = translator.translate("Tarvitsen starttiraha-tietoa", "fi", "so")
    assert result.translated and not result.reliable and result.note == "placeholders_lost"
    assert translator.check_reliable("Tarvitsen starttiraha-tietoa", result) is False


def test_translations_are_cached(lt: LibreTranslateApi) -> None:
    translator = Translator.from_setting(lt.url)
    first = translator.translate("Miten haen työvoimakoulutus-paikkaa?", "fi", "ru")
    second = translator.translate("Miten haen työvoimakoulutus-paikkaa?", "fi", "ru")
    assert first == second and translator.calls == 1 and len(lt.calls) == 1
    translator.translate("Miten haen työvoimakoulutus-paikkaa?", "fi", "uk")
    assert translator.calls == 2


def test_a_slow_backend_times_out_and_the_text_goes_through_untranslated(lt: LibreTranslateApi) -> None:
    lt.delay = 3.0
    translator = Translator.from_setting(lt.url, timeout=0.5)
    started = time.monotonic()
    result = translator.translate("Tarvitsen apua", "fi", "ar")
    assert time.monotonic() - started < 2.0
    assert result.text == "Tarvitsen apua" and not result.translated and result.note == "unavailable"


def test_a_failing_or_unreachable_backend_never_raises(lt: LibreTranslateApi) -> None:
    lt.fail = True
    assert Translator.from_setting(lt.url).translate("hei", "fi", "en").note == "unavailable"
    from tests.conftest import free_port

    dead = Translator.from_setting(f"http://127.0.0.1:{free_port()}")
    assert dead.translate("hei", "fi", "en").translated is False


def test_same_language_is_not_sent(lt: LibreTranslateApi) -> None:
    result = Translator.from_setting(lt.url).translate("hei", "fi", "fi")
    assert not result.translated and result.note == "same_language" and lt.calls == []


def test_similarity_of_back_translations() -> None:
    assert similarity("I need help with registration", "i need help with the registration") > 0.7
    assert similarity("I need help with registration", "the weather is nice today") < 0.2
