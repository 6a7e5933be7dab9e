"""The Telegram render step: escaping for HTML parse mode, splitting at the limit, keyboards."""

from __future__ import annotations

import html

from integrations.telegram import render as wire


def test_text_is_escaped_for_html_parse_mode() -> None:
    parts = wire.render('Kela & <tyomarkkinatori.fi> "quoted" <b>not bold</b>')
    assert parts[0].text == 'Kela &amp; &lt;tyomarkkinatori.fi&gt; "quoted" &lt;b&gt;not bold&lt;/b&gt;'


def test_the_adviser_label_is_bold_and_escaped() -> None:
    parts = wire.render("Hei", label="Neuvoja <Espoo>")
    assert parts[0].text == "<b>Neuvoja &lt;Espoo&gt;</b>\nHei"


def test_long_text_is_split_at_boundaries_within_the_limit_and_nothing_is_lost() -> None:
    paragraph = "Rekisteröidy työnhakijaksi viimeistään ensimmäisenä työttömyyspäivänä. " * 30
    text = "\n\n".join([paragraph.strip()] * 4)
    parts = wire.split_text(text)
    assert len(parts) > 1
    assert all(wire.utf16_len(p) <= wire.TEXT_LIMIT for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert all(p.endswith(".") for p in parts)  # cut at paragraph or sentence ends, not mid-word


def test_limit_counts_utf16_units_like_telegram() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, 3000 code points
    parts = wire.split_text(text)
    assert len(parts) == 2 and all(wire.utf16_len(p) <= wire.TEXT_LIMIT for p in parts)
    assert "".join(parts) == text


def test_one_unbroken_word_is_still_split() -> None:
    parts = wire.split_text("x" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_the_keyboard_sits_on_the_last_part_only() -> None:
    parts = wire.render("a. " * 3000, [{"title": "Talk to an adviser", "payload": "/request_human"}])
    assert [p.keyboard is not None for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].keyboard == [[{"text": "Talk to an adviser", "callback_data": "/request_human"}]]


def test_escaping_happens_after_splitting_so_no_entity_is_cut() -> None:
    text = ("& " * 2500).strip()
    for part in wire.render(text):
        assert html.unescape(part.text).replace("&", "").strip(" ") == ""
        assert "&amp" in part.text and not part.text.endswith("&am")


def test_callback_data_fits_64_bytes() -> None:
    assert wire.callback_data("Pay subsidy", "/pay_subsidy") == "/pay_subsidy"
    long_payload = '/greet{"language": "ar", "something": "' + "x" * 80 + '"}'
    data = wire.callback_data("التحدث مع مستشار في موضوع طويل جدا جدا", long_payload)
    assert len(data.encode()) <= 64 and data.startswith(wire.TITLE_PREFIX)
    assert wire.text_of_callback(data) in "التحدث مع مستشار في موضوع طويل جدا جدا"


def test_language_buttons_are_read_back_only_for_tier1_languages() -> None:
    codes = [wire.language_of_callback(wire.LANGUAGE_PREFIX + code) for code, _name in wire.LANGUAGE_CHOICES]
    assert codes == ["fi", "sv", "en", "ru", "uk", "et", "ar", "so"]
    assert wire.language_of_callback("lang:xx") is None and wire.language_of_callback("/greet") is None
