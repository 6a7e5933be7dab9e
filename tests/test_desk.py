"""Hand-off, shifts, claiming and the adviser API through HTTP (no Rasa needed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.locales import render
from bot.models import Adviser, Conversation, Message, Ticket, TicketEvent
from bot.services import shifts
from bot.services.tickets import do_handoff, waiting_notice
from tests import factories as f


@pytest.fixture(params=["sqlite", "postgresql"])
def app_client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[TestClient]:
    """The queue tests run against both databases."""
    if request.param == "postgresql":
        settings.database_url = request.getfixturevalue("pg_url")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def db(app_client: TestClient) -> Iterator[Session]:
    with app_client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def handoff(client: TestClient, conversation_id: str, topic: str | None = None, reason: str = "asked_for_human") -> dict:
    """What the hub does when the assistant's action decides a hand-off (bot/services/conversations.py)."""
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        result = do_handoff(session, conversation_id=conversation_id, reason=reason, topic=topic,
                            now=datetime.now(timezone.utc), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                            home_area="espoo", reopen_days=7)
        t = result.ticket
        return {"ticket": {"id": t.id, "queue": t.queue, "status": t.status},
                "notice": {"text": result.notice.text,
                           "buttons": [{"title": b.title, "payload": b.payload} for b in result.notice.buttons]}}


def test_handoff_on_shift_routes_and_tells_the_customer(app_client: TestClient, db: Session) -> None:
    f.shift(db, "vantaa", "employer_advisory")
    f.adviser(db, "vantaa.a", city="vantaa", languages="fi,en")
    conv = f.conversation(db, "w1", language="fi")
    body = handoff(app_client, conv.id, topic="pay_subsidy")
    assert body["ticket"]["queue"] == "employer_advisory"
    assert body["ticket"]["status"] == "queued"
    # then the place in the queue (issue 18, tests/test_queue_position.py)
    assert body["notice"]["text"] == f'{render("sys_handoff_on_shift", "fi").text}\n\n{render("sys_queue_next", "fi").text} ' \
        f'{render("sys_queue_wait_unknown", "fi").text}'
    ticket = db.get(Ticket, body["ticket"]["id"])
    assert ticket is not None and ticket.city_on_shift == "vantaa" and not ticket.needs_interpreter
    db.refresh(conv)
    assert conv.handler == "human"


def test_handoff_out_of_hours_says_when_it_opens_and_flags_interpreting(app_client: TestClient, db: Session) -> None:
    conv = f.conversation(db, "w2", language="so", text="waxaan rabaa la taliye")
    body = handoff(app_client, conv.id, topic="register_jobseeker")
    assert body["ticket"]["queue"] == "jobseeker_espoo"
    assert "{opens_at}" not in body["notice"]["text"]
    assert body["notice"]["text"].startswith(render("sys_handoff_closed", "so", opens_at="X").text.split("X")[0])


def test_change_security_gets_priority(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "employer_advisory")
    a = f.adviser(db, "espoo.a")
    first = handoff(app_client, f.conversation(db, "p1").id, topic="pay_subsidy")
    urgent = handoff(app_client, f.conversation(db, "p2").id, topic="change_security")
    claimed = app_client.post("/api/tickets/claim", headers=token(app_client, a.username)).json()
    assert claimed["id"] == urgent["ticket"]["id"]
    assert claimed["id"] != first["ticket"]["id"]


def test_language_goes_first_to_advisers_who_serve_in_it(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "fi.only", languages="fi,sv")
    f.adviser(db, "ar.speaker", languages="fi,ar")
    arabic = handoff(app_client, f.conversation(db, "l1", language="ar", text="مرحبا").id)
    finnish = handoff(app_client, f.conversation(db, "l2", language="fi").id)
    somali = handoff(app_client, f.conversation(db, "l3", language="so", text="salaan").id)
    assert db.get(Ticket, somali["ticket"]["id"]).needs_interpreter  # type: ignore[union-attr]
    fi_only = app_client.post("/api/tickets/claim", headers=token(app_client, "fi.only")).json()
    assert fi_only["id"] == finnish["ticket"]["id"]  # the Arabic ticket waits for a speaker
    speaker = app_client.post("/api/tickets/claim", headers=token(app_client, "ar.speaker")).json()
    assert speaker["id"] == arabic["ticket"]["id"]
    again = app_client.post("/api/tickets/claim", headers=token(app_client, "fi.only")).json()
    assert again["id"] == somali["ticket"]["id"]  # flagged for interpreting: anyone serves it


