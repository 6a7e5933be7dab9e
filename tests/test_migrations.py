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
    assert differences == []
