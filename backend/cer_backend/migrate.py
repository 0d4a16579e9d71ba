"""Schema migrations with Alembic, on SQLite and PostgreSQL alike.

Migrations are serialised (issue #12): on PostgreSQL by a transaction-level advisory lock taken
before Alembic reads the revision, on SQLite by a file lock beside the database file, so
``serve`` and a command started at the same moment (or two ``migrate`` runs) never both
create the same tables; the second waits and finds the schema up to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: the key of the PostgreSQL advisory lock that serialises migrations ("cer-mig" in ASCII)
ADVISORY_LOCK_KEY = 0x6365722D6D6967

# Alembic logs every step at INFO; the commands say what changed in one line
logging.getLogger("alembic").setLevel(logging.WARNING)


def alembic_config() -> Config:
    """The Alembic configuration of the package (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this version."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: never migrated)."""

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` (nothing for other databases)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    handle = await asyncio.to_thread(_locked_file, Path(url.database))
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _locked_file(database: Path) -> IO[bytes]:
    """Open ``<database>.migrate.lock`` and wait for its exclusive lock."""
    path = database.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.with_name(path.name + ".migrate.lock").open("a+b")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


async def upgrade(engine: AsyncEngine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``, one migration at a time; returns (before, after)."""
    config = alembic_config()
    before: list[str | None] = []

    def _upgrade(connection: Connection) -> None:
        before.append(MigrationContext.configure(connection).get_current_revision())
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with _sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # held until this transaction ends: a concurrent migration waits here
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        await connection.run_sync(_upgrade)
    return before[0], await current_revision(engine)
