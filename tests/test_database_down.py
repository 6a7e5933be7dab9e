"""PostgreSQL down: the hub answers clear 503s in the customer's language and acknowledges nothing
it did not store; when the database is back, it serves again (issue 16)."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import migrate
from bot.locales import render
from bot.models import Conversation, Message, Ticket
from tests import factories as f
from tests.conftest import running_hub
from tests.tcp_proxy import tcp_proxy


def test_a_database_outage_is_a_clear_503_and_nothing_unstored_is_acknowledged(pg_url: str,
                                                                                dead_rasa_url: str) -> None:
    migrate(pg_url)
    with tcp_proxy("127.0.0.1", 5432) as proxy:
        through = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        settings = Settings(database_url=through, rasa_url=dead_rasa_url, rasa_timeout=0.5)
        acked: list[tuple[str, str]] = []
        with running_hub(settings) as (url, _app), httpx.Client(timeout=20) as client:
            def say(cid: str, text: str) -> httpx.Response:
                r = client.post(f"{url}/api/chat", json={"conversation_id": cid, "text": text})
                if r.status_code == 200:
                    acked.append((cid, text))
                return r

            assert say("db-down-1", "Hei, tarvitsen apua").status_code == 200  # Rasa down: kept, answered
            waiting = _a_waiting_ticket(pg_url)
            token = client.post(f"{url}/api/auth/token", data={"username": "onduty", "password": f.PASSWORD})
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            proxy.down()
            started = time.monotonic()
            for n, (cid, text) in enumerate([("db-down-1", "Onko siellä ketään?"), ("db-down-2", "Привет, нужна помощь"),
                                             ("db-down-3", "أحتاج مساعدة في التسجيل")]):
                r = say(cid, text)
                assert r.status_code == 503, (n, r.text)
                assert r.headers["retry-after"] == "5"
                error = r.json()["error"]
                assert error["code"] == "database_unavailable"
                expected = {"db-down-1": "fi", "db-down-2": "ru", "db-down-3": "ar"}[cid]
                assert error["message"] == render("sys_error_not_saved", expected).text  # the customer's language
            claim = client.post(f"{url}/api/tickets/claim", headers=auth)  # an adviser's claim: 503 too
            assert claim.status_code == 503 and claim.json()["error"]["code"] == "database_unavailable"
            assert time.monotonic() - started < 30  # clear answers, not hanging requests
            assert client.get(f"{url}/readyz").status_code == 503
            assert client.get(f"{url}/healthz").status_code == 200

            proxy.up()  # the database is back
            deadline = time.monotonic() + 20
            while say("db-down-2", "Привет, нужна помощь").status_code != 200:
                assert time.monotonic() < deadline, "the hub did not recover"
                time.sleep(0.5)
            claim = client.post(f"{url}/api/tickets/claim", headers=auth)  # the claim's connections are new too
            assert claim.status_code == 200 and claim.json()["id"] == waiting

    engine = create_engine(pg_url)
    with Session(engine) as db:
        stored = [(c, t) for c, t in db.execute(
            select(Conversation.external_id, Message.text).join(Message, Message.conversation_id == Conversation.id)
            .where(Message.sender == "customer", Conversation.external_id != "waiting-1").order_by(Message.id))]
    engine.dispose()
    assert stored == acked  # every acknowledged message stored once, nothing else


def _a_waiting_ticket(url: str) -> str:
    """An adviser on shift (`onduty`) and one ticket waiting for them."""
    engine = create_engine(url)
    with Session(engine) as db:
        f.shift(db, "espoo", "jobseeker_espoo")
        f.adviser(db, "onduty")
        conversation = f.conversation(db, "waiting-1")
        ticket = Ticket(conversation_id=conversation.id, channel="web", queue="jobseeker_espoo", language="fi",
                        reason="asked_for_human", created_at=f.now())
        db.add(ticket)
        db.commit()
        ticket_id = ticket.id
    engine.dispose()
    return ticket_id