def test_full_cycle_reply_close_and_back_to_the_assistant(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.a")
    conv = f.conversation(db, "cycle")
    ticket_id = handoff(app_client, conv.id)["ticket"]["id"]
    # while the ticket waits, the customer hears the message is kept and an adviser is on shift
    r = app_client.post("/api/chat", json={"conversation_id": "cycle", "text": "onko siellä ketään?"})
    said = [m["text"] for m in r.json()["replies"]]
    assert r.status_code == 200 and len(said) == 1 and said[0].startswith(render("sys_waiting_on_shift", "fi").text + "\n\n")
    auth = token(app_client, "espoo.a")
    claimed = app_client.post("/api/tickets/claim", headers=auth).json()
    assert claimed["id"] == ticket_id and claimed["status"] == "claimed"
    assert [m["text"] for m in claimed["transcript"] if m["sender"] == "customer"][-1] == "onko siellä ketään?"
    # once an adviser holds the ticket, the assistant is silent: the adviser answers
    r = app_client.post("/api/chat", json={"conversation_id": "cycle", "text": "hei?"})
    assert r.status_code == 200 and r.json()["replies"] == []
    r = app_client.post(f"/api/tickets/{ticket_id}/reply", json={"text": "Hei! Autan mielelläni."}, headers=auth)
    assert r.status_code == 200
    events = app_client.get(f"/api/tickets/{ticket_id}", headers=auth).json()
    assert events["transcript"][-1]["sender"] == "adviser"
    r = app_client.post(f"/api/tickets/{ticket_id}/close", json={"outcome": "answered"}, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    db.expire_all()
    assert db.get(Conversation, conv.id).handler == "bot"  # type: ignore[union-attr]
    # back to the assistant (which is down in this test: the fault answer proves Rasa was asked)
    r = app_client.post("/api/chat", json={"conversation_id": "cycle", "text": "kiitos, vielä yksi kysymys"})
    assert r.json()["replies"][0]["text"] == render("sys_unavailable", "fi").text
    kinds = [e.kind for e in db.query(TicketEvent).filter_by(ticket_id=ticket_id).order_by(TicketEvent.id)]
    assert kinds == ["created", "claimed", "replied", "viewed", "closed", "csat_asked"]  # bot/services/csat.py


def test_asking_again_within_a_week_reopens(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.a")
    conv = f.conversation(db, "reopen")
    ticket_id = handoff(app_client, conv.id)["ticket"]["id"]
    auth = token(app_client, "espoo.a")
    app_client.post("/api/tickets/claim", headers=auth)
    app_client.post(f"/api/tickets/{ticket_id}/close", json={"outcome": "answered"}, headers=auth)
    again = handoff(app_client, conv.id)
    assert again["ticket"]["id"] == ticket_id and again["ticket"]["status"] == "queued"


def test_transfer_to_another_queue(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.shift(db, "helsinki", "employer_advisory")
    f.adviser(db, "espoo.a")
    ticket_id = handoff(app_client, f.conversation(db, "tr").id)["ticket"]["id"]
    auth = token(app_client, "espoo.a")
    app_client.post("/api/tickets/claim", headers=auth)
    r = app_client.post(f"/api/tickets/{ticket_id}/transfer", json={"queue": "employer_advisory"}, headers=auth)
    assert r.status_code == 200
    assert r.json()["queue"] == "employer_advisory" and r.json()["city_on_shift"] == "helsinki"
    assert r.json()["status"] == "queued"
    bad = app_client.post(f"/api/tickets/{ticket_id}/transfer", json={"queue": "nope"}, headers=auth)
    assert bad.status_code in (404, 422)


def test_access_rules(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.shift(db, "vantaa", "employer_advisory")
    f.adviser(db, "espoo.a")
    f.adviser(db, "espoo.b")
    f.adviser(db, "vantaa.a", city="vantaa")
    f.adviser(db, "boss", role="supervisor", city="helsinki")
    ticket_id = handoff(app_client, f.conversation(db, "acc").id)["ticket"]["id"]
    assert app_client.get("/api/tickets").status_code == 401
    assert app_client.get("/api/tickets", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert app_client.post("/api/tickets/claim").status_code == 401
    a, b, v, boss = (token(app_client, u) for u in ("espoo.a", "espoo.b", "vantaa.a", "boss"))
    # the Vantaa adviser's shift covers the employer advisory only: the Espoo ticket is invisible
    assert app_client.get(f"/api/tickets/{ticket_id}", headers=v).status_code == 404
    assert app_client.get("/api/tickets", headers=v).json()["tickets"] == []
    assert app_client.post("/api/tickets/claim?queue=jobseeker_espoo", headers=v).status_code == 403
    assert [t["id"] for t in app_client.get("/api/tickets", headers=boss).json()["tickets"]] == [ticket_id]
    app_client.post("/api/tickets/claim", headers=a)
    # someone else's ticket
    r = app_client.post(f"/api/tickets/{ticket_id}/reply", json={"text": "minä!"}, headers=b)
    assert r.status_code == 403
    assert app_client.post(f"/api/tickets/{ticket_id}/close", json={"outcome": "answered"}, headers=b).status_code == 403
    # claim on an empty queue answers cleanly
    r = app_client.post("/api/tickets/claim", headers=b)
    assert r.status_code == 200 and r.json() is None
    # bad input
    assert app_client.post(f"/api/tickets/{ticket_id}/close", json={"outcome": "whatever"}, headers=a).status_code == 422
    assert app_client.post(f"/api/tickets/{ticket_id}/reply", json={"text": ""}, headers=a).status_code == 422
    assert app_client.get("/api/tickets?status=bogus", headers=a).status_code == 422
    assert app_client.get("/api/tickets/does-not-exist", headers=a).status_code == 404


def test_per_adviser_limit(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "small", max_open=1)
    for n in range(2):
        handoff(app_client, f.conversation(db, f"lim{n}").id)
    auth = token(app_client, "small")
    assert app_client.post("/api/tickets/claim", headers=auth).status_code == 200
    r = app_client.post("/api/tickets/claim", headers=auth)
    assert r.status_code == 409 and r.json()["error"]["code"] == "limit_reached"


def test_login_throttling_and_wrong_password(app_client: TestClient, db: Session) -> None:
    f.adviser(db, "target")
    for _ in range(5):
        r = app_client.post("/api/auth/token", data={"username": "target", "password": "wrong-guess-123"})
        assert r.status_code == 401
    r = app_client.post("/api/auth/token", data={"username": "target", "password": f.PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert app_client.post("/api/auth/token", data={"username": "x"}).status_code == 422


def test_queue_depths(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "boss", role="supervisor")
    handoff(app_client, f.conversation(db, "q1").id)
    queues = {q["queue"]: q for q in app_client.get("/api/queues", headers=token(app_client, "boss")).json()["queues"]}
    assert queues["jobseeker_espoo"]["depth"] == 1 and queues["jobseeker_espoo"]["city_on_shift"] == "espoo"
    assert queues["employer_advisory"]["depth"] == 0


def test_holiday_closes_the_advisory_unless_a_shift_says_otherwise(db: Session) -> None:
    hours = shifts.OpeningHours.parse("mon-fri 08:00-16:00")
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=shifts.HELSINKI).astimezone(timezone.utc)
    assert shifts.is_holiday(date(2026, 12, 24)) and shifts.is_holiday(date(2026, 12, 6))
    opens = shifts.next_opening(db, "employer_advisory", "web", christmas_eve, hours).astimezone(shifts.HELSINKI)
    assert opens == datetime(2026, 12, 28, 8, 0, tzinfo=shifts.HELSINKI)  # 25.–26.12. holidays, 27.12. Sunday
    conv = f.conversation(db, "xmas")
    result = do_handoff(db, conversation_id=conv.id, reason="asked_for_human", topic="pay_subsidy", now=christmas_eve,
                        hours=hours, home_area="espoo", reopen_days=7)
    assert "28.12.2026 08:00" in result.notice.text
    # a shift that covers the holiday opens it
    db.add(shifts.Shift(city="espoo", queue="employer_advisory", channel=None,
                        starts_at=christmas_eve - timedelta(hours=1), ends_at=christmas_eve + timedelta(hours=3)))
    db.commit()
    assert shifts.city_on_shift(db, "employer_advisory", "web", christmas_eve) == "espoo"


def test_shift_import_is_all_or_nothing(db: Session) -> None:
    good = "city,queue,channel,starts_at,ends_at\nespoo,employer_advisory,,2026-12-01T08:00,2026-12-01T16:00\n"
    assert shifts.do_import_shifts(db, good) == 1
    stored = db.query(shifts.Shift).one()
    assert stored.starts_at == datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)  # stored in UTC
    bad = good + "espoo,employer_advisory,,2026-12-02T16:00,2026-12-02T08:00\n"
    with pytest.raises(shifts.ShiftError, match="line 3"):
        shifts.do_import_shifts(db, bad)
    assert db.query(shifts.Shift).count() == 1


def test_a_shift_for_one_channel_opens_only_that_channels_tickets(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo", channel="web")
    f.adviser(db, "chat.only")
    f.adviser(db, "boss", role="supervisor", city="helsinki")
    by_mail = handoff(app_client, f.conversation(db, "ch-mail", channel="email").id)["ticket"]["id"]
    by_chat = handoff(app_client, f.conversation(db, "ch-web").id)["ticket"]["id"]
    auth = token(app_client, "chat.only")
    assert [t["id"] for t in app_client.get("/api/tickets", headers=auth).json()["tickets"]] == [by_chat]
    assert app_client.get(f"/api/tickets/{by_mail}", headers=auth).status_code == 404
    assert app_client.post("/api/tickets/claim?queue=jobseeker_espoo", headers=auth).json()["id"] == by_chat
    assert app_client.post("/api/tickets/claim", headers=auth).json() is None  # the e-mail waits
    assert app_client.post(f"/api/tickets/{by_mail}/close", json={"outcome": "spam"}, headers=auth).status_code == 404
    boss = {t["id"] for t in app_client.get("/api/tickets", headers=token(app_client, "boss")).json()["tickets"]}
    assert boss == {by_mail, by_chat}
    # a shift without a channel covers every channel
    f.shift(db, "espoo", "jobseeker_espoo")
    assert app_client.get(f"/api/tickets/{by_mail}", headers=auth).status_code == 200


def test_holding_a_ticket_once_gives_no_lasting_access(app_client: TestClient, db: Session) -> None:
    from sqlalchemy import update

    from bot.models import Message, Shift
    from bot.services.attachments import NewAttachment, do_keep_attachment

    shift = f.shift(db, "espoo", "jobseeker_espoo")
    f.shift(db, "vantaa", "employer_advisory")
    f.adviser(db, "espoo.a")
    f.adviser(db, "boss", role="supervisor", city="helsinki")
    a, boss = token(app_client, "espoo.a"), token(app_client, "boss")
    closed = handoff(app_client, f.conversation(db, "held-1").id)["ticket"]["id"]
    moved_conv = f.conversation(db, "held-2")
    moved = handoff(app_client, moved_conv.id)["ticket"]["id"]
    assert app_client.post("/api/tickets/claim", headers=a).json()["id"] == closed
    app_client.post(f"/api/tickets/{closed}/reply", json={"text": "Hei, tässä vastaus."}, headers=a)
    assert app_client.post(f"/api/tickets/{closed}/close", json={"outcome": "answered"}, headers=a).status_code == 200
    assert app_client.post("/api/tickets/claim", headers=a).json()["id"] == moved
    assert app_client.post(f"/api/tickets/{moved}/transfer", json={"queue": "employer_advisory"},
                           headers=a).status_code == 200
    # the shift ends: what is left is what the adviser holds or last held when it closed
    db.execute(update(Shift).where(Shift.id == shift.id).values(ends_at=f.now() - timedelta(seconds=1)))
    db.commit()
    assert app_client.get(f"/api/tickets/{moved}", headers=a).status_code == 404  # transferred away
    assert [t["id"] for t in app_client.get("/api/tickets", headers=a).json()["tickets"]] == [closed]
    # the customer writes again (with a file) after the ticket closed
    ticket = db.get(Ticket, closed)
    assert ticket is not None
    later = Message(conversation_id=ticket.conversation_id, sender="customer", text="uusi asia myöhemmin",
                    language="fi", status="for_adviser", created_at=f.now() + timedelta(seconds=1))
    db.add(later)
    db.flush()
    file = do_keep_attachment(db, later, NewAttachment("todistus.pdf", "application/pdf", b"%PDF-1.4"))
    db.commit()
    file_id = file.id
    read_back = app_client.get(f"/api/tickets/{closed}", headers=a)
    assert read_back.status_code == 200
    texts = [m["text"] for m in read_back.json()["transcript"]]
    assert "Hei, tässä vastaus." in texts and "uusi asia myöhemmin" not in texts
    assert app_client.get(f"/api/tickets/{closed}/attachments/{file_id}", headers=a).status_code == 404
    assert "uusi asia myöhemmin" in [m["text"] for m in app_client.get(f"/api/tickets/{closed}", headers=boss)
                                     .json()["transcript"]]
    assert app_client.get(f"/api/tickets/{closed}/attachments/{file_id}", headers=boss).status_code == 200
    # read-only: nothing can be done with it
    r = app_client.post(f"/api/tickets/{closed}/reply", json={"text": "vielä"}, headers=a)
    assert r.status_code == 409
    # reopened for the queue: the former holder's access ends
    assert handoff(app_client, ticket.conversation_id)["ticket"] == {"id": closed, "queue": "jobseeker_espoo",
                                                                      "status": "queued"}
    assert app_client.get(f"/api/tickets/{closed}", headers=a).status_code == 404
    assert app_client.get("/api/tickets", headers=a).json()["tickets"] == []


def test_a_queued_ticket_is_closed_or_transferred_only_by_its_holder(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.a")
    f.adviser(db, "boss", role="supervisor", city="helsinki")
    first = handoff(app_client, f.conversation(db, "unclaimed-1").id)["ticket"]["id"]
    second = handoff(app_client, f.conversation(db, "unclaimed-2").id)["ticket"]["id"]
    a = token(app_client, "espoo.a")
    r = app_client.post(f"/api/tickets/{first}/close", json={"outcome": "spam"}, headers=a)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimed"
    r = app_client.post(f"/api/tickets/{first}/transfer", json={"queue": "employer_advisory"}, headers=a)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_claimed"
    db.expire_all()
    assert db.get(Ticket, first).status == "queued" and db.get(Ticket, first).queue == "jobseeker_espoo"  # type: ignore[union-attr]
    # supervisors may, e.g. for spam
    boss = token(app_client, "boss")
    assert app_client.post(f"/api/tickets/{second}/close", json={"outcome": "spam"}, headers=boss).status_code == 200
    assert app_client.post(f"/api/tickets/{first}/transfer", json={"queue": "employer_advisory"},
                           headers=boss).status_code == 200


def test_logout_revokes_the_bearer_token(app_client: TestClient, db: Session) -> None:
    f.adviser(db, "espoo.a")
    auth = token(app_client, "espoo.a")
    other = token(app_client, "espoo.a")
    assert app_client.get("/api/tickets", headers=auth).status_code == 200
    assert app_client.post("/api/auth/logout", headers=auth).status_code == 204
    r = app_client.get("/api/tickets", headers=auth)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert app_client.post("/api/auth/logout", headers=auth).status_code == 401
    assert app_client.post("/api/auth/logout").status_code == 401
    assert app_client.get("/api/tickets", headers=other).status_code == 200  # only that token


def test_an_attachment_id_beyond_the_database_integer_is_refused(app_client: TestClient, db: Session) -> None:
    """A path id the INTEGER column cannot hold is a 422, not a 500 (OverflowError on SQLite,
    NumericValueOutOfRange on PostgreSQL)."""
    f.adviser(db, "boss", role="supervisor")
    ticket = handoff(app_client, f.conversation(db, "big-id").id)["ticket"]["id"]
    boss = token(app_client, "boss")
    for attachment_id in (2**70, -(2**70), 2**31, 0):
        r = app_client.get(f"/api/tickets/{ticket}/attachments/{attachment_id}", headers=boss)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_field", (attachment_id, r.text)
    assert app_client.get(f"/api/tickets/{ticket}/attachments/{2**31 - 1}", headers=boss).status_code == 404


def test_an_adviser_claims_the_ticket_they_choose_and_a_taken_one_is_409(app_client: TestClient, db: Session) -> None:
    """Issue 15: the Somali-speaking adviser picks the Somali ticket from the list, not the oldest."""
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.fi", languages="fi,en")
    f.adviser(db, "espoo.so", languages="fi,so")
    handoff(app_client, f.conversation(db, "w-fi", language="fi").id)
    somali = handoff(app_client, f.conversation(db, "w-so", language="so").id)["ticket"]["id"]
    r = app_client.post(f"/api/tickets/{somali}/claim", headers=token(app_client, "espoo.so"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "claimed" and r.json()["id"] == somali
    again = app_client.post(f"/api/tickets/{somali}/claim", headers=token(app_client, "espoo.fi"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "taken"
    assert app_client.post("/api/tickets/nope/claim", headers=token(app_client, "espoo.fi")).status_code == 404


def test_a_ticket_in_a_language_nobody_speaks_is_claimed_in_interpreter_mode(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.fi2", languages="fi")
    ticket_id = handoff(app_client, f.conversation(db, "w-ar", language="ar").id)["ticket"]["id"]
    r = app_client.post(f"/api/tickets/{ticket_id}/claim", headers=token(app_client, "espoo.fi2"))
    assert r.status_code == 200
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.needs_interpreter and ticket.status == "claimed"


def test_a_supervisor_assigns_a_ticket_to_a_named_colleague(app_client: TestClient, db: Session) -> None:
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.b", languages="fi,so")
    f.adviser(db, "espoo.c", languages="fi")
    f.adviser(db, "boss", role="supervisor", languages="fi")
    ticket_id = handoff(app_client, f.conversation(db, "w-as", language="so").id)["ticket"]["id"]
    # an adviser may not assign
    denied = app_client.post(f"/api/tickets/{ticket_id}/assign", json={"adviser": "espoo.b"},
                             headers=token(app_client, "espoo.c"))
    assert denied.status_code == 403
    r = app_client.post(f"/api/tickets/{ticket_id}/assign", json={"adviser": "espoo.b"}, headers=token(app_client, "boss"))
    assert r.status_code == 200 and r.json()["status"] == "claimed"
    # handed on from one colleague to another
    r = app_client.post(f"/api/tickets/{ticket_id}/assign", json={"adviser": "espoo.c"}, headers=token(app_client, "boss"))
    assert r.status_code == 200
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.assigned_to == db.scalars(select(Adviser.id).where(Adviser.username == "espoo.c")).one()
    assert ticket.needs_interpreter  # espoo.c does not speak Somali
    unknown = app_client.post(f"/api/tickets/{ticket_id}/assign", json={"adviser": "ghost"}, headers=token(app_client, "boss"))
    assert unknown.status_code == 422


def test_a_customer_writing_on_a_weekend_hears_when_the_advisory_opens_with_the_weekday(
        app_client: TestClient, db: Session) -> None:
    """Issue 15: never silent after a hand-off; the opening time names its weekday, in the customer's
    language (Somali here), and the message is kept for the adviser."""
    conv = f.conversation(db, "weekend-so", language="so")
    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=timezone.utc)  # Saturday 13:00 in Helsinki
    with app_client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        result = do_handoff(session, conversation_id=conv.id, reason="asked_for_human", topic=None, now=saturday,
                            hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"), home_area="espoo", reopen_days=7)
        assert "Isniin 07.12.2026 08:00" in result.notice.text
        notice = waiting_notice(session, conv.id, "so", saturday, shifts.OpeningHours.parse("mon-fri 08:00-16:00"))
    assert notice is not None
    assert notice.text == (render("sys_waiting_closed", "so", opens_at="Isniin 07.12.2026 08:00").text
                           + "\n\n" + render("sys_queue_next", "so").text)  # closed: the place, no estimate
    r = app_client.post("/api/chat", json={"conversation_id": "weekend-so", "text": "goorma ayaan jawaab helayaa?"})
    assert r.status_code == 200 and r.json()["replies"][0]["text"].startswith("Fariintaada waa loo kaydiyay")
    db.expire_all()
    kept = db.scalars(select(Message).where(Message.conversation_id == conv.id, Message.sender == "customer")).all()
    assert [m.status for m in kept][-1] == "for_adviser"


def test_a_ticket_in_a_language_nobody_in_the_city_speaks_is_claimed_next_in_interpreter_mode(
        app_client: TestClient, db: Session) -> None:
    """Issue 15: claiming never waits forever for a speaker who is not there."""
    f.shift(db, "espoo", "jobseeker_espoo")
    f.adviser(db, "espoo.only.fi", languages="fi,sv")
    conv = f.conversation(db, "w-nobody", language="uk")
    ticket_id = handoff(app_client, conv.id)["ticket"]["id"]
    with app_client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        session.get(Ticket, ticket_id).needs_interpreter = False  # type: ignore[union-attr]  # as if a speaker had been on shift
        session.commit()
    claimed = app_client.post("/api/tickets/claim", headers=token(app_client, "espoo.only.fi")).json()
    assert claimed is not None and claimed["id"] == ticket_id
    db.expire_all()
    assert db.get(Ticket, ticket_id).needs_interpreter  # type: ignore[union-attr]
