"""The same storage on PostgreSQL (the production database): migrations and the chat path."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.app import create_app
from bot.config import Settings


def test_chat_is_stored_on_postgresql(pg_url: str, dead_rasa_url: str) -> None:
    settings = Settings(database_url=pg_url, rasa_url=dead_rasa_url)
    with TestClient(create_app(settings)) as client:
        for words in ("Здравствуйте, как встать на учёт безработным?", "ok"):
            r = client.post("/api/chat", json={"conversation_id": "pg-1", "text": words})
            assert r.status_code == 200
            assert r.json()["language"] == "ru"
        assert client.get("/readyz").json()["problems"] == [
            p for p in client.get("/readyz").json()["problems"] if "rasa" in p
        ]
    engine = create_engine(pg_url)
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT m.sender, m.status, m.created_at FROM message m ORDER BY m.id")
        ).all()
        version = db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert [r[0] for r in rows] == ["customer", "bot", "bot", "customer", "bot"]  # + the AI disclosure
    assert rows[0][1] == "kept"
    assert rows[0][2].tzinfo is not None
    assert version == _head_revision()  # every migration ran on PostgreSQL


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
