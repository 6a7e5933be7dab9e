"""The migrations own the schema (STYLE.md 10): after `upgrade head` the database is exactly what
the models describe, on SQLite and on PostgreSQL — a column added to a model without its migration
(or the other way round) fails here, not in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import make_engine, migrate
from bot.models import Base


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_migrated_schema_is_the_models_schema(database: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'schema.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    # Rasa's tracker store shares PostgreSQL (its own `events` table): not ours to compare
    differences = [d for d in differences if not (d[0] == "remove_table" and d[1].name == "events")]
    if database == "sqlite":
        # SQLite's reflection drops an index's DESC and WHERE, so Alembic sees these as removed and
        # added again; compared on PostgreSQL, and here the index must at least exist by name
        differences = [d for d in differences
                       if not (d[0] in ("remove_index", "add_index") and d[1].name in SQLITE_BLIND_INDEXES)]
        with make_engine(url).connect() as conn:
            names = {row[1] for row in conn.exec_driver_sql("PRAGMA index_list('ticket')")}
        assert SQLITE_BLIND_INDEXES <= names
    assert differences == []


SQLITE_BLIND_INDEXES = {"ix_ticket_waiting"}  # partial, with a descending column
