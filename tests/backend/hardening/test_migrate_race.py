"""Issue #12, defect 7: concurrent migrations of a fresh database all succeed.

Before the fix two concurrent ``cer-backend migrate`` runs failed 2 times in 3 on SQLite and
1 in 2 on PostgreSQL (``table alerts already exists``), and so did ``serve`` followed at once
by ``community import``. Migrations are now serialised: an advisory lock on PostgreSQL, a
file lock beside the SQLite file.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from cer_backend.migrate import head_revision
from tests.backend.conftest import _drop_everything, _sync_url
from tests.support.cli import command_line

pytestmark = pytest.mark.database

ROUNDS = 2
PROCESSES = 3


def _revision(url: str) -> str | None:
    engine = create_sync_engine(_sync_url(url))
    try:
        with engine.connect() as connection:
            if "alembic_version" not in inspect(connection).get_table_names():
                return None
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_concurrent_migrate_processes_all_succeed(database_url: str, tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        url = database_url
        if url.startswith("sqlite"):
            url = f"sqlite+aiosqlite:///{tmp_path / f'round{round_}' / 'cer.sqlite3'}"
        else:
            engine = create_sync_engine(_sync_url(url))
            _drop_everything(engine)
            engine.dispose()
        env = dict(os.environ, CER_DATABASE_URL=url)
        processes = [
            subprocess.Popen(
                [*command_line(), "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
        for process in processes:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert [code for code, _ in outcomes] == [0] * PROCESSES, outcomes
        assert _revision(url) == head_revision()
