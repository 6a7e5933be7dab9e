"""Employers' intake as advisers and supervisors meet it (issue 17): the ticket page shows the packet,
the supervisor page marks coordination cases, the exports (JSON and formula-safe CSV, skills without
personal data), privacy export and erasure, retention, and the plain web forms. PostgreSQL once."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import create_app
from bot.config import Settings
from bot.models import Conversation, SkillNeed, Ticket
from bot.services.retention import do_purge
from tests import factories as f
from tests.test_console import sign_in
from tests.test_employer_api import assignment, notice, soon, tickets, token

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"employer_rate_per_address": 1000})),
                    follow_redirects=False) as c:
        yield c


@pytest.fixture
def db(client: TestClient) -> Iterator[Session]:
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        yield session


def test_the_ticket_page_shows_the_packet_to_the_adviser_on_shift(client: TestClient, db: Session) -> None:
    for city in ("helsinki", "vantaa"):  # the shared queue: whichever city staffs it sees the intake
        f.adviser(db, f"{city}.adviser", city=city, languages="fi,sv,en")
    shift = f.shift(db, "vantaa", "employer_advisory")
    r = client.post("/api/employer/assignments", json=assignment(
        skills_needed="Excel", company={"name": "Kahvila <b>Kuppi</b> Oy"}))
    ticket_id = r.json()["ticket"]["id"]
    sign_in(client, "vantaa.adviser")
    page = client.get(f"/console/tickets/{ticket_id}")
    assert page.status_code == 200
    html = page.text
    assert "Rekrytointitoimeksianto" in html  # the adviser's working language: Finnish by default
    assert "Kahvila &lt;b&gt;Kuppi&lt;/b&gt; Oy" in html and "<b>Kuppi</b>" not in html  # escaped
    for shown in ("0737546-2", "Maija Meikäläinen", "maija@esimerkki.fi", "+358401234567", "Kokki", "Espoo",
                  "fi B1", "Hygieniapassi", "Määräaikainen, 12 kk", "palkkatuki", "Tulevat osaamistarpeet", "Excel"):
        assert shown in unescape(html), shown
    api = client.get(f"/api/tickets/{ticket_id}", headers=token(client, "vantaa.adviser"))
    assert api.status_code == 200 and api.json()["intake"]["job"]["title"] == "Kokki"
    # another city's adviser, not on shift for the queue, reads it (shared across the region) but
    # cannot claim it; once on shift, claims
    assert client.get(f"/api/tickets/{ticket_id}", headers=token(client, "helsinki.adviser")).status_code == 200
    assert client.post(f"/api/tickets/{ticket_id}/claim",
                       headers=token(client, "helsinki.adviser")).status_code == 403
    db.delete(db.get(type(shift), shift.id))
    db.commit()
    f.shift(db, "helsinki", "employer_advisory")
    assert client.post(f"/api/tickets/{ticket_id}/claim",
                       headers=token(client, "helsinki.adviser")).status_code == 200


def test_supervisors_see_coordination_cases(client: TestClient, db: Session) -> None:
    f.adviser(db, "super", role="supervisor", city="helsinki")
    small = client.post("/api/employer/change-notices", json=notice(affected=3, company={
        "name": "Pieni Oy", "business_id": "1572860-0"})).json()
    big = client.post("/api/employer/change-notices", json=notice(affected=40, staff=120)).json()
    assert big["coordination"] is True and small["coordination"] is False
    sign_in(client, "super")
    page = client.get("/console/supervisor").text
    part = page.split('id="coordination-heading"', 1)[1].split("</ul>", 1)[0]
    assert big["ticket"]["id"] in part and small["ticket"]["id"] not in part
    assert "Example Ltd" in part and "40/120" in part
    ticket_page = client.get(f"/console/tickets/{big['ticket']['id']}").text
    assert "Koordinoitava asia" in ticket_page
    assert "Koordinoitava asia" not in client.get(f"/console/tickets/{small['ticket']['id']}").text
    listed = client.get("/api/tickets?queue=employer_advisory", headers=token(client, "super")).json()["tickets"]
    assert listed[0]["id"] == big["ticket"]["id"]  # first in the queue


def test_assignment_export_json_and_csv_is_formula_safe(client: TestClient, db: Session) -> None:
    f.adviser(db, "adv", city="espoo")
    f.shift(db, "espoo", "employer_advisory")
    evil = client.post("/api/employer/assignments", json=assignment(
        company={"name": "=HYPERLINK(\"http://x\",\"y\")"}, job={"title": "+cmd|' /C calc'!A0",
                                                                 "requirements": "@SUM(1)"})).json()
    client.post("/api/employer/change-notices", json=notice())  # not an assignment: not exported
    headers = token(client, "adv")
    assert client.get("/api/employer/assignments/export").status_code == 401
    data = client.get("/api/employer/assignments/export?format=json", headers=headers)
    assert data.status_code == 200
    rows = data.json()["assignments"]
    assert [r["ticket_id"] for r in rows] == [evil["ticket"]["id"]]
    assert rows[0]["company_name"].startswith("=HYPERLINK")  # JSON keeps the text as it is
    text = client.get("/api/employer/assignments/export?format=csv", headers=headers).text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["company_name"].startswith("'=HYPERLINK") and parsed[0]["job_title"].startswith("'+cmd")
    assert parsed[0]["requirements"] == "'@SUM(1)" and parsed[0]["contact_phone"] == "'+358401234567"
    assert parsed[0]["languages"] == "fi B1" and parsed[0]["permanent"] == "no"
    for line in text.splitlines()[1:]:
        assert not any(cell[:1] in "=+-@" for cell in next(csv.reader([line])))
    tomorrow = (f.now() + timedelta(days=1)).date().isoformat()
    later = client.get(f"/api/employer/assignments/export?since={tomorrow}", headers=headers).json()
    assert later["assignments"] == []
    sign_in(client, "adv")
    console = client.get("/console/employer/assignments/export?format=csv")
    assert console.status_code == 200 and "'=HYPERLINK" in console.text


def test_skills_export_has_no_personal_data(client: TestClient, db: Session) -> None:
    client.post("/api/employer/assignments", json=assignment(
        skills_needed="Maija Meikäläinen tarvitsee Excel-koulutusta, soita 040 765 4321 tai maija@esimerkki.fi; "
                      "Esimerkki Oy 0737546-2 =1+1"))
    client.post("/api/employer/change-notices", json=notice(skills_needed="Forklift licences for 12 people"))
    client.post("/api/employer/change-notices", json=notice(company={"name": "Other Ltd", "business_id": "1572860-0"},
                                                            staff=25, skills_needed="Welding"))
    f.adviser(db, "boss", role="supervisor")
    f.adviser(db, "plain", city="espoo")
    sign_in(client, "plain")
    assert client.get("/console/employer/skill-needs.csv").status_code == 403
    sign_in(client, "boss")
    r = client.get("/console/employer/skill-needs.csv")
    assert r.status_code == 200
    text = r.text
    for personal in ("Maija", "Meikäläinen", "040 765 4321", "maija@", "0737546-2", "Esimerkki", "Example",
                     "Alex", "alex@", "Other Ltd"):
        assert personal not in text, personal
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {(r["kind"], r["area"], r["size_band"]) for r in rows} == {
        ("assignment", "espoo", "unknown"), ("change_notice", "unknown", "30-99"), ("change_notice", "unknown", "20-29")}
    first = next(r for r in rows if r["kind"] == "assignment")
    assert "Excel-koulutusta" in first["skills_needed"] and "[phone]" in first["skills_needed"]
    assert first["skills_needed"].startswith("[name]") and "'=1+1" not in first["skills_needed"]
    columns = {c.name for c in SkillNeed.__table__.columns}
    assert columns == {"id", "kind", "area", "size_band", "language", "text", "created_at"}  # nothing to link back


def test_privacy_export_and_erase_cover_the_intake(client: TestClient, db: Session) -> None:
    admin = f.adviser(db, "admin", role="admin")
    assert admin
    r = client.post("/api/employer/assignments", json=assignment(contact={"email": "Maija@Esimerkki.fi"}))
    ticket_id = r.json()["ticket"]["id"]
    headers = token(client, "admin")
    by_phone = client.post("/api/privacy/export", json={"phone": "+358 40 123 4567"}, headers=headers).json()
    assert [t["intake"]["contact"]["name"] for t in by_phone["tickets"]] == ["Maija Meikäläinen"]
    by_email = client.post("/api/privacy/export", json={"email": "maija@esimerkki.fi"}, headers=headers).json()
    assert by_email["tickets"][0]["id"] == ticket_id
    assert client.post("/api/privacy/erase", json={"email": "maija@esimerkki.fi"}, headers=headers).status_code == 200
    db.expire_all()
    ticket = db.get(Ticket, ticket_id)
    assert ticket is not None and ticket.intake is None and ticket.contact is None
    after = client.post("/api/privacy/export", json={"phone": "0401234567"}, headers=headers).json()
    assert after["tickets"] == []


def test_retention_purges_the_intake_with_the_ticket(client: TestClient, db: Session, settings: Settings) -> None:
    r = client.post("/api/employer/change-notices", json=notice())
    ticket = db.get(Ticket, r.json()["ticket"]["id"])
    assert ticket is not None
    long_ago = f.now() - timedelta(days=settings.retention_ticket_days + 1)
    ticket.status, ticket.closed_at = "closed", long_ago
    conversation = db.get(Conversation, ticket.conversation_id)
    assert conversation is not None
    conversation.updated_at = long_ago
    db.commit()
    do_purge(db, f.now(), settings)
    assert tickets(db) == 0
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0


# ---- the web form ----

def test_the_form_renders_in_every_language(client: TestClient) -> None:
    for lang, title in (("fi", "Rekrytointitoimeksianto"), ("sv", "Rekryteringsuppdrag"),
                        ("en", "Recruitment assignment"), ("xx", "Rekrytointitoimeksianto")):
        page = client.get(f"/employer/assignment?lang={lang}")
        assert page.status_code == 200 and title in page.text
        assert "<script" not in page.text
        for field in ("company.name", "company.business_id", "contact.email", "job.start_date"):
            ident = "f-" + field.replace(".", "-")
            assert f'<label for="{ident}"' in page.text and f'id="{ident}"' in page.text
    # every language with an employer catalogue; Arabic right to left
    for lang in ("ru", "uk", "et", "ar", "so"):
        title = yaml.safe_load((ROOT / "bot" / "locales" / "employer" / f"{lang}.yml").read_text())["form"][
            "assignment_title"]
        page = client.get(f"/employer/assignment?lang={lang}")
        assert page.status_code == 200 and html.escape(title) in page.text, lang
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
    notice_page = client.get("/employer/change-notice?lang=sv")
    assert notice_page.status_code == 200 and "Anmälan om omställningsskydd" in notice_page.text
    assert "frame-ancestors 'none'" in notice_page.headers["content-security-policy"]


def form(**changes: str) -> dict[str, str]:
    data = {"company.name": "Esimerkki Oy", "company.business_id": "0737546-2", "contact.name": "Maija",
            "contact.email": "maija@esimerkki.fi", "contact.phone": "040 123 4567", "job.title": "Kokki",
            "job.positions": "2", "job.municipality": "Espoo", "job.start_date": soon(), "job.permanent": "true",
            "job.months": "", "job.hours_per_week": "37,5", "job.languages.0.language": "suomi",
            "job.languages.0.level": "B1", "job.languages.1.language": "", "job.languages.1.level": "",
            "job.requirements": "", "subsidy_welcome": "true", "skills_needed": ""}
    data.update(changes)
    return data


def test_an_invalid_form_shows_errors_and_keeps_values(client: TestClient, db: Session) -> None:
    r = client.post("/employer/assignment?lang=en", data=form(**{
        "company.business_id": "0737546-3", "job.hours_per_week": "90", "job.title": "Chef <script>"}))
    assert r.status_code == 422
    html = r.text
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#f-company-business_id">' in summary and '<a href="#f-job-hours_per_week">' in summary
    assert "Business ID (Y-tunnus): This is not a valid business ID" in summary
    field = re.search(r'<input type="text" id="f-company-business_id"[^>]*>', html)
    assert field and 'value="0737546-3"' in field.group() and 'aria-invalid="true"' in field.group()
    assert 'aria-describedby="hint-company-business_id error-company-business_id"' in field.group()
    assert 'id="error-company-business_id"' in html
    assert 'value="Chef &lt;script&gt;"' in html and 'value="maija@esimerkki.fi"' in html  # kept, escaped
    assert re.search(r'name="subsidy_welcome" value="true" checked', html)
    assert tickets(db) == 0


def test_a_valid_form_makes_a_ticket(client: TestClient, db: Session) -> None:
    r = client.post("/employer/assignment?lang=sv", data=form())
    assert r.status_code == 200, r.text
    ticket = db.scalars(select(Ticket)).one()
    assert ticket.id in r.text and "Vad händer sedan" in r.text and "Lönesubvention (palkkatuki)" in r.text
    assert ticket.intake is not None and ticket.intake["job"]["hours_per_week"] == 37.5
    assert ticket.intake["job"]["languages"] == [{"language": "suomi", "level": "B1"}]
    assert ticket.language == "sv" and ticket.queue == "employer_advisory"
    r = client.post("/employer/change-notice?lang=fi", data={
        "company.name": "Esimerkki Oy", "company.business_id": "0737546-2", "contact.name": "Maija",
        "contact.email": "maija@esimerkki.fi", "staff": "35", "affected": "12", "kind": "layoff",
        "negotiations_start": soon(5)})
    assert r.status_code == 200 and "Ilmoitus työvoimaviranomaiselle" in r.text and "koordinoivat" in r.text


def test_on_postgresql(pg_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=pg_url, rasa_url="http://127.0.0.1:9", employer_rate_per_address=1000)
    with TestClient(create_app(settings)) as client, client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        bad = client.post("/api/employer/assignments", json=assignment(job={"positions": 0}))
        assert bad.status_code == 422 and tickets(db) == 0
        r = client.post("/api/employer/assignments", json=assignment(skills_needed="SAP, soita 040 7654321"))
        assert r.status_code == 200, r.text
        n = client.post("/api/employer/change-notices", json=notice(affected=20, staff=20))
        assert n.json()["duties"] == ["notify_authority", "action_plan", "employment_leave", "extra_security_55"]
        f.adviser(db, "pg.super", role="supervisor")
        f.adviser(db, "pg.admin", role="admin")
        headers = token(client, "pg.super")
        assert client.get(f"/api/tickets/{r.json()['ticket']['id']}", headers=headers).json()["intake"]["job"]["title"]
        rows = client.get("/api/employer/assignments/export?format=json", headers=headers).json()["assignments"]
        assert len(rows) == 1
        admin = token(client, "pg.admin")
        found = client.post("/api/privacy/export", json={"email": "MAIJA@esimerkki.fi"}, headers=admin).json()
        assert len(found["tickets"]) == 1
        assert client.post("/api/privacy/erase", json={"phone": "0401234567"}, headers=admin).status_code == 200
        db.expire_all()
        assert db.get(Ticket, r.json()["ticket"]["id"]).intake is None  # type: ignore[union-attr]
        assert db.scalar(select(SkillNeed.text)) == "SAP, soita [phone]"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_shared_assignment_is_read_by_every_city_and_handled_by_the_shift(
        database: str, settings: Settings, request: pytest.FixtureRequest) -> None:
    """Recruitment assignments are handled across the region: with the employer's consent, advisers
    of all three cities read the packet and add notes (a candidate); only the city on shift claims
    and answers. Without the consent, and for change notices, the shift alone."""
    if database == "postgresql":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("pg_url")})
    with TestClient(create_app(settings.model_copy(update={"employer_rate_per_address": 1000}))) as client:
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "espoo", "employer_advisory")
            f.adviser(db, "espoo.emp")
            f.adviser(db, "vantaa.emp", city="vantaa")
        shared = client.post("/api/employer/assignments", json=assignment()).json()["ticket"]["id"]
        private = client.post("/api/employer/assignments",
                              json=assignment(share_across_region=False)).json()["ticket"]["id"]
        change = client.post("/api/employer/change-notices", json=notice()).json()["ticket"]["id"]
        vantaa, espoo = token(client, "vantaa.emp"), token(client, "espoo.emp")

        seen = client.get(f"/api/tickets/{shared}", headers=vantaa)
        assert seen.status_code == 200 and seen.json()["intake"]["company"]["name"] == "Esimerkki Oy"
        assert [t["id"] for t in client.get("/api/tickets", headers=vantaa).json()["tickets"]] == [shared]
        note = client.post(f"/api/tickets/{shared}/notes", headers=vantaa, json={"text": "Ehdokas: Vantaan asiakas"})
        assert note.status_code == 201
        assert client.post(f"/api/tickets/{shared}/claim", headers=vantaa).status_code == 403
        # the console lists it to Vantaa — on shift, but for another queue — without a Claim button
        # (it would answer 403), to Espoo with one
        with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            f.shift(db, "vantaa", "jobseeker_espoo")
        claim_button = f'action="/console/tickets/{shared}/claim"'
        listed = _console_as(client, "vantaa.emp")
        assert shared in listed and claim_button not in listed
        assert claim_button in _console_as(client, "espoo.emp")
        for other in (private, change):
            assert client.get(f"/api/tickets/{other}", headers=vantaa).status_code == 404
        # the shift claims it; Vantaa still reads it while it is open, but cannot answer
        assert client.post(f"/api/tickets/{shared}/claim", headers=espoo).status_code == 200
        assert client.get(f"/api/tickets/{shared}", headers=vantaa).status_code == 200
        assert client.post(f"/api/tickets/{shared}/reply", headers=vantaa, json={"text": "hei"}).status_code == 403
        assert [n["text"] for n in client.get(f"/api/tickets/{shared}/notes", headers=espoo).json()["notes"]] == [
            "Ehdokas: Vantaan asiakas"]
        assert client.post(f"/api/tickets/{shared}/close", headers=espoo, json={"outcome": "answered"}).status_code == 200
        assert client.get(f"/api/tickets/{shared}", headers=vantaa).status_code == 404  # closed: the shift's again


def test_a_form_with_clashing_or_odd_field_names_is_refused_not_a_crash(client: TestClient, db: Session) -> None:
    for data in ({"job.languages.0": "x", "job.languages.0.level": "B1"}, {"company": "x", "company.name": "y"},
                 {"job.languages.99999.language": "fi"}, {f"f{i}": "x" for i in range(500)}):
        r = client.post("/employer/assignment?lang=en", data=data)
        assert r.status_code == 422 and "There is a problem" in r.text, data
    assert tickets(db) == 0


def _console_as(client: TestClient, username: str) -> str:
    """The console's queue page as `username` sees it (a fresh sign-in; the cookies cleared after)."""
    page = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    client.post("/console/login", data={"username": username, "password": f.PASSWORD, "csrf": csrf.group(1)})
    try:
        return client.get("/console").text
    finally:
        client.cookies.clear()
