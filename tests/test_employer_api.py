"""Employers' structured intake (issue 17) through the public API: business-ID check digits, the
duty table of change notices, the supports rule, validation that names every field and saves
nothing, the ticket and its intake as advisers read it, the export for Työmarkkinatori, the
skills answers without personal data, privacy and retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.models import Conversation, SkillNeed, Ticket
from bot.services.employer import check_business_id, check_email, check_phone
from tests import factories as f


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"employer_rate_per_address": 1000}))) as c:
        yield c


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def soon(days: int = 30) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def assignment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": "fi",
        "company": {"name": "Esimerkki Oy", "business_id": "0737546-2"},
        "contact": {"name": "Maija Meikäläinen", "email": "maija@esimerkki.fi", "phone": "040 123 4567"},
        "job": {"title": "Kokki", "positions": 2, "municipality": "Espoo", "start_date": soon(), "permanent": False,
                "months": 12, "hours_per_week": 37.5, "languages": [{"language": "fi", "level": "B1"}],
                "requirements": "Hygieniapassi"},
        "training_route_welcome": False, "subsidy_welcome": True, "share_across_region": True,
    }
    for key, value in changes.items():
        if key in ("job", "company", "contact"):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


def notice(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": "en", "company": {"name": "Example Ltd", "business_id": "2617416-4"},
        "contact": {"name": "Alex Example", "email": "alex@example.fi", "phone": "+358 9 123 4567"},
        "staff": 35, "affected": 12, "kind": "dismissal", "negotiations_start": soon(10)}
    body.update(changes)
    return body


def tickets(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Ticket)) or 0)


def token(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# ---- business ID, e-mail, phone ----

@pytest.mark.parametrize(("given", "expected"), [
    ("0737546-2", "0737546-2"), ("2617416-4", "2617416-4"), ("1572860-0", "1572860-0"),
    (" 2617416-4 ", "2617416-4"), ("737546-2", "0737546-2"),  # an old 6-digit body, padded
    ("07375462", "0737546-2"),  # without the hyphen
    ("0737546-3", None), ("2617416-5", None), ("1572860-1", None),  # wrong check digit
    ("1234567-1", "1234567-1"), ("1234567-2", None),  # 153 = 13·11 + 10 → check digit 1
    ("123456", None), ("12345678-9", None), ("ABCDEFG-1", None), ("0737546_2", None), ("", None),
])
def test_business_id_check_digit(given: str, expected: str | None) -> None:
    assert check_business_id(given) == expected


def test_remainder_one_bodies_are_never_valid() -> None:
    body = next(f"{n:07d}" for n in range(1000) if sum(int(d) * w for d, w in zip(f"{n:07d}", (7, 9, 10, 5, 8, 4, 2),
                                                                                  strict=True)) % 11 == 1)
    assert all(check_business_id(f"{body}-{c}") is None for c in range(10))


def test_email_and_phone_are_normalised() -> None:
    assert check_email("Maija@Esimerkki.FI") == "Maija@esimerkki.fi"
    assert check_email("maija@esimerkki") is None and check_email("not an address") is None
    assert check_phone("040 123 4567") == "+358401234567"
    assert check_phone("+46 70 123 45 67") == "+46701234567"
    assert check_phone("0046 70 123 45 67") == "+46701234567"
    assert check_phone("12") is None and check_phone("hello") is None


# ---- change-notice duties ----

D, L = "dismissal", "layoff"
DUTY_TABLE = [
    # staff, affected, kind, duties (None: refused, more affected than staff)
    (5, 3, D, {"employment_leave", "extra_security_55"}),
    (5, 9, D, None), (5, 12, D, None), (5, 40, D, None),
    (20, 3, D, {"notify_authority", "operating_principles", "employment_leave", "extra_security_55"}),
    (20, 9, D, {"notify_authority", "operating_principles", "employment_leave", "extra_security_55"}),
    (20, 12, D, {"notify_authority", "action_plan", "employment_leave", "extra_security_55"}),
    (20, 40, D, None),
    (35, 3, D, {"notify_authority", "operating_principles", "training_duty", "employment_leave", "extra_security_55"}),
    (35, 9, D, {"notify_authority", "operating_principles", "training_duty", "employment_leave", "extra_security_55"}),
    (35, 12, D, {"notify_authority", "action_plan", "training_duty", "employment_leave", "extra_security_55"}),
    (35, 40, D, None),
    (120, 3, D, {"notify_authority", "operating_principles", "training_duty", "employment_leave", "extra_security_55"}),
    (120, 9, D, {"notify_authority", "operating_principles", "training_duty", "employment_leave", "extra_security_55"}),
    (120, 12, D, {"notify_authority", "action_plan", "training_duty", "employment_leave", "extra_security_55"}),
    (120, 40, D, {"notify_authority", "action_plan", "training_duty", "employment_leave", "extra_security_55"}),
    (5, 3, L, set()), (5, 9, L, None), (5, 12, L, None), (5, 40, L, None),
    (20, 3, L, {"notify_authority"}), (20, 9, L, {"notify_authority"}), (20, 12, L, {"notify_authority"}),
    (20, 40, L, None),
    (35, 3, L, {"notify_authority"}), (35, 9, L, {"notify_authority"}), (35, 12, L, {"notify_authority"}),
    (35, 40, L, None),
    (120, 3, L, {"notify_authority"}), (120, 9, L, {"notify_authority"}), (120, 12, L, {"notify_authority"}),
    (120, 40, L, {"notify_authority"}),
]


@pytest.mark.parametrize(("staff", "affected", "kind", "expected"), DUTY_TABLE)
def test_change_notice_duties(client: TestClient, db: Session, staff: int, affected: int, kind: str,
                              expected: set[str] | None) -> None:
    r = client.post("/api/employer/change-notices", json=notice(staff=staff, affected=affected, kind=kind))
    if expected is None:
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["error"]["fields"]] == ["affected"]
        assert tickets(db) == 0
        return
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer["duties"]) == expected
    assert len(answer["duties"]) == len(expected)
    assert answer["coordination"] is (affected >= 10)
    assert answer["ticket"]["queue"] == "employer_advisory" and answer["ticket"]["status"] == "queued"
    ticket = db.get(Ticket, answer["ticket"]["id"])
    assert ticket is not None and ticket.intake is not None
    assert ticket.intake["coordination"] is (affected >= 10) and set(ticket.intake["duties"]) == expected
    assert ticket.priority > (20 if affected >= 10 else 0) - 1
    assert ticket.channel == "web" and db.get(Conversation, ticket.conversation_id) is not None


# ---- supports ----

@pytest.mark.parametrize(("job", "subsidy", "training", "expected"), [
    ({"permanent": True, "months": None, "hours_per_week": 37.5}, True, True,
     ["palkkatuki", "tyollistamistuki_55", "espoo_rekrytointituki", "nuorten_tyollistymisseteli",
      "rekrytointipalvelu", "yhteishankintakoulutus"]),
    ({"permanent": False, "months": 12, "hours_per_week": 30}, True, False,
     ["palkkatuki", "tyollistamistuki_55", "espoo_rekrytointituki", "nuorten_tyollistymisseteli", "rekrytointipalvelu"]),
    ({"permanent": False, "months": 11, "hours_per_week": 37.5}, True, False,  # too short for Espoo's subsidy
     ["palkkatuki", "tyollistamistuki_55", "nuorten_tyollistymisseteli", "rekrytointipalvelu"]),
    ({"permanent": True, "hours_per_week": 29}, True, False,  # under 80 % of full time
     ["palkkatuki", "tyollistamistuki_55", "nuorten_tyollistymisseteli", "rekrytointipalvelu"]),
    ({"permanent": False, "months": 6, "hours_per_week": 25}, True, False,
     ["palkkatuki", "tyollistamistuki_55", "nuorten_tyollistymisseteli", "rekrytointipalvelu"]),
    ({"permanent": False, "months": 5, "hours_per_week": 40}, True, False,
     ["palkkatuki", "tyollistamistuki_55", "rekrytointipalvelu"]),
    ({"permanent": True, "hours_per_week": 24}, True, False, ["palkkatuki", "tyollistamistuki_55", "rekrytointipalvelu"]),
    ({"permanent": True, "hours_per_week": 37.5}, False, False, ["rekrytointipalvelu"]),  # no subsidy wanted
    ({"permanent": True, "hours_per_week": 37.5}, False, True, ["rekrytointipalvelu", "yhteishankintakoulutus"]),
])
def test_assignment_supports(client: TestClient, db: Session, job: dict[str, Any], subsidy: bool, training: bool,
                             expected: list[str]) -> None:
    r = client.post("/api/employer/assignments",
                    json=assignment(job=job, subsidy_welcome=subsidy, training_route_welcome=training))
    assert r.status_code == 200, r.text
    assert r.json()["supports"] == expected
    assert r.json()["ticket"]["queue"] == "employer_advisory"
    if "espoo_rekrytointituki" in expected:
        assert "Espoon rekrytointituki" in r.json()["next"] and "alle 30-vuotias espoolainen" in r.json()["next"]


def test_assignment_answer_and_ticket(client: TestClient, db: Session) -> None:
    r = client.post("/api/employer/assignments", json=assignment(language="sv", skills_needed="Excel och SAP"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert "Vad händer sedan" in answer["next"] and answer["ticket"]["id"] in answer["next"]
    ticket = db.get(Ticket, answer["ticket"]["id"])
    assert ticket is not None and ticket.intake is not None
    assert ticket.intake["type"] == "assignment"
    assert ticket.intake["contact"] == {"name": "Maija Meikäläinen", "email": "maija@esimerkki.fi",
                                        "phone": "+358401234567"}
    assert ticket.intake["job"]["start_date"] == soon() and ticket.intake["job"]["months"] == 12
    assert ticket.language == "sv" and ticket.topic == "recruiting_help" and ticket.status == "queued"
    assert ticket.contact is not None and ticket.contact["email"] == "maija@esimerkki.fi"


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", "Mitä seuraavaksi"), ("sv", "Vad händer sedan"), ("en", "What happens next"),
    ("xx", "What happens next"), (None, "What happens next"), ("ru", "Что дальше"),
])
def test_next_is_in_the_requested_language(client: TestClient, language: str | None, expected: str) -> None:
    r = client.post("/api/employer/assignments", json=assignment(language=language))
    assert r.status_code == 200, r.text
    assert expected in r.json()["next"]


# ---- bad input ----

def test_invalid_assignment_names_every_field_and_saves_nothing(client: TestClient, db: Session) -> None:
    body = assignment(
        language="fi",
        company={"business_id": "0737546-3"}, contact={"email": "maija(at)esimerkki", "phone": "12"},
        job={"start_date": (date.today() - timedelta(days=1)).isoformat(), "positions": 0, "hours_per_week": 81,
             "months": 61, "languages": [{"language": "fi", "level": "Z9"}]},
    )
    del body["job"]["title"]
    r = client.post("/api/employer/assignments", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    fields = {e["field"]: e["code"] for e in error["fields"]}
    assert fields == {
        "company.business_id": "invalid_business_id", "contact.email": "invalid_email",
        "contact.phone": "invalid_phone", "job.title": "required", "job.positions": "out_of_range",
        "job.start_date": "date_in_past", "job.months": "out_of_range", "job.hours_per_week": "out_of_range",
        "job.languages.0.level": "invalid_choice"}
    assert error["code"] == "invalid_field"
    assert error["message"].startswith("Tarkistakaa nämä kentät:")  # in the request's language
    assert "Y-tunnus" in error["message"] and "job.hours_per_week" in error["message"]
    assert tickets(db) == 0
    assert db.scalar(select(func.count()).select_from(SkillNeed)) == 0
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"job": {"positions": 501}}, "job.positions", "out_of_range"),
    ({"job": {"positions": 2.5}}, "job.positions", "out_of_range"),
    ({"job": {"months": 0}}, "job.months", "out_of_range"),
    ({"job": {"months": None}}, "job.months", "required"),
    ({"job": {"permanent": "maybe"}}, "job.permanent", "invalid_choice"),
    ({"job": {"start_date": "31.2.2027"}}, "job.start_date", "invalid_date"),
    ({"job": {"title": "x" * 201}}, "job.title", "too_long"),
    ({"company": {"business_id": "1234567"}}, "company.business_id", "invalid_business_id"),
    ({"contact": {"email": ""}}, "contact.email", "required"),
    ({"subsidy_welcome": "perhaps"}, "subsidy_welcome", "invalid_choice"),
])
def test_each_rule_of_an_assignment(client: TestClient, db: Session, changes: dict[str, Any], field: str,
                                    code: str) -> None:
    r = client.post("/api/employer/assignments", json=assignment(language="en", **changes))
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["error"]["fields"]] == [(field, code)]
    assert r.json()["error"]["message"].startswith("Please check these fields:")
    assert tickets(db) == 0


def test_invalid_change_notice(client: TestClient, db: Session) -> None:
    r = client.post("/api/employer/change-notices", json={"language": "sv", "staff": "many", "affected": 0,
                                                          "kind": "fired", "negotiations_start": "soon"})
    assert r.status_code == 422
    fields = {e["field"]: e["code"] for e in r.json()["error"]["fields"]}
    assert fields == {"company.name": "required", "company.business_id": "required", "contact.name": "required",
                      "contact.email": "required", "staff": "out_of_range", "affected": "out_of_range",
                      "kind": "invalid_choice", "negotiations_start": "invalid_date"}
    assert r.json()["error"]["message"].startswith("Kontrollera dessa fält:")
    assert tickets(db) == 0
    for body in ([], "text", None):
        assert client.post("/api/employer/change-notices", json=body).status_code == 422
    assert tickets(db) == 0


def test_submissions_are_rate_limited(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"employer_rate_per_address": 2}))) as c:
        assert c.post("/api/employer/assignments", json=assignment()).status_code == 200
        assert c.post("/api/employer/change-notices", json=notice()).status_code == 200
        r = c.post("/api/employer/assignments", json=assignment(language="fi"))
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "too_many_requests"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_control_characters_are_a_clear_422_and_nothing_is_saved(database: str, settings: Settings,
                                                                   request: pytest.FixtureRequest) -> None:
    """PostgreSQL cannot store NUL: without the check such a form was a 500 there (and stored on SQLite)."""
    if database == "postgresql":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    with TestClient(create_app(settings.model_copy(update={"employer_rate_per_address": 1000}))) as client:
        r = client.post("/api/employer/assignments",
                        json=assignment(company={"name": "Esimerkki\x00 Oy", "business_id": "0737546-2"}))
        assert r.status_code == 422
        assert [(e["field"], e["code"]) for e in r.json()["error"]["fields"]] == [("company.name", "invalid_characters")]
        r = client.post("/api/employer/change-notices", json=notice(skills_needed="Excel\x1b[31m"))
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["code"] == "invalid_characters"
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            assert tickets(db) == 0
