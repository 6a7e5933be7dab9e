"""Where Rasa keeps its state, and how the hub makes it forget a conversation.

Rasa's dialogue state (the tracker: events, slots, the running form) lives outside Rasa, in Rasa's
own SQL tracker store, so a restarted Rasa continues every conversation where it was and several
Rasa servers can serve one conversation in turn:
- PostgreSQL (production, several processes): the hub's own database, in Rasa's table `events`;
- SQLite (the embedded default): a file beside the hub's database (`<name>-rasa.db`), so Rasa's
  writes never wait for the hub's single SQLite writer.
With `LUOTSI_REDIS_URL` set, Redis is Rasa's lock store (one turn at a time per conversation across
Rasa servers; nlu/lock_store.py, which falls back to each Rasa's own memory while Redis is down); without
it, Rasa's in-memory lock store serves the one Rasa process.

Erasure and retention delete a conversation's rows from the tracker store directly: Rasa's own
"replace the events" API only appends to an SQL store, and this works while Rasa is down.
Secrets never go into the generated endpoints file: it names environment variables that Rasa
fills in at start (`${LUOTSI_TRACKER_PASSWORD}`, `${LUOTSI_LOCK_PASSWORD}`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings

log = logging.getLogger(__name__)
TABLE = "events"  # Rasa's SQLTrackerStore table
TRACKER_PASSWORD_ENV = "LUOTSI_TRACKER_PASSWORD"  # noqa: S105 - the variable's name, not a password
LOCK_PASSWORD_ENV = "LUOTSI_LOCK_PASSWORD"  # noqa: S105
_DELETE = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(bindparam("ids", expanding=True))


def tracker_store_url(settings: Settings) -> str:
    """The tracker store's database as SQLAlchemy names it (for the hub's own deletes)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "luotsi.db")
        return str(url.set(database=str(path.with_name(f"{path.stem}-rasa{path.suffix or '.db'}"))))
    return settings.database_url


def tracker_store_config(settings: Settings) -> dict[str, Any]:
    """Rasa's `tracker_store` section for endpoints.yml."""
    url = make_url(tracker_store_url(settings))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": str(Path(url.database or "").resolve())}
    if backend != "postgresql":
        raise ValueError(f"Rasa's tracker store supports SQLite and PostgreSQL, not {backend}")
    # Rasa reads the database host from `url` (it passes it on as `host`)
    config: dict[str, Any] = {"type": "SQL", "dialect": "postgresql", "url": url.host or "localhost",
                              "port": url.port or 5432, "db": url.database}
    if url.username:
        config["username"] = url.username
    if url.password:
        config["password"] = "${" + TRACKER_PASSWORD_ENV + "}"
    if url.query:
        config["query"] = {k: v for k, v in url.query.items() if isinstance(v, str)}
    return config


def lock_store_config(settings: Settings) -> dict[str, Any] | None:
    """Rasa's `lock_store` section: Redis when `LUOTSI_REDIS_URL` is set, else None (in memory)."""
    if not settings.redis_url:
        return None
    parts = urlsplit(settings.redis_url)
    db = (parts.path or "/0").strip("/") or "0"
    config: dict[str, Any] = {"type": "nlu.lock_store.ResilientLockStore", "url": parts.hostname or "localhost", "port": parts.port or 6379,
                              "db": int(db), "key_prefix": "luotsi", "use_ssl": parts.scheme == "rediss"}
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = "${" + LOCK_PASSWORD_ENV + "}"
    return config


def secrets_env(settings: Settings) -> dict[str, str]:
    """The passwords the endpoints file refers to, for Rasa's environment."""
    env: dict[str, str] = {}
    password = make_url(tracker_store_url(settings)).password
    if password:
        env[TRACKER_PASSWORD_ENV] = str(password)
    if settings.redis_url and urlsplit(settings.redis_url).password:
        env[LOCK_PASSWORD_ENV] = unquote(urlsplit(settings.redis_url).password or "")
    return env


def endpoints(settings: Settings, actions_url: str) -> dict[str, Any]:
    """The whole endpoints.yml for a Rasa server of this deployment."""
    out: dict[str, Any] = {"action_endpoint": {"url": f"{actions_url}/webhook"},
                           "tracker_store": tracker_store_config(settings)}
    lock = lock_store_config(settings)
    if lock is not None:
        out["lock_store"] = lock
    return out


class TrackerForgetter:
    """`forget(conversation_id) -> bool`: delete the conversation's events from Rasa's tracker store.
    True when nothing of it is left there (also when the store was never created)."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        url = tracker_store_url(settings)
        self._own = engine is None or engine.url.render_as_string(hide_password=False) != url
        self.engine: Engine = create_engine(url, pool_pre_ping=True) if self._own or engine is None else engine

    def __call__(self, conversation_id: str) -> bool:
        return self.forget_many([conversation_id]) == 1

    def forget_many(self, conversation_ids: Iterable[str]) -> int:
        ids = list(conversation_ids)
        if not ids:
            return 0
        try:
            with self.engine.begin() as connection:
                if not self.engine.dialect.has_table(connection, TABLE):
                    return len(ids)
                for start in range(0, len(ids), 500):
                    part = ids[start:start + 500]
                    connection.execute(_DELETE, {"ids": part})
        except SQLAlchemyError as exc:
            log.warning("rasa_store.forget_failed error=%s", type(exc).__name__)
            return 0
        return len(ids)

    def close(self) -> None:
        if self._own:
            self.engine.dispose()

