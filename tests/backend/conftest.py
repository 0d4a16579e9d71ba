"""Fixtures of the backend tests.

``CER_TEST_DATABASE_URL`` names the database of the tests marked ``database`` (the test
scripts set it to a throw-away PostgreSQL database); unset, each test gets its own SQLite file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    driver = "psycopg" if parsed.get_backend_name() == "postgresql" else "pysqlite"
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}").render_as_string(
        hide_password=False
    )


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty schema: PostgreSQL when configured, else SQLite."""
    url = os.environ.get("CER_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'cer-test.sqlite3'}"
        return
    engine = create_sync_engine(_sync_url(url))
    _drop_everything(engine)
    try:
        yield url
    finally:
        _drop_everything(engine)
        engine.dispose()


def _drop_everything(engine) -> None:  # type: ignore[no-untyped-def]
    """Empty the throw-away PostgreSQL database between tests."""
    with engine.begin() as connection:
        for table in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
