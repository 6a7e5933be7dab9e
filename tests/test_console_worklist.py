"""The console built for a full queue (issue 15): the working list with filters, search, sorting,
pages and previews; time waited in opening hours; the off-shift view; internal notes; saved and
catalogue replies; the customer's earlier tickets; translation status; live updates; assignment."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.console import pages
from bot.console.words import gettext
from bot.locales import render
from bot.models import Conversation, Message, SavedReply, Ticket, TicketEvent, TicketNote
from bot.services import shifts
from bot.services.conversations import read_messages_after
from bot.services.tickets import do_handoff
from tests import factories as f
from tests.libretranslate_api import running_libretranslate
from tests.test_console import _csrf, sign_in

HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
HKI = shifts.HELSINKI
fi = gettext("fi")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as c:
        yield c


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def _ticket(db: Session, key: str, text: str = "tarvitsen apua", *, language: str = "fi", channel: str = "web",
            created: datetime | None = None) -> Ticket:
    conv = f.conversation(db, key, language=language, text=text, channel=channel)
    ticket = do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=f.now(),
                        hours=HOURS, home_area="espoo", reopen_days=7).ticket
    if created is not None:
        ticket.created_at = created
        db.commit()
    return ticket


def _rows(page: str) -> list[str]:
    """Ticket ids in the working list, in order."""
    part = page.split('id="worklist"', 1)[1]
    return re.findall(r'<th scope="row" data-label="[^"]*"><a href="/console/tickets/(\w+)"', part)


# ---- time waited in opening hours ----

def test_waiting_counts_only_opening_hours() -> None:
    friday_15 = datetime(2026, 12, 4, 15, 0, tzinfo=HKI)
    monday_9 = datetime(2026, 12, 7, 9, 0, tzinfo=HKI)
    assert shifts.open_seconds(friday_15, monday_9, HOURS) == 2 * 3600  # 15–16 Friday, 08–09 Monday
    evening = datetime(2026, 12, 4, 18, 0, tzinfo=HKI)
    assert shifts.open_seconds(evening, datetime(2026, 12, 7, 8, 0, tzinfo=HKI), HOURS) == 0
    # Independence Day (Sunday 6.12.2026) does not matter; Christmas Eve (Thursday 24.12.) is a holiday
    assert shifts.open_seconds(datetime(2026, 12, 23, 15, 0, tzinfo=HKI), datetime(2026, 12, 28, 8, 30, tzinfo=HKI),
                               HOURS) == 3600 + 1800  # 23rd 15–16; 24th–27th closed; 28th 08–08:30
    assert shifts.open_seconds(monday_9, friday_15, HOURS) == 0


def test_the_list_shows_wait_in_opening_hours_and_marks_late(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    old = _ticket(db, "old", created=f.now() - timedelta(days=30))  # weeks of opening hours: late on any day
    csrf = sign_in(client, "sup")
    assert csrf
    page = client.get("/console").text
    row = page.split(f"/console/tickets/{old.id}", 1)[1].split("</tr>", 1)[0]
    assert 'class="late"' in row and " h " in row


# ---- filters, search, sorting, pages ----

def test_filters_search_sort_and_pages(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    base = f.now() - timedelta(hours=3)
    so = _ticket(db, "so-1", "Waxaan rabaa shaqo", language="so", channel="telegram", created=base)
    ar = _ticket(db, "ar-1", "أريد عملا", language="ar", created=base + timedelta(minutes=1))
    fi_t = _ticket(db, "fi-1", "Palkkatuesta kysyisin, y-tunnus 1234567-8", created=base + timedelta(minutes=2))
    sign_in(client, "sup")

    assert _rows(client.get("/console").text)[:3] == [so.id, ar.id, fi_t.id]  # the longest wait first
    assert _rows(client.get("/console?sort=newest").text)[:3] == [fi_t.id, ar.id, so.id]
    assert _rows(client.get("/console?language=so").text) == [so.id]
    assert _rows(client.get("/console?channel=telegram").text) == [so.id]
    assert _rows(client.get("/console?q=palkkatuesta").text) == [fi_t.id]  # words in the messages, any case
    assert _rows(client.get(f"/console?q={ar.id}").text) == [ar.id]  # or the ticket number
    assert _rows(client.get("/console?q=%25").text) == []  # LIKE wildcards are searched as text
    assert _rows(client.get("/console?status=closed").text) == []
    assert _rows(client.get("/console?sort=bogus&status=bogus&page=x").text)[:3] == [so.id, ar.id, fi_t.id]

    page = client.get("/console?language=so").text
    assert "Waxaan rabaa shaqo" in page  # the preview of the last customer message
    assert fi("{n} tickets", n=1) in page


def test_a_full_queue_is_paged_not_cut(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    start = f.now() - timedelta(days=1)
    for i in range(120):
        _ticket(db, f"many-{i}", f"viesti {i}", created=start + timedelta(seconds=i))
    sign_in(client, "sup")
    first = client.get("/console").text
    assert len(_rows(first)) == 50 and fi("{n} tickets", n=120) in first
    assert fi("page {page} of {pages}", page=1, pages=3) in first and 'rel="next"' in first
    third = client.get("/console?page=3").text
    assert len(_rows(third)) == 20 and 'rel="prev"' in third and 'rel="next"' not in third
    assert set(_rows(first)).isdisjoint(_rows(third))


# ---- the adviser off shift ----

def test_an_adviser_off_shift_sees_why_and_no_claim_button(client: TestClient, db: Session) -> None:
    f.adviser(db, "offshift", city="vantaa")
    f.shift(db, "espoo", "jobseeker_espoo")
    for i in range(3):
        _ticket(db, f"wait-{i}")
    sign_in(client, "offshift")
    page = client.get("/console").text
    assert 'id="off-shift"' in page and 'id="claim-next"' not in page
    assert str(escape(fi("{n} wait in the region's queues for the advisers on shift.", n=3))) in page


# ---- notes, earlier tickets, assignment ----

def test_internal_notes_stay_with_advisers(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, "note-1")
    csrf = sign_in(client, "anna")
    r = client.post(f"/console/tickets/{ticket.id}/notes", data={"csrf": csrf, "text": "Soita huomenna <b>klo 9</b>"})
    assert r.status_code == 303
    page = client.get(f"/console/tickets/{ticket.id}").text
    assert "Soita huomenna &lt;b&gt;klo 9&lt;/b&gt;" in page  # escaped
    assert db.scalars(select(TicketNote).where(TicketNote.ticket_id == ticket.id)).one().text.startswith("Soita")
    conv = db.get(Conversation, ticket.conversation_id)
    assert conv is not None
    _handler, _language, messages = read_messages_after(db, channel="web", external_id=conv.external_id, after=0)
    assert all("huomenna" not in m.text for m in messages)  # never in the customer's conversation
    assert client.post(f"/console/tickets/{ticket.id}/notes", data={"csrf": "wrong", "text": "x"}).status_code == 403
    assert client.post(f"/console/tickets/{ticket.id}/notes", data={"csrf": csrf, "text": "  "}).headers[
        "location"].endswith("flash=empty")


def test_a_note_needs_access_to_the_ticket(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "stranger", city="vantaa")
    ticket = _ticket(db, "note-2")
    csrf = sign_in(client, "stranger")
    assert client.post(f"/console/tickets/{ticket.id}/notes", data={"csrf": csrf, "text": "x"}).status_code == 404
    assert db.scalars(select(TicketNote)).first() is None


def test_the_customers_earlier_tickets_are_listed(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    first = _ticket(db, "returning")
    first.status, first.outcome, first.closed_at = "closed", "answered", f.now()
    db.commit()
    conv = db.get(Conversation, first.conversation_id)
    assert conv is not None
    db.add(Message(conversation_id=conv.id, sender="customer", text="taas minä", language="fi", created_at=f.now()))
    db.commit()
    second = do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic=None, now=f.now(),
                        hours=HOURS, home_area="espoo", reopen_days=0).ticket
    other = _ticket(db, "someone-else")
    sign_in(client, "sup")
    page = client.get(f"/console/tickets/{second.id}").text
    earlier = page.split('id="earlier"', 1)[1].split("</ul>", 1)[0] if second.id != first.id else ""
    assert first.id in earlier and other.id not in earlier


def test_a_supervisor_assigns_from_the_console(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "sup", role="supervisor")
    f.adviser(db, "bea")
    ticket = _ticket(db, "assign-1")
    csrf = sign_in(client, "sup")
    assert 'id="assign-to"' in client.get(f"/console/tickets/{ticket.id}").text
    r = client.post(f"/console/tickets/{ticket.id}/assign", data={"csrf": csrf, "adviser": "bea"})
    assert r.headers["location"].endswith("flash=assigned")
    db.expire_all()
    held = db.get(Ticket, ticket.id)
    assert held is not None and held.status == "claimed"
    r = client.post(f"/console/tickets/{ticket.id}/assign", data={"csrf": csrf, "adviser": "nobody"})
    assert r.headers["location"].endswith("flash=unknown_adviser")


# ---- saved and catalogue replies ----

def test_saved_replies_own_and_shared(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    f.adviser(db, "sup", role="supervisor")
    csrf = sign_in(client, "sup")
    client.post("/console/replies", data={"csrf": csrf, "title": "Aukiolo", "text": "Olemme auki ma–pe 8–16.",
                                          "language": "fi", "shared": "yes"})
    shared = db.scalars(select(SavedReply)).one()
    assert shared.owner_id is None
    client.post("/console/logout", data={"csrf": csrf})
    csrf = sign_in(client, "anna")
    r = client.post("/console/replies", data={"csrf": csrf, "title": "Oma", "text": "Hei!", "language": "fi"})
    assert r.headers["location"].endswith("flash=reply_saved")
    assert client.post("/console/replies", data={"csrf": csrf, "title": "", "text": "x", "language": "fi"}).headers[
        "location"].endswith("flash=bad_saved_reply")
    assert client.post("/console/replies", data={"csrf": csrf, "title": "t", "text": "x", "language": "xx"}).headers[
        "location"].endswith("flash=bad_saved_reply")
    page = client.get("/console/replies").text
    assert "Aukiolo" in page and "Oma" in page
    # an adviser cannot delete the shared one
    assert client.post(f"/console/replies/{shared.id}/delete", data={"csrf": csrf}).headers[
        "location"].endswith("flash=forbidden")
    ticket = _ticket(db, "saved-1")
    client.post(f"/console/tickets/{ticket.id}/claim", data={"csrf": csrf})
    page = client.get(f"/console/tickets/{ticket.id}?insert=saved:{shared.id}").text
    assert re.search(r'<textarea id="reply"[^>]*>Olemme auki ma–pe 8–16.</textarea>', page)


def test_catalogue_answers_go_out_in_the_customers_language_untranslated(settings: Settings) -> None:
    with running_libretranslate() as lt, TestClient(create_app(settings.model_copy(update={"translator": lt.url})),
                                                    follow_redirects=False) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", "jobseeker_espoo")
            f.adviser(db, "anna")
            ticket = _ticket(db, "cat-so", "Waxaan rabaa inaan iska diiwaangeliyo", language="so")
            csrf = sign_in(client, "anna")
            client.post(f"/console/tickets/{ticket.id}/claim", data={"csrf": csrf})
            answer = render("utter_register_jobseeker", "so").text
            page = client.get(f"/console/tickets/{ticket.id}?insert=answer:register_jobseeker").text
            assert 'value="so" checked' in page  # "written in Somali" chosen with the insertion
            assert answer[:40].replace("'", "&#39;") in page
            before = len(lt.calls)
            r = client.post(f"/console/tickets/{ticket.id}/reply",
                            data={"csrf": csrf, "text": answer, "written_in": "so"})
            assert r.headers["location"].endswith("flash=reply_sent")
            sent = db.scalars(select(Message).where(Message.conversation_id == ticket.conversation_id,
                                                    Message.sender == "adviser")).one()
            assert sent.language == "so" and sent.translation is None  # no machine translation needed
            assert len(lt.calls) == before
            # and a reply written in the adviser's own language is still translated, marked
            client.post(f"/console/tickets/{ticket.id}/reply", data={"csrf": csrf, "text": "Tervetuloa", "written_in": ""})
            db.expire_all()
            last = db.scalars(select(Message).where(Message.conversation_id == ticket.conversation_id,
                                                    Message.sender == "adviser").order_by(Message.id.desc())).first()
            assert last is not None and last.language == "fi" and last.translation_language == "so"


# ---- translation status on each message ----

def test_each_message_says_whether_it_was_translated(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, "ts-1", "Waxaan rabaa shaqo", language="so")
    csrf = sign_in(client, "anna")
    client.post(f"/console/tickets/{ticket.id}/claim", data={"csrf": csrf})
    page = client.get(f"/console/tickets/{ticket.id}").text
    assert fi(pages.TRANSLATION_WORDS["no_service"]) in page  # no translator configured here
    db.add(TicketEvent(ticket_id=ticket.id, kind="translation_unavailable", at=f.now()))
    db.commit()
    status = pages.translation_status(
        Message(sender="customer", text="x", language="so"), "so", "fi", True, {None})
    assert status == "failed"
    assert pages.translation_status(Message(sender="customer", text="x", language="fi"), "fi", "fi", True, set()) is None
    assert pages.translation_status(Message(sender="adviser", text="x", language="so"), "so", "fi", True,
                                    set()) == "as_written"


# ---- live updates ----

def test_the_open_ticket_and_the_list_update_live(client: TestClient, db: Session,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "EVENT_POLL_SECONDS", 4.0)  # only the change event can wake it within 3 s
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "anna")
    ticket = _ticket(db, "live-1")
    sign_in(client, "anna")

    def customer_writes() -> None:
        time.sleep(0.5)
        with client.app.state.sessionmaker() as s:  # type: ignore[attr-defined]
            s.add(Message(conversation_id=ticket.conversation_id, sender="customer", text="Onko siellä ketään?",
                          language="fi", created_at=datetime.now(timezone.utc)))
            s.commit()

    for page_url, url in ((f"/console/tickets/{ticket.id}", f"/console/events?ticket={ticket.id}"),
                          ("/console", "/console/events?")):
        stamp = re.search(r'data-stamp="(\w+)"', client.get(page_url).text)
        assert stamp
        writer = threading.Thread(target=customer_writes)
        started = time.monotonic()
        with client.stream("GET", f"{url}&v={stamp.group(1)}") as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            writer.start()
            seen = False
            for line in response.iter_lines():
                if line == "event: changed":
                    seen = True
                    break
                assert time.monotonic() - started < 3
        writer.join()
        assert seen and time.monotonic() - started >= 0.5  # the change, not the page being stale
        assert "Onko siellä" not in line  # the stream carries no ticket data


def test_a_page_already_stale_when_the_stream_opens_is_told_at_once(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    _ticket(db, "stale-1")
    sign_in(client, "sup")
    with client.stream("GET", "/console/events?v=0000") as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        assert [next(lines), next(lines)] == ["", "event: changed"]


def test_live_updates_need_a_session_and_access(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "stranger", city="vantaa")
    ticket = _ticket(db, "live-2")
    assert client.get("/console/events").status_code == 204  # not signed in: the browser stops asking
    sign_in(client, "stranger")
    assert client.get(f"/console/events?ticket={ticket.id}").status_code == 204


def test_the_console_speaks_the_advisers_working_language(client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "sven")
    _ticket(db, "lang-1", "Jag behöver hjälp", language="sv")
    csrf = sign_in(client, "sven")
    client.post("/console/settings", data={"csrf": csrf, "working_language": "sv"})
    page = client.get("/console").text
    assert '<html lang="sv">' in page and gettext("sv")("Claim next ticket") in page
    client.post("/console/settings", data={"csrf": _csrf(page), "working_language": "en"})
    page = client.get("/console").text
    assert '<html lang="en">' in page and "Claim next ticket" in page and "Swedish" in page
    login = client.get("/console/login", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).text
    assert '<html lang="sv">' in login


# ---- the same through the adviser API ----

def _bearer(client: TestClient, username: str) -> dict[str, str]:
    token = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_api_filters_searches_pages_and_keeps_notes(client: TestClient, db: Session) -> None:
    f.adviser(db, "sup", role="supervisor")
    base = f.now() - timedelta(hours=1)
    so = _ticket(db, "api-so", "Waxaan rabaa shaqo", language="so", created=base)
    for i in range(4):
        _ticket(db, f"api-fi-{i}", f"kysymys {i}", created=base + timedelta(minutes=i + 1))
    auth = _bearer(client, "sup")
    body = client.get("/api/tickets", params={"language": "so"}, headers=auth).json()
    assert [t["id"] for t in body["tickets"]] == [so.id] and body["total"] == 1
    body = client.get("/api/tickets", params={"q": "kysymys", "limit": 2, "offset": 2, "sort": "waited"},
                      headers=auth).json()
    assert body["total"] == 4 and len(body["tickets"]) == 2
    assert client.get("/api/tickets", params={"sort": "nonsense"}, headers=auth).status_code == 422
    r = client.post(f"/api/tickets/{so.id}/notes", json={"text": "Tulkki tarvitaan"}, headers=auth)
    assert r.status_code == 201 and r.json()["author"] == "sup"
    notes = client.get(f"/api/tickets/{so.id}/notes", headers=auth).json()["notes"]
    assert [n["text"] for n in notes] == ["Tulkki tarvitaan"]
    assert client.post(f"/api/tickets/{so.id}/notes", json={"text": ""}, headers=auth).status_code == 422
    assert client.get("/api/tickets/nope/notes", headers=auth).status_code == 404
