"""The adviser console in real headless Chromium: axe-core on every page, reflow at 320 px, live
updates without a reload, inserting the assistant's answer in the customer's language, shortcuts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.config import Settings
from bot.console.words import gettext
from bot.locales import render
from bot.models import Message, Ticket
from bot.services import shifts
from bot.services.tickets import do_handoff
from tests import factories as f
from tests.conftest import running_hub
from tests.test_browser import _axe_serious

pytestmark = [pytest.mark.browser]

HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
fi = gettext("fi")


@pytest.fixture
def hub(settings: Settings) -> Iterator[tuple[str, object]]:
    with running_hub(settings) as running:
        yield running


def _seed(app: object) -> dict[str, Ticket]:
    with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        f.shift(db, "espoo", "jobseeker_espoo")
        f.shift(db, "espoo", "employer_advisory")
        f.adviser(db, "anna")
        f.adviser(db, "sup", role="supervisor")
        out = {}
        for key, language, text in (("so", "so", "Waxaan rabaa inaan iska diiwaangeliyo shaqo raadiye"),
                                     ("ar", "ar", "أريد التسجيل كباحث عن عمل"),
                                     ("fi", "fi", "Tarvitsen apua työnhakuun, " + "pitkä viesti " * 20)):
            conv = f.conversation(db, f"b-{key}", language=language, text=text)
            out[key] = do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=f.now(),
                                  hours=HOURS, home_area="espoo", reopen_days=7).ticket
        return out


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f.PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(fi("My queues"))


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url} scrolls sideways: {width}px"  # type: ignore[index]


@pytest.mark.parametrize("width", [1280, 320])
def test_every_console_page_passes_axe_and_reflows(hub: tuple[str, object], browser: Browser, width: int) -> None:
    url, app = hub
    tickets = _seed(app)
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{url}/console/login")
        assert _axe_serious(page) == []
        _sign_in(page, url, "sup")
        page.locator(f"form[action='/console/tickets/{tickets['so'].id}/claim'] button").click()
        expect(page.locator("h1")).to_have_text(fi("Ticket {id}", id=tickets["so"].id))
        for path in ("/console", f"/console/tickets/{tickets['so'].id}", f"/console/tickets/{tickets['fi'].id}",
                     "/console/replies", "/console/callbacks", "/console/supervisor", "/console?language=ar"):
            page.goto(f"{url}{path}")
            assert _axe_serious(page) == [], path
            if width == 320:
                _no_sideways_scroll(page)
    finally:
        context.close()


def test_the_open_ticket_and_the_list_update_without_a_reload(hub: tuple[str, object], browser: Browser) -> None:
    url, app = hub
    tickets = _seed(app)
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, url, "anna")
        page.goto(f"{url}/console/tickets/{tickets['ar'].id}")
        with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            db.add(Message(conversation_id=tickets["ar"].conversation_id, sender="customer", text="هل من أحد هناك؟",
                           language="ar", created_at=datetime.now(timezone.utc)))
            db.commit()
        expect(page.locator("#transcript")).to_contain_text("هل من أحد هناك؟", timeout=10_000)
        expect(page.locator("#live-status")).to_have_text(fi("New messages on this ticket."))

        page.goto(f"{url}/console")
        expect(page.locator("#worklist")).not_to_contain_text("Uusi asiakas")
        with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            conv = f.conversation(db, "b-new", language="fi", text="Uusi asiakas kysyy")
            do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=f.now(),
                       hours=HOURS, home_area="espoo", reopen_days=7)
        expect(page.locator("#worklist")).to_contain_text("Uusi asiakas kysyy", timeout=10_000)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["so", "ar"])
def test_the_assistants_answer_goes_into_the_reply_box_in_the_customers_language(
        hub: tuple[str, object], browser: Browser, language: str) -> None:
    url, app = hub
    tickets = _seed(app)
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, url, "anna")
        page.locator(f"form[action='/console/tickets/{tickets[language].id}/claim'] button").click()
        page.locator("#insert-answer").select_option("answer:register_jobseeker")
        before = page.url
        page.locator("form.insert-reply:has(#insert-answer) button").click()
        answer = render("utter_register_jobseeker", language).text
        expect(page.locator("#reply")).to_have_value(answer)
        assert page.url == before  # inserted in place: nothing typed is lost to a reload
        expect(page.locator(f"input[name=written_in][value={language}]")).to_be_checked()
        expect(page.locator("#reply")).to_be_focused()
    finally:
        context.close()


def test_keyboard_shortcuts_and_their_switch(hub: tuple[str, object], browser: Browser) -> None:
    url, app = hub
    tickets = _seed(app)
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, url, "anna")
        page.keyboard.press("/")
        expect(page.locator("#f-q")).to_be_focused()
        page.keyboard.type("diiwaangeliyo")
        page.keyboard.press("Enter")
        expect(page.locator("#worklist")).to_contain_text(tickets["so"].id)
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("c")  # claim the next ticket
        expect(page.locator("h1")).to_contain_text(fi("Ticket {id}", id=""))
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("n")
        expect(page.locator("#note")).to_be_focused()
        page.keyboard.type("Soitan huomenna")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#notes")).to_contain_text("Soitan huomenna")
        # single keys can be turned off (WCAG 2.1.4), and stay off
        page.locator("#shortcuts summary").click()
        page.locator("#shortcuts-toggle").uncheck()
        page.reload()
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("r")
        expect(page.locator("#reply")).not_to_be_focused()
    finally:
        context.close()
