"""GET /metrics (bot/services/metrics.py, bot/api/metrics.py): counters moved by a scripted
conversation through POST /api/chat against the stand-in Rasa, the queue gauges read from the
database, the wait histogram observed at claim time, no personal data in the text, and who may
scrape it. The counters are per process and shared by every test here, so each test compares
before and after."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from bot.config import ROOT, Settings
from bot.db import make_engine, make_sessionmaker, migrate
from bot.models import Conversation
from bot.services import metrics, shifts
from bot.services.tickets import do_handoff
from integrations.email.server import make_controller
from tests import factories as f
from tests.conftest import free_port
from tests.rasa_standin import running

LOOPBACK = ("127.0.0.1", 50000)
ELSEWHERE = ("203.0.113.5", 1234)
TOKEN = "metrics-token-for-tests-7f3a"
EMAIL = "matti.meikalainen@example.com"
PHONE = "040 1234567"
HETU = "131052-308T"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[TestClient]:
    """A hub on SQLite asking the stand-in Rasa, with a metrics token set."""
    with running(free_port(), 0.0, tmp_path / "rasa.jsonl") as rasa_url:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'metrics.db'}", rasa_url=rasa_url,
                            metrics_token=TOKEN)  # type: ignore[arg-type]
        with TestClient(create_app(settings), client=LOOPBACK) as client:
            yield client


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: TestClient) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def gauge(text: str, name: str, queue: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("queue") == queue:
                return float(sample.value)
    raise AssertionError(f"no {name}{{queue={queue!r}}} in the scrape")


def chat(client: TestClient, conversation_id: str, text: str) -> dict:
    r = client.post("/api/chat", json={"conversation_id": conversation_id, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": username, "password": f.PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_conversation_moves_the_counters_and_leaves_no_personal_data(hub: TestClient) -> None:
    before = {
        "turns": value("luotsi_chat_turns_total", channel="web", language="fi"),
        "register": value("luotsi_intents_total", intent="register_jobseeker"),
        "fallback_intent": value("luotsi_intents_total", intent="nlu_fallback"),
        "human": value("luotsi_intents_total", intent="request_human"),
        "clarify": value("luotsi_clarifying_questions_total"),
        "fallbacks": value("luotsi_fallbacks_total"),
        "handoffs": value("luotsi_handoffs_total", reason="asked_for_human"),
        "rasa": value("luotsi_rasa_request_seconds_count"),
        "rasa_errors": sum(value("luotsi_rasa_errors_total", kind=k) for k in metrics.RASA_ERROR_KINDS),
    }
    depth_before = gauge(scrape(hub), "luotsi_queue_depth", "jobseeker_espoo")

    conversation = "metrics-conversation-4711"
    chat(hub, conversation, "Miten ilmoittaudun työnhakijaksi?")
    chat(hub, conversation, "Tarvitsen apua tukien kanssa zzclarify")
    chat(hub, conversation, "En tiedä mitä kysyisin zzfallback")
    chat(hub, conversation, f"Sähköpostini on {EMAIL}, puhelinnumeroni {PHONE} ja henkilötunnukseni {HETU}")
    handed = chat(hub, conversation, "Haluan puhua ihmisen kanssa, person")
    assert handed["ticket"] is not None and handed["ticket"]["queue"] == "jobseeker_espoo"

    assert value("luotsi_chat_turns_total", channel="web", language="fi") - before["turns"] == 5
    assert value("luotsi_intents_total", intent="register_jobseeker") - before["register"] == 2  # 1st and 4th
    assert value("luotsi_intents_total", intent="nlu_fallback") - before["fallback_intent"] == 2
    assert value("luotsi_intents_total", intent="request_human") - before["human"] == 1
    assert value("luotsi_clarifying_questions_total") - before["clarify"] == 1
    assert value("luotsi_fallbacks_total") - before["fallbacks"] == 1
    assert value("luotsi_handoffs_total", reason="asked_for_human") - before["handoffs"] == 1
    assert value("luotsi_rasa_request_seconds_count") - before["rasa"] == 5
    assert sum(value("luotsi_rasa_errors_total", kind=k) for k in metrics.RASA_ERROR_KINDS) == before["rasa_errors"]

    text = scrape(hub)
    assert gauge(text, "luotsi_queue_depth", "jobseeker_espoo") == depth_before + 1
    assert gauge(text, "luotsi_queue_oldest_wait_seconds", "jobseeker_espoo") >= 0
    with hub.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        internal = db.query(Conversation).filter_by(external_id=conversation).one().id
    personal = [EMAIL, "example.com", "@", PHONE, "1234567", HETU, "131052", conversation, internal,
                handed["ticket"]["id"]]
    assert [p for p in personal if p in text] == []
    families = {family.name for family in text_string_to_metric_families(text)}
    assert families and all(name.startswith("luotsi_") or name.startswith(("python_", "process_"))
                            for name in families), families


def test_a_claim_observes_the_wait_and_a_late_one_is_an_sla_breach(hub: TestClient) -> None:
    sessionmaker = hub.app.state.sessionmaker  # type: ignore[attr-defined]
    now = datetime.now(timezone.utc)
    with sessionmaker() as db:
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "espoo.metrics", languages="fi,en")
        late = f.conversation(db, "metrics-late", language="fi")
        # waited three hours: past the jobseeker queue's two-hour target
        ticket = do_handoff(db, conversation_id=late.id, reason="asked_for_human", topic="register_jobseeker",
                            now=now - timedelta(hours=3), hours=shifts.OpeningHours.parse("mon-fri 08:00-16:00"),
                            home_area="espoo", reopen_days=7).ticket
        assert ticket.queue == "jobseeker_espoo"
    text = scrape(hub)
    assert gauge(text, "luotsi_queue_depth", "jobseeker_espoo") == 1
    assert gauge(text, "luotsi_queue_overdue_tickets", "jobseeker_espoo") == 1
    assert gauge(text, "luotsi_queue_oldest_wait_seconds", "jobseeker_espoo") >= 3 * 3600
    assert gauge(text, "luotsi_queue_response_target_seconds", "jobseeker_espoo") == 7200
    claims = value("luotsi_ticket_claims_total", queue="jobseeker_espoo")
    waits = value("luotsi_ticket_wait_seconds_count", queue="jobseeker_espoo")
    waited = value("luotsi_ticket_wait_seconds_sum", queue="jobseeker_espoo")
    within_day = value("luotsi_ticket_wait_seconds_bucket", queue="jobseeker_espoo", le="28800.0")
    within_hour = value("luotsi_ticket_wait_seconds_bucket", queue="jobseeker_espoo", le="3600.0")
    breaches = value("luotsi_sla_breaches_total", queue="jobseeker_espoo")

    claimed = hub.post("/api/tickets/claim", headers=sign_in(hub, "espoo.metrics")).json()
    assert claimed["id"] == ticket.id

    assert value("luotsi_ticket_claims_total", queue="jobseeker_espoo") - claims == 1
    assert value("luotsi_ticket_wait_seconds_count", queue="jobseeker_espoo") - waits == 1
    assert 3 * 3600 <= value("luotsi_ticket_wait_seconds_sum", queue="jobseeker_espoo") - waited < 3 * 3600 + 60
    assert value("luotsi_ticket_wait_seconds_bucket", queue="jobseeker_espoo", le="28800.0") - within_day == 1
    assert value("luotsi_ticket_wait_seconds_bucket", queue="jobseeker_espoo", le="3600.0") == within_hour
    assert value("luotsi_sla_breaches_total", queue="jobseeker_espoo") - breaches == 1
    text = scrape(hub)
    assert gauge(text, "luotsi_queue_depth", "jobseeker_espoo") == 0
    assert gauge(text, "luotsi_queue_overdue_tickets", "jobseeker_espoo") == 0

    replies = value("luotsi_adviser_replies_total", channel="web")
    r = hub.post(f"/api/tickets/{ticket.id}/reply", json={"text": "Hei, autan mielelläni."},
                 headers=sign_in(hub, "espoo.metrics"))
    assert r.status_code == 200, r.text
    assert value("luotsi_adviser_replies_total", channel="web") - replies == 1


def test_who_may_scrape(hub: TestClient) -> None:
    app = hub.app
    outside = TestClient(app, client=ELSEWHERE)
    refused = outside.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["error"]["code"] == "unauthorized"
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert outside.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    allowed = outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert "luotsi_queue_depth" in allowed.text
    # through HAProxy the peer is loopback, but the client it forwards for is not
    local = TestClient(app, client=LOOPBACK)
    assert local.get("/metrics").status_code == 200
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 401
    assert local.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.5"}).status_code == 401
    assert local.get("/metrics", headers={"Forwarded": 'for="[2001:db8::1]:4711"'}).status_code == 401
    assert local.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5",
                                          "Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert TestClient(app, client=("::1", 1)).get("/metrics").status_code == 200


def test_without_a_token_only_loopback_may_scrape(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'no-token.db'}")
    with TestClient(create_app(settings), client=ELSEWHERE) as outside:
        assert outside.get("/metrics").status_code == 403
        assert outside.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_every_intent_of_the_domain_has_its_own_label() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) - metrics.INTENTS == set()


def test_labels_are_bounded() -> None:
    assert metrics.language_label("fi") == "fi"
    assert metrics.language_label("fa") == "other"  # tier 2
    assert metrics.channel_label("sms") == "other"
    assert metrics.intent_label("my e-mail is a@b.fi") == "other"
    assert metrics.queue_label("jobseeker_espoo") == "jobseeker_espoo"
    assert metrics.queue_label("ticket-1234") == "other"


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[Settings]:
    port = free_port()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'mail.db'}", rasa_url=f"http://127.0.0.1:{free_port()}",
                        smtp_port=port, mail_metrics_port=free_port())
    migrate(settings.database_url)
    controller = make_controller(settings, make_sessionmaker(make_engine(settings.database_url)))
    controller.start()
    try:
        yield settings
    finally:
        controller.stop()


def test_the_mail_intake_counts_by_smtp_code_on_its_own_metrics_server(mail: Settings) -> None:
    accepted = value("luotsi_mail_accepted_total", queue="employer_advisory")
    refused = value("luotsi_mail_refused_total", code="550")
    raw = (f"From: Matti <{EMAIL}>\r\nTo: employers@luotsi.localhost\r\nSubject: Rekrytointi\r\n"
           "Message-ID: <metrics-1@example.com>\r\n\r\nHaluamme palkata kaksi kokkia.\r\n").encode()
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=30) as client:
        client.sendmail(EMAIL, ["employers@luotsi.localhost"], raw)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(EMAIL, ["someone@elsewhere.example"], raw)
    assert value("luotsi_mail_accepted_total", queue="employer_advisory") - accepted == 1
    assert value("luotsi_mail_refused_total", code="550") - refused == 1

    assert mail.mail_metrics_port is not None
    metrics.serve_worker_metrics(mail.mail_metrics_port, "mail")  # what the intake's main() does
    deadline = time.monotonic() + 10
    while True:
        try:
            text = httpx.get(f"http://127.0.0.1:{mail.mail_metrics_port}/metrics", timeout=5).text
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert 'luotsi_mail_accepted_total{queue="employer_advisory"}' in text
    assert EMAIL not in text and "@" not in text


def test_counting_helpers_map_outcomes() -> None:
    before = {k: value("luotsi_phone_calls_total", outcome=k) for k in ("connected", "callback", "declined")}
    metrics.count_call_step("dialled", "done", ended=True)
    metrics.count_call_step("window", "done", ended=True)
    metrics.count_call_step("callback", "done", ended=True)
    metrics.count_call_step("role", "role", ended=True)  # gave up: counted when the call ends
    assert {k: value("luotsi_phone_calls_total", outcome=k) - v for k, v in before.items()} == \
        {"connected": 1, "callback": 1, "declined": 1}
    timeouts = value("luotsi_translation_calls_total", result="timeout")
    metrics.count_translation("ReadTimeout")
    assert value("luotsi_translation_calls_total", result="timeout") - timeouts == 1


def test_an_in_process_client_is_local_but_a_header_claiming_it_is_not() -> None:
    from bot.services.metrics import check_scrape_access

    assert check_scrape_access("testclient", {}, None, None) is None  # Starlette's in-process transport
    assert check_scrape_access("203.0.113.5", {}, None, None) is not None
    assert check_scrape_access("127.0.0.1", {"x-forwarded-for": "testclient"}, None, None) is not None
