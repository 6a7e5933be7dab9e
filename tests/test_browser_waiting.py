"""Issue 15 in the web chat, in real headless Chromium: outside opening hours the hand-off offers a
notice or a call-back as quick replies, in Finnish, Arabic (right to left) and Somali; axe-core finds
no serious or critical violation with the offer on screen; the e-mail button asks for the address,
and the address typed is confirmed masked.

The hub runs under uvicorn with its own empty roster (nobody on shift: closed) and a Rasa stand-in
that hands every conversation to the desk; the session's full stack is not used, because other
browser tests put a shift on every queue of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bot.config import Settings
from bot.locales import render
from bot.models import Ticket
from bot.services import queue_position, shifts
from bot.services.tickets import do_handoff
from tests import factories as f
from tests.conftest import MailCapture, running_hub
from tests.test_browser import _axe_serious
from tests.test_chat_decisions import rasa_deciding
from tests.test_waiting_contact import ASKING, HANDOFF

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, relay: tuple[str, MailCapture]) -> Iterator[tuple[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("waiting")
    with rasa_deciding(lambda _body: HANDOFF) as rasa_url:
        settings = Settings(database_url=f"sqlite:///{tmp / 'luotsi.db'}", rasa_url=rasa_url, smtp_relay=relay[0])
        with running_hub(settings) as (url, app):
            yield url, app


@pytest.fixture(scope="module")
def hub_url(hub: tuple[str, Any]) -> str:
    return hub[0]


@pytest.mark.parametrize(("locale", "language", "address", "masked"), [
    ("fi-FI", "fi", "maija.meikalainen@example.fi", "m***@example.fi"),
    ("ar-IQ", "ar", "amina.ali@example.org", "a***@example.org"),
    ("so-SO", "so", "cali.warsame@example.so", "c***@example.so"),
])
def test_the_offer_outside_opening_hours_in_the_widget(hub_url: str, browser: Browser, locale: str,
                                                       language: str, address: str, masked: str) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    try:
        page.goto(f"{hub_url}/")
        box = page.get_by_role("textbox")
        box.fill(ASKING[language])
        box.press("Enter")
        offer = render("sys_waiting_offer", language)
        handed = page.locator(".luotsi-bot").last
        expect(handed).to_contain_text(offer.text, timeout=20_000)
        expect(handed).to_contain_text(render("sys_handoff_closed", language).text.split("{opens_at}")[0].strip())
        buttons = page.locator(".luotsi-buttons button")  # the offer's: no other answer has any
        expect(buttons).to_have_text([b.title for b in offer.buttons])
        assert page.locator(".luotsi").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator(".luotsi").get_attribute("lang") == language
        assert _axe_serious(page) == []

        # keyboard: the e-mail button, then the address typed
        buttons.first.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".luotsi-you").last).to_contain_text(offer.buttons[0].title)
        expect(page.locator(".luotsi-bot").last).to_contain_text(render("sys_waiting_ask_email", language).text,
                                                                 timeout=20_000)
        expect(buttons.first).to_be_disabled()  # answered: the offer's buttons no longer act
        box.fill(address)
        box.press("Enter")
        confirmed = page.locator(".luotsi-bot").last
        expect(confirmed).to_contain_text(render("sys_waiting_email_saved", language, email=masked).text,
                                          timeout=20_000)
        expect(confirmed).not_to_contain_text(address)
        assert _axe_serious(page) == []
    finally:
        context.close()


def test_the_status_line_shows_the_place_and_follows_the_queue(hub: tuple[str, Any], browser: Browser) -> None:
    """Issue 18: after the hand-off the place and when the advisory opens stand in one status line
    (role=status, polite), not in chat bubbles; an urgent ticket arriving ahead moves it."""
    url, app = hub
    context = browser.new_context(locale="ar-IQ")
    page = context.new_page()
    try:
        page.goto(f"{url}/")
        box = page.get_by_role("textbox")
        box.fill(ASKING["ar"])
        box.press("Enter")
        expect(page.locator(".luotsi-bot").last).to_contain_text(render("sys_waiting_offer", "ar").text, timeout=20_000)
        with app.state.sessionmaker() as db:
            ticket = db.query(Ticket).filter(Ticket.channel == "web", Ticket.language == "ar") \
                .order_by(Ticket.created_at.desc()).first()
            hours = app.state.turn_context.hours
            where = queue_position.standing(db, ticket, f.now(), hours)
            assert where is not None and where.estimate.kind == "closed"  # nobody on shift in this hub
            queue, place = ticket.queue, where.position
        status = page.get_by_role("status").and_(page.locator(".luotsi-queue"))
        expect(status).to_have_text(queue_position.describe(where, "ar"), timeout=10_000)
        assert status.get_attribute("aria-live") == "polite"
        bubbles = page.locator(".luotsi-msg").count()
        assert _axe_serious(page) == []

        # an urgent ticket comes in ahead of the customer: the line changes, no new bubble appears
        with app.state.sessionmaker() as db:
            urgent = f.conversation(db, "browser-urgent".ljust(32, "0"))
            do_handoff(db, conversation_id=urgent.id, reason="asked_for_human", topic=None, now=f.now() - timedelta(hours=1),
                       hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7,
                       queue=queue, priority=5)
        expect(status).to_contain_text(render("sys_queue_place", "ar", position=str(place + 1)).text, timeout=10_000)
        assert page.locator(".luotsi-msg").count() == bubbles
        assert _axe_serious(page) == []
    finally:
        context.close()
