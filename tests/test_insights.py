"""The supervisors' reports (issue 18, bot/services/insights.py, bot/console/insights.py): what each
customer message came to (through POST /api/chat against the stand-in Rasa), the unanswered
questions grouped by similarity with personal data masked, the performance figures of a seeded
week (known waits → known median, 90th percentile and target breaches), the CSV exports, and who
may see them."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.console.words import gettext
from bot.models import Conversation, Message, Queue, Ticket, TicketEvent
from bot.services import insights, shifts
from bot.services.insights import PerformanceFilters, Said
from bot.services.rasa import Command
from tests import factories as f
from tests.conftest import free_port
from tests.rasa_standin import running
from tests.test_console import sign_in

HKI = shifts.HELSINKI
HOURS = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
fi = gettext("fi")

# Several wordings of the same few questions, as customers write them: the grouping has to put each
# question's wordings together and keep the questions apart, in each language.
QUESTIONS = {
    "fi": {
        "register": ["Miten ilmoittaudun työnhakijaksi?", "Kuinka voin ilmoittautua työnhakijaksi?",
                     "miten ilmoittautua työnhakijaksi netissä", "Haluan ilmoittautua työnhakijaksi, miten se tehdään?"],
        "subsidy": ["Paljonko palkkatuki on?", "Kuinka suuri palkkatuki on?", "palkkatuen määrä?",
                    "Mikä on palkkatuen määrä työnantajalle?"],
        "office": ["Missä toimisto on?", "Missä teidän toimistonne sijaitsee?", "toimiston osoite?",
                   "Mikä on toimiston osoite Espoossa?"],
        "benefit": ["Miten haen työttömyysetuutta?", "työttömyysetuuden hakeminen", "Mistä haen työttömyysetuutta"],
    },
    "en": {
        "register": ["How do I register as a jobseeker?", "how can I register as a job seeker",
                     "I want to register as a jobseeker, how?", "Where do I register as jobseeker online"],
        "subsidy": ["How much is the pay subsidy?", "What is the amount of the pay subsidy",
                    "pay subsidy amount for employers"],
        "office": ["Where is the office?", "where is your office located", "What is the office address?"],
        "hours": ["When are you open?", "what are your opening hours", "opening hours today?"],
    },
    "sv": {
        "register": ["Hur anmäler jag mig som arbetssökande?", "hur kan jag anmäla mig som arbetssökande",
                     "Jag vill anmäla mig som arbetssökande"],
        "subsidy": ["Hur stor är lönesubventionen?", "lönesubventionens belopp", "Hur mycket är lönesubventionen"],
        "office": ["Var ligger kontoret?", "Var finns ert kontor?", "kontorets adress"],
    },
}
EMAIL, PHONE, HETU = "matti.meikalainen@example.com", "040 1234567", "131052-308T"
PERSONAL = (EMAIL, "example.com", PHONE, "1234567", HETU, "131052")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[TestClient]:
    """A hub on SQLite asking the stand-in Rasa (it answers, clarifies, falls back and hands off)."""
    with running(free_port(), 0.0, tmp_path / "rasa.jsonl") as rasa_url:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'insights.db'}", rasa_url=rasa_url)  # type: ignore[arg-type]
        with TestClient(create_app(settings), follow_redirects=False) as client:
            yield client


@pytest.fixture
def db(hub: TestClient) -> Iterator[Session]:
    with hub.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def chat(client: TestClient, conversation_id: str, text: str) -> dict:  # type: ignore[type-arg]
    r = client.post("/api/chat", json={"conversation_id": conversation_id, "text": text, "locale": "fi"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def outcomes(db: Session, external_id: str) -> list[tuple[str, str | None]]:
    db.expire_all()
    return [(m.text, m.outcome) for m in db.scalars(
        select(Message).join(Conversation).where(Conversation.external_id == external_id,
                                                 Message.sender == "customer").order_by(Message.id))]


# ---- what each message came to ----

def test_each_turn_records_what_the_message_came_to(hub: TestClient, db: Session) -> None:
    chat(hub, "turns-1", "Miten ilmoittaudun työnhakijaksi?")
    chat(hub, "turns-1", "Tarvitsen apua tukien kanssa zzclarify")
    chat(hub, "turns-1", "En tiedä mitä kysyisin zzfallback")
    handed = chat(hub, "turns-1", "Haluan puhua ihmisen kanssa, person")
    assert handed["ticket"] is not None
    chat(hub, "turns-1", "Odotan vastausta")  # the advisers' now: nothing for the assistant to make of it
    assert outcomes(db, "turns-1") == [
        ("Miten ilmoittaudun työnhakijaksi?", "answered"),
        ("Tarvitsen apua tukien kanssa zzclarify", "clarify"),
        ("En tiedä mitä kysyisin zzfallback", "fallback"),
        ("Haluan puhua ihmisen kanssa, person", "handoff"),
        ("Odotan vastausta", None),
    ]


def test_the_outcome_of_an_answer() -> None:
    say = Command("say", {"key": "utter_register_jobseeker"})
    assert insights.outcome_of([say], guided=False) == "answered"
    assert insights.outcome_of([say], guided=True) == "guided"
    assert insights.outcome_of([Command("guidance", {"start": "assessment"})], guided=False) == "guided"
    for key in ("utter_fallback", "utter_fallback_offer_human", "utter_out_of_scope"):
        assert insights.outcome_of([Command("say", {"key": key})], guided=False) == "fallback"
    assert insights.outcome_of([Command("clarify", {"options": ["pay_subsidy"]})], guided=False) == "clarify"
    assert insights.outcome_of([Command("clarify", {"options": []})], guided=False) == "fallback"
    assert insights.outcome_of([Command("say", {"key": "utter_fallback_offer_human"}),
                                Command("handoff", {"reason": "asked_for_human"})], guided=True) == "handoff"


# ---- which questions went unanswered ----

def _said(conversation: str, number: int, outcome: str, minute: int, text: str = "") -> Said:
    at = datetime(2026, 12, 1, 9, tzinfo=timezone.utc) + timedelta(minutes=minute)
    return Said(conversation_id=conversation, id=number, text=text or f"{conversation}-{number}", language="fi",
                outcome=outcome, created_at=at)


def test_which_questions_count_as_unanswered() -> None:
    messages = [
        _said("a", 1, "fallback", 0),                                   # not understood
        _said("b", 2, "clarify", 0), _said("b", 3, "answered", 1),       # the clarifying question helped
        _said("c", 4, "clarify", 0), _said("c", 5, "clarify", 1), _said("c", 6, "fallback", 2),
        _said("d", 7, "clarify", 0), _said("d", 8, "handoff", 1),        # gave up after the question
        _said("e", 9, "answered", 0), _said("e", 10, "handoff", 2),      # the answer did not help
        _said("f", 11, "answered", 0), _said("f", 12, "handoff", 180),   # a person asked for hours later
        _said("g", 13, "clarify", 0),                                    # no next message: not known
        _said("h", 14, "answered", 0), _said("h", 15, "guided", 1),
    ]
    found = {m.id for m in insights.unanswered(reversed(messages))}
    assert found == {1, 4, 5, 6, 7, 9}


def test_grouping_puts_wordings_of_one_question_together_and_keeps_questions_apart() -> None:
    for language, topics in QUESTIONS.items():
        texts = [t for wordings in topics.values() for t in wordings]
        topic_of = {t: topic for topic, wordings in topics.items() for t in wordings}
        groups = insights.group_texts(texts)
        found = sorted(sorted(topic_of[texts[i]] for i in group) for group in groups)
        expected = sorted([topic] * len(wordings) for topic, wordings in topics.items())
        assert found == expected, (language, [[texts[i] for i in g] for g in groups])

    said = [Said(conversation_id=f"{language}-{n}", id=n, text=t, language=language, outcome="fallback",
                 created_at=datetime(2026, 12, 1, tzinfo=timezone.utc))
            for language, topics in QUESTIONS.items() for wordings in topics.values() for n, t in enumerate(wordings)]
    grouped = insights.group_questions(said)
    assert list(grouped) == ["fi", "en", "sv"]  # the language with the most questions first
    assert [g.count for g in grouped["fi"]] == [4, 4, 4, 3]
    assert [g.count for g in grouped["sv"]] == [3, 3, 3]
    for group in grouped["en"]:
        assert 1 <= len(group.examples) <= 3
        assert len({topic for t in group.examples for topic, w in QUESTIONS["en"].items() if t in w}) == 1


def test_masking_covers_email_phone_and_identity_code() -> None:
    text = f"Sähköpostini on {EMAIL}, puhelin {PHONE}, hetu {HETU}, IBAN FI21 1234 5600 0007 85"
    shown = insights.masked(text)
    assert not any(p in shown for p in PERSONAL) and "FI21" not in shown
    assert "[e-mail]" in shown and "[phone]" in shown and "[henkilötunnus]" in shown


# ---- the unanswered-questions page and CSV ----

def _customer(db: Session, key: str, language: str, turns: list[tuple[str, str]], at: datetime) -> None:
    """A conversation whose customer messages came to the given outcomes, a minute apart."""
    conv = Conversation(channel="web", external_id=key, language=language, created_at=at, updated_at=at)
    db.add(conv)
    db.flush()
    for minute, (text, outcome) in enumerate(turns):
        db.add(Message(conversation_id=conv.id, sender="customer", text=text, language=language, status="answered",
                       outcome=outcome, created_at=at + timedelta(minutes=minute)))
    db.commit()


def _seed_unanswered(db: Session, now: datetime) -> None:
    at = now - timedelta(days=1)
    for language, topics in QUESTIONS.items():
        for topic, wordings in topics.items():
            for n, text in enumerate(wordings):
                _customer(db, f"u-{language}-{topic}-{n}", language, [(text, "fallback")], at)
    _customer(db, "u-personal", "fi", [(f"Miten ilmoittaudun työnhakijaksi? {EMAIL} {PHONE} {HETU}", "fallback")], at)
    _customer(db, "u-call-me", "fi", [(f"Voitteko soittaa numeroon {PHONE} tai kirjoittaa osoitteeseen {EMAIL}, "
                                       f"henkilötunnukseni on {HETU}", "fallback")], at)
    _customer(db, "u-helped", "fi", [("Mikä on starttiraha", "clarify"), ("starttiraha", "answered")], at)
    _customer(db, "u-not-helped", "en", [("can I bring my dog to the meeting", "answered"),
                                         ("person please", "handoff")], at)
    _customer(db, "u-old", "fi", [("Vanha kysymys lomarahasta", "fallback")], now - timedelta(days=20))


def test_the_unanswered_page_groups_masks_and_exports(hub: TestClient, db: Session) -> None:
    now = f.now()
    _seed_unanswered(db, now)
    f.adviser(db, "sup", role="supervisor")
    sign_in(hub, "sup")

    page = hub.get("/console/insights/unanswered")
    assert page.status_code == 200
    html = page.text
    assert not any(p in html for p in PERSONAL)
    assert "[e-mail]" in html and "[henkilötunnus]" in html
    assert "Mikä on starttiraha" not in html  # the clarifying question helped
    assert "can I bring my dog to the meeting" in html  # the customer asked for a person right after
    assert "person please" not in html
    assert "Vanha kysymys lomarahasta" not in html  # older than the past week
    today = now.astimezone(HKI).date()
    # every wording (37), the two with personal data and the question answered before "person please"
    assert fi("{n} unanswered questions from {first} to {last}.", n=40, first=f"{today - timedelta(days=6):%d.%m.%Y}",
              last=f"{today:%d.%m.%Y}") in html
    # largest group first in each language: the Finnish registering question has its masked fifth wording
    finnish = html.split('id="lang-fi"', 1)[1].split("</table>", 1)[0]
    assert finnish.split("<td", 2)[1].split(">", 1)[1].startswith("5<")
    assert html.index('id="lang-fi"') < html.index('id="lang-en"') < html.index('id="lang-sv"')

    older = hub.get("/console/insights/unanswered",
                    params={"from": (now - timedelta(days=30)).date().isoformat(), "to": now.date().isoformat(),
                            "language": "fi"}).text
    assert "Vanha kysymys lomarahasta" in older and 'id="lang-en"' not in older

    r = hub.get("/console/insights/unanswered.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert not any(p in r.text for p in PERSONAL)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["language"] for row in rows} == {"fi", "en", "sv"}
    fi_rows = [row for row in rows if row["language"] == "fi"]
    assert [int(row["questions"]) for row in fi_rows] == [5, 4, 4, 3, 1]
    assert sum(int(row["questions"]) for row in rows) == 40
    assert any("[e-mail]" in row[k] for row in fi_rows for k in ("example_1", "example_2", "example_3"))

    bad = hub.get("/console/insights/unanswered", params={"from": "2026-12-10", "to": "2026-12-01"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text


# ---- performance over time ----

def _ticket(db: Session, created: datetime, claims: list[datetime], *, queue: str = "jobseeker_espoo",
            city: str = "espoo", channel: str = "web", language: str = "fi", score: int | None = None) -> Ticket:
    conv = Conversation(channel=channel, external_id=f"p-{uuid.uuid4().hex}",
                        language=language, created_at=created, updated_at=created)
    db.add(conv)
    db.flush()
    ticket = Ticket(conversation_id=conv.id, channel=channel, queue=queue, status="claimed", language=language,
                    city_on_shift=city, reason="asked_for_human", created_at=created,
                    claimed_at=claims[-1] if claims else None)
    if score is not None:
        ticket.csat_score, ticket.csat_answered_at = score, created + timedelta(hours=3)
    db.add(ticket)
    db.flush()
    db.add(TicketEvent(ticket_id=ticket.id, kind="created", at=created))
    for at in claims:
        db.add(TicketEvent(ticket_id=ticket.id, kind="claimed", at=at))
    db.commit()
    return ticket


def _seed_week(db: Session, day: date) -> None:
    """On one open day: ten Espoo tickets waiting 10, 20 … 100 minutes (the first claimed again after
    a transfer, which does not count), one Helsinki Telegram ticket waiting 30 minutes; the Espoo
    queue's target 45 minutes; two satisfaction answers (4 and 5); four conversations with the
    assistant, one handed off."""
    db.execute(update(Queue).where(Queue.code == "jobseeker_espoo").values(response_target_minutes=45))
    nine = datetime.combine(day, time(9), HKI).astimezone(timezone.utc)
    for k in range(1, 11):
        claims = [nine + timedelta(minutes=10 * k)] + ([nine + timedelta(hours=5)] if k == 1 else [])
        _ticket(db, nine, claims, score={1: 4, 2: 5}.get(k))
    _ticket(db, nine, [nine + timedelta(minutes=30)], queue="employer_advisory", city="helsinki", channel="telegram",
            language="so")
    for n, turns in enumerate([[("a", "answered")], [("b", "fallback"), ("c", "answered")],
                               [("d", "answered"), ("e", "handoff")], [("f", "guided")]]):
        _customer(db, f"perf-{day}-{n}", "fi", turns, nine + timedelta(hours=1))


def _first_open_day(monday: date) -> date:
    return next(d for d in (monday + timedelta(days=i) for i in range(5)) if not shifts.is_holiday(d))


def test_the_figures_of_a_seeded_week(hub: TestClient, db: Session) -> None:
    now = datetime(2026, 12, 10, 12, 0, tzinfo=HKI)  # Thursday; the week before began on Monday 30.11.
    _seed_week(db, date(2026, 12, 1))
    # left on Friday at 15:30, claimed on Monday at 08:30: one hour of opening hours, past the target
    _ticket(db, datetime(2026, 12, 4, 15, 30, tzinfo=HKI), [datetime(2026, 12, 7, 8, 30, tzinfo=HKI)])

    report = insights.performance(db, now, HOURS, PerformanceFilters(city="espoo"))
    assert [w.week.number for w in report.weeks] == [46, 47, 48, 49, 50]
    last, this = report.weeks[3], report.weeks[4]
    assert (last.tickets, last.claims, last.median_wait, last.p90_wait, last.sla_breaches) == (11, 10, 55 * 60, 90 * 60, 6)
    assert (this.tickets, this.claims, this.median_wait, this.p90_wait, this.sla_breaches) == (0, 1, 3600, 3600, 1)
    assert (last.csat_answers, last.csat_average) == (2, 4.5)
    assert last.conversations is None and last.handoff_rate is None  # no city before the hand-off
    assert all(w.tickets == 0 and w.median_wait is None for w in report.weeks[:3])

    everything = insights.performance(db, now, HOURS, PerformanceFilters())
    last = everything.weeks[3]
    assert (last.tickets, last.claims, last.median_wait, last.p90_wait, last.sla_breaches) == (12, 11, 50 * 60, 90 * 60, 6)
    assert (last.conversations, last.handed_off, last.handoff_rate) == (4, 1, 0.25)
    telegram = insights.performance(db, now, HOURS, PerformanceFilters(channel="telegram", language="so")).weeks[3]
    assert (telegram.tickets, telegram.claims, telegram.median_wait, telegram.sla_breaches) == (1, 1, 30 * 60, 0)
    assert telegram.conversations == 0


def test_the_performance_page_and_csv(hub: TestClient, db: Session) -> None:
    today = f.now().astimezone(HKI).date()
    day = _first_open_day(today - timedelta(days=today.weekday() + 7))  # in last week
    _seed_week(db, day)
    f.adviser(db, "sup", role="supervisor")
    sign_in(hub, "sup")

    page = hub.get("/console/insights/performance", params={"city": "espoo"})
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 5 and html.count('role="img"') == 5
    assert html.count("<title>") == 5 + 1 and html.count("<desc") == 5  # the page's own <title> too
    assert "55 min" in html and "1 h 30 min" in html  # median and 90th percentile, in the tables
    assert "4,5" in html  # the satisfaction average, written the Finnish way

    rows = list(csv.DictReader(io.StringIO(hub.get("/console/insights/performance.csv",
                                                   params={"city": "espoo"}).text)))
    assert len(rows) == 5
    assert rows[3]["from"] == (today - timedelta(days=today.weekday() + 7)).isoformat()
    assert {k: rows[3][k] for k in ("tickets", "claims", "median_wait_minutes", "p90_wait_minutes", "sla_breaches",
                                    "csat_answers", "csat_average", "handoff_rate")} == {
        "tickets": "10", "claims": "10", "median_wait_minutes": "55.0", "p90_wait_minutes": "90.0",
        "sla_breaches": "6", "csat_answers": "2", "csat_average": "4.50", "handoff_rate": ""}
    whole = list(csv.DictReader(io.StringIO(hub.get("/console/insights/performance.csv").text)))[3]
    assert (whole["tickets"], whole["conversations"], whole["handed_off"], whole["handoff_rate"]) == \
        ("11", "4", "1", "0.250")
    nothing = list(csv.DictReader(io.StringIO(hub.get("/console/insights/performance.csv",
                                                      params={"channel": "email"}).text)))[3]
    assert (nothing["tickets"], nothing["claims"], nothing["median_wait_minutes"]) == ("0", "0", "")


def test_percentiles() -> None:
    assert insights.percentile([], 0.9) is None and insights.median([]) is None
    assert insights.percentile([5.0], 0.9) == 5.0
    assert insights.percentile([float(x) for x in range(1, 21)], 0.9) == 18.0
    assert insights.median([1.0, 2.0, 3.0, 10.0]) == 2.5


# ---- who may see the reports ----

@pytest.mark.parametrize("path", ["/console/insights/unanswered", "/console/insights/unanswered.csv",
                                  "/console/insights/performance", "/console/insights/performance.csv"])
def test_only_supervisors_and_admins_see_the_reports(hub: TestClient, db: Session, path: str) -> None:
    f.adviser(db, "anna")
    f.adviser(db, "sup", role="supervisor")
    f.adviser(db, "root", role="admin")
    assert hub.get(path).status_code == 303  # not signed in: to the sign-in page
    sign_in(hub, "anna")
    assert hub.get(path).status_code == 403
    for username in ("sup", "root"):
        hub.cookies.clear()
        sign_in(hub, username)
        assert hub.get(path).status_code == 200, username
    assert "/console/insights/performance" in hub.get("/console/supervisor").text


def test_the_reports_on_postgresql(pg_url: str, dead_rasa_url: str) -> None:
    """The same figures on PostgreSQL (its AVG is a numeric, its COUNT(DISTINCT CASE …) the same)."""
    settings = Settings(database_url=pg_url, rasa_url=dead_rasa_url)  # type: ignore[arg-type]
    with TestClient(create_app(settings), follow_redirects=False) as client, \
            client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        _seed_week(db, date(2026, 12, 1))
        _ticket(db, datetime(2026, 12, 4, 15, 30, tzinfo=HKI), [datetime(2026, 12, 7, 8, 30, tzinfo=HKI)])
        now = datetime(2026, 12, 10, 12, 0, tzinfo=HKI)
        report = insights.performance(db, now, HOURS, PerformanceFilters())
        last, this = report.weeks[3], report.weeks[4]
        assert (last.tickets, last.claims, last.median_wait, last.p90_wait, last.sla_breaches) == \
            (12, 11, 50 * 60, 90 * 60, 6)
        assert (last.conversations, last.handed_off, last.csat_answers, last.csat_average) == (4, 1, 2, 4.5)
        assert (this.claims, this.median_wait, this.sla_breaches) == (1, 3600, 1)

        _seed_unanswered(db, now)
        found = insights.unanswered_questions(db, now - timedelta(days=7), now)
        assert found.questions == 40 and [g.count for g in found.groups["fi"]] == [5, 4, 4, 3, 1]
        f.adviser(db, "sup", role="supervisor")
        sign_in(client, "sup")
        assert client.get("/console/insights/performance").status_code == 200
        assert client.get("/console/insights/unanswered.csv").status_code == 200
