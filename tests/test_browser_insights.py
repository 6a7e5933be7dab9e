"""The supervisors' reports (issue 18) in real headless Chromium: the performance charts are drawn
(five SVG charts, each an image with a name and a description, each with its table), axe-core
finds nothing on either report, and neither page scrolls sideways at 320 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.config import Settings
from bot.console.words import gettext
from tests import factories as f
from tests.conftest import running_hub
from tests.test_insights import HKI, QUESTIONS, _customer, _first_open_day, _seed_week

pytestmark = [pytest.mark.browser]
fi = gettext("fi")


@pytest.fixture
def hub(settings: Settings) -> Iterator[tuple[str, object]]:
    with running_hub(settings) as running:
        yield running


def _seed(app: object) -> None:
    with app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        today = f.now().astimezone(HKI).date()
        _seed_week(db, _first_open_day(today - timedelta(days=today.weekday() + 7)))
        for language, topics in QUESTIONS.items():
            for topic, wordings in topics.items():
                for n, text in enumerate(wordings):
                    _customer(db, f"b-{language}-{topic}-{n}", language, [(text, "fallback")],
                              f.now() - timedelta(days=1))
        f.adviser(db, "sup", role="supervisor")


def _axe(page: Page) -> list[str]:
    """Every axe-core violation (WCAG 2.1 A and AA, best practice), whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in results.response["violations"]]


@pytest.mark.parametrize("width", [1280, 320])
def test_the_reports_draw_their_charts_pass_axe_and_reflow(hub: tuple[str, object], browser: Browser,
                                                           width: int) -> None:
    url, app = hub
    _seed(app)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{url}/console/login")
        page.locator("#username").fill("sup")
        page.locator("#password").fill(f.PASSWORD)
        page.locator("button[type=submit]").click()
        expect(page.locator("h1")).to_have_text(fi("My queues"))
        page.goto(f"{url}/console/supervisor")
        page.get_by_role("link", name=fi("Performance over time: contacts, hand-offs, waits, targets, satisfaction")).click()
        expect(page.locator("h1")).to_have_text(fi("Performance over time"))

        charts = page.locator("svg[role=img]")
        expect(charts).to_have_count(5)
        for i in range(5):
            chart = charts.nth(i)
            assert chart.get_attribute("aria-label")
            assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
            assert chart.locator("rect").count() >= 5  # a bar for each week (zero-high when nothing happened)
            box = chart.bounding_box()
            assert box is not None and box["width"] >= 250 and box["height"] > 100  # drawn, and big enough to read
        median = page.get_by_role("img", name=fi("Wait until claimed, minutes of opening hours"))
        assert " 50," in (median.locator("desc").text_content() or "")
        page.locator("#waits-heading ~ details summary").click()
        expect(page.locator("#waits-heading ~ details table")).to_contain_text("50 min")
        assert _axe(page) == [], "performance"
        if width == 320:
            assert page.evaluate("document.documentElement.scrollWidth") <= 321

        page.goto(f"{url}/console/insights/unanswered")
        expect(page.locator("#lang-fi")).to_be_visible()
        expect(page.locator("main")).to_contain_text("palkkatu")
        assert _axe(page) == [], "unanswered"
        if width == 320:
            assert page.evaluate("document.documentElement.scrollWidth") <= 321
    finally:
        context.close()
