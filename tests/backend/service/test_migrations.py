"""The Alembic migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cer_backend.database import create_engine
from cer_backend.migrate import current_revision, head_revision, upgrade
from cer_backend.models import Base

pytestmark = pytest.mark.database


async def test_migrations_match_the_models_and_every_table_has_the_community(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None
        before, after = await upgrade(engine)
        assert (before, after) == (None, head_revision())
        assert await upgrade(engine) == (after, after)  # idempotent

        def check(connection: Connection) -> tuple[list[object], dict[str, list[str]]]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            columns = {
                name: [c["name"] for c in inspect(connection).get_columns(name)]
                for name in inspect(connection).get_table_names()
            }
            return compare_metadata(context, Base.metadata), columns

        async with engine.connect() as connection:
            diff, columns = await connection.run_sync(check)
    finally:
        await engine.dispose()
    assert diff == []
    for name, names in columns.items():
        if name != "alembic_version":
            assert "community_id" in names, name
