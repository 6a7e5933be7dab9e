"""The web chat in real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.console.words import gettext

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

fi = gettext("fi")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def test_arabic_question_gets_rtl_arabic_answer(stack, page: Page) -> None:  # type: ignore[no-untyped-def]
    from bot.locales import render

    page.goto(f"{stack.hub_url}/")
    box = page.get_by_role("textbox")
    box.fill("كيف اسجل كباحث عن عمل في فنلندا")
    box.press("Enter")
    answer = page.locator(".luotsi-bot").last
    expected = render("utter_register_jobseeker", "ar").text
    expect(answer).to_contain_text(expected.split("\n")[0][:40], timeout=20_000)
    assert page.locator(".luotsi").get_attribute("dir") == "rtl"
    assert page.locator(".luotsi").get_attribute("lang") == "ar"
    # the screen-reader live region announced the answer
    expect(page.locator(".luotsi-sr[aria-live=polite]")).to_contain_text(expected[:20])
    # the chrome follows the detected language
    expect(page.locator(".luotsi-send")).to_have_text(_ui("ar", "send"))

    # the conversation survives a reload
    page.reload()
    expect(page.locator(".luotsi-bot").last).to_contain_text(expected.split("\n")[0][:40])
    assert page.locator(".luotsi").get_attribute("dir") == "rtl"


def test_keyboard_only_and_buttons(stack, page: Page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.hub_url}/")
    page.keyboard.press("Tab")  # first focusable: the restart button
    page.get_by_role("textbox").focus()
    page.keyboard.type("moi")
    page.keyboard.press("Enter")
    button = page.locator(".luotsi-buttons button").first
    expect(button).to_be_visible(timeout=20_000)
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".luotsi-bot")).to_have_count(3, timeout=20_000)  # disclosure, greeting, the button's answer


def test_customer_text_is_shown_as_text(stack, page: Page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.hub_url}/")
    page.evaluate("window.__xss = false")
    box = page.get_by_role("textbox")
    box.fill('<img src=x onerror="window.__xss=true"> hei')
    box.press("Enter")
    expect(page.locator(".luotsi-you").last).to_contain_text('<img src=x onerror="window.__xss=true">')
    expect(page.locator(".luotsi-bot")).to_have_count(2, timeout=20_000)  # the AI disclosure and the answer
    assert page.evaluate("window.__xss") is False


def test_embeddable_widget_opens_from_one_script_tag(stack, page: Page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{stack.hub_url}/widget-demo")
    launcher = page.locator(".luotsi-launch")
    expect(launcher).to_be_visible()
    launcher.click()
    expect(page.get_by_role("textbox")).to_be_focused()
    page.keyboard.type("What is palkkatuki?")
    page.keyboard.press("Enter")
    expect(page.locator(".luotsi-bot").last).to_contain_text("palkkatuki", timeout=20_000)
    link = page.locator(".luotsi-bot").last.locator("a")
    assert link.get_attribute("href") == "https://tyomarkkinatori.fi"
    page.keyboard.press("Escape")
    expect(page.locator(".luotsi-panel")).to_be_hidden()


def _ui(language: str, key: str) -> str:
    from bot.locales import ui_strings

    return ui_strings(language)[key]


def _staff_the_stack(stack) -> None:  # type: ignore[no-untyped-def]
    from tests import factories as f

    f.staff_the_stack(stack.settings.database_url, "espoo.e2e")


def test_customer_to_adviser_and_back(stack, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    from bot.locales import render
    from tests import factories as f

    _staff_the_stack(stack)
    customer = browser.new_context().new_page()
    adviser = browser.new_context().new_page()
    try:
        customer.goto(f"{stack.hub_url}/")
        box = customer.get_by_role("textbox")
        box.fill("Hei, tarvitsen apua työnhakuun")
        box.press("Enter")
        expect(customer.locator(".luotsi-bot")).to_have_count(2, timeout=20_000)  # the AI disclosure and the answer
        box.fill("haluan puhua ihmisen kanssa")
        box.press("Enter")
        expect(customer.locator(".luotsi-bot").last).to_contain_text(
            render("sys_handoff_on_shift", "fi").text[:30], timeout=20_000)

        adviser.goto(f"{stack.hub_url}/console")  # the browser asks for English; the adviser works in Finnish
        adviser.get_by_label("Username").fill("espoo.e2e")
        adviser.get_by_label("Password").fill(f.PASSWORD)
        adviser.get_by_role("button", name="Sign in").click()
        adviser.get_by_role("button", name=fi("Claim next ticket")).click()
        expect(adviser.locator("h1")).to_contain_text(fi("Ticket {id}", id=""))
        expect(adviser.get_by_label(fi("Transcript"))).to_contain_text("haluan puhua ihmisen kanssa")
        adviser.get_by_label(fi("Your reply (goes to the customer's {channel})", channel=fi("Web chat"))).fill(
            "Hei! Olen neuvoja Espoosta. Miten voin auttaa?")
        adviser.get_by_role("button", name=fi("Send reply")).click()

        # the customer sees the reply without reloading
        expect(customer.locator(".luotsi-adviser")).to_contain_text("Olen neuvoja Espoosta", timeout=15_000)

        adviser.get_by_label(fi("Outcome"), exact=True).select_option("answered")
        adviser.get_by_label(fi("The customer's matter is handled: close the ticket")).check()  # closing is confirmed
        adviser.get_by_role("button", name=fi("Close ticket")).click()
        expect(customer.locator(".luotsi-bot").last).to_contain_text(
            render("sys_ticket_closed", "fi").text[:25], timeout=15_000)

        # the assistant answers the next question again
        box.fill("mitä on starttiraha?")
        box.press("Enter")
        expect(customer.locator(".luotsi-bot").last).to_contain_text(
            render("utter_startup_grant", "fi").text[:40], timeout=20_000)
    finally:
        customer.context.close()
        adviser.context.close()


# --- issue 15: the page follows the browser, a language picker, never-silent hand-off, axe-core ---

def _axe_serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands (WCAG 2.1 A and AA)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                                          "best-practice"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize(("locale", "language"), [("fi-FI", "fi"), ("ar-IQ", "ar"), ("so-SO", "so")])
def test_the_page_follows_the_browser_language_and_passes_axe(stack, browser: Browser, locale: str,  # type: ignore[no-untyped-def]
                                                              language: str) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    try:
        page.goto(f"{stack.hub_url}/")
        # before the first message: the chrome is in the browser's language (the page says lang="fi")
        expect(page.locator(".luotsi-send")).to_have_text(_ui(language, "send"))
        assert page.locator(".luotsi").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert _axe_serious(page) == []
        box = page.get_by_role("textbox")
        box.fill({"fi": "miten haen starttirahaa", "ar": "كيف احصل على مترجم",
                  "so": "sidee loo helaa kaalmada mushaharka palkkatuki"}[language])
        box.press("Enter")
        expect(page.locator(".luotsi-bot")).to_have_count(2, timeout=20_000)
        # the screen-reader names are in the conversation's language
        expect(page.locator(".luotsi-you .luotsi-sr")).to_have_text(_ui(language, "you") + ": ")
        assert _axe_serious(page) == []
    finally:
        context.close()


def test_the_language_picker_switches_the_chat(stack, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{stack.hub_url}/")
        picker = page.get_by_role("combobox", name=_ui("en", "language"))
        assert [o.strip() for o in picker.locator("option").all_inner_texts()][1:] == [
            "Suomi", "Svenska", "English", "Русский", "Українська", "Eesti", "العربية", "Soomaali"]
        picker.select_option("so")
        expect(page.locator(".luotsi-send")).to_have_text(_ui("so", "send"))
        box = page.get_by_role("textbox")
        box.fill("hello")  # a word of any language: the picked language decides
        box.press("Enter")
        expect(page.locator(".luotsi-bot")).to_have_count(2, timeout=20_000)
        assert page.locator(".luotsi-bot").last.locator("span[lang]").get_attribute("lang") == "so"
    finally:
        context.close()


def test_old_quick_replies_stop_acting_and_new_conversation_asks_during_a_handoff(stack, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    from bot.locales import render

    _staff_the_stack(stack)
    page = browser.new_context(locale="fi-FI").new_page()
    try:
        page.goto(f"{stack.hub_url}/")
        box = page.get_by_role("textbox")
        box.fill("moi")
        box.press("Enter")
        first = page.locator(".luotsi-buttons button").first
        expect(first).to_be_enabled(timeout=20_000)
        first.click()
        expect(first).to_be_disabled()
        box.fill("haluan puhua ihmisen kanssa")
        box.press("Enter")
        expect(page.locator(".luotsi-bot").last).to_contain_text(render("sys_handoff_on_shift", "fi").text[:30],
                                                                 timeout=20_000)
        # a follow-up while waiting is answered at once, kept for the adviser
        box.fill("milloin saan vastauksen?")
        box.press("Enter")
        expect(page.locator(".luotsi-bot").last).to_contain_text(render("sys_waiting_on_shift", "fi").text, timeout=20_000)
        asked: list[str] = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.locator(".luotsi-restart").click()
        assert asked == [_ui("fi", "restart_confirm")]
        expect(page.locator(".luotsi-you")).to_have_count(4)  # dismissed: the conversation stays
    finally:
        page.context.close()


def test_on_a_phone_the_widget_fills_the_screen_and_the_launcher_says_what_it_does(stack, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{stack.hub_url}/widget-demo")
        launcher = page.locator(".luotsi-launch")
        expect(launcher).to_have_text(_ui("en", "open"))
        launcher.click()
        box = page.locator(".luotsi-panel").bounding_box()
        assert box is not None and box["width"] >= 359 and box["height"] >= 639
        log = page.locator(".luotsi-log").bounding_box()
        assert log is not None and log["height"] >= 0.5 * 640  # the messages get most of the screen
        assert _axe_serious(page) == []
        page.keyboard.press("Escape")
        expect(launcher).to_have_text(_ui("en", "open"))
        expect(launcher).to_be_visible()
    finally:
        context.close()
