"""Database engine: SQLite by default (no server to start), PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(database_url: str) -> AsyncEngine:
    """Create the async engine; for SQLite, make the folder and turn on WAL and foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # pre-ping (issue #12): a pooled connection left stale by a server restart is detected
    # at checkout and replaced, so no request fails on it; pool_recycle renews connections
    # before servers time them out; a server that does not answer fails in 5 s (then 503)
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
        pool_pre_ping=True,
        hide_parameters=True,  # SQL parameters (token hashes, POD codes) never in an error
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


def backend_name(engine: AsyncEngine) -> str:
    """Return ``sqlite`` or ``postgresql``."""
    return engine.url.get_backend_name()


async def ping(engine: AsyncEngine) -> None:
    """Run a trivial query; raises if the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
