"""`cer-backend backup` and `restore`: a round trip keeps every row, and settles to the same
figures; encrypted backups need their identity; a database with tables is never overwritten
without --force; `migrate --check` lists what an upgrade would run."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyrage
import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from cer_backend.database import create_engine as create_async_engine
from cer_backend.service.backups import AGE_HEADER, backup_name, backups_in, prune
from cer_backend.service.settlements import create_run, get_run
from tests.backend.conftest import _sync_url
from tests.support.cli import backend_env, run_cli

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "comune"


def cli(
    database_url: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = backend_env(tmp_path / "data", database_url)
    environ.pop("CER_BACKUP_AGE_RECIPIENT", None)
    environ.update(env or {})
    return run_cli(*args, env=environ)


@pytest.fixture
def other_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second database without tables, of the same kind as ``database_url``."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'cer.sqlite3'}"
        return
    name = f"cer_restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_sync_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)


def _drop_database(admin: Engine, name: str, seconds: float = 60) -> None:
    """Drop a test database. An autovacuum worker that PostgreSQL starts on the freshly
    restored database is a process the test role (no superuser) may not terminate, so
    ``WITH (FORCE)`` is refused while it runs; a plain ``DROP DATABASE`` stops autovacuum
    workers itself (and fails only while a session is still connected): try both, a while."""
    deadline = time.monotonic() + seconds
    statements = (
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"DROP DATABASE IF EXISTS {name}",
    )
    while True:
        for statement in statements:
            try:
                with admin.connect() as connection:
                    connection.execute(text(statement))
                return
            except (ProgrammingError, OperationalError):
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.5)
        admin.dispose()


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Per table: the number of rows and a SHA-256 of all rows in a fixed order."""
    engine: Engine = create_engine(_sync_url(url))
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        prints = {}
        with engine.connect() as connection:
            for name, table in sorted(metadata.tables.items()):
                rows = sorted(
                    repr(_normal(tuple(row))) for row in connection.execute(select(table))
                )
                digest = hashlib.sha256()
                for row in rows:
                    digest.update(row.encode())
                prints[name] = (len(rows), digest.hexdigest())
        return prints
    finally:
        engine.dispose()


def _normal(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values compared as the database gives them back (memoryview as bytes)."""
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def demo(database_url: str, tmp_path: Path) -> tuple[str, str, str]:
    """Load the example community; returns (community id, run id, year)."""
    done = cli(database_url, tmp_path, "demo", "--example", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    community_id = lines[0].split()[1]
    run_line = next(line for line in lines if line.startswith("draft settlement "))
    return community_id, run_line.split()[2], run_line.split()[4].rstrip(":")


async def _settle_again(url: str, community_id: str, year: str, run_id: str) -> tuple[Any, Any]:
    engine = create_async_engine(url)
    try:
        stored = await get_run(engine, run_id, None)
        again = await create_run(engine, community_id, year)
        return stored["result"], again["result"]
    finally:
        await engine.dispose()


@pytest.mark.database
def test_round_trip_keeps_every_row_and_settles_the_same(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    community_id, run_id, year = demo(database_url, tmp_path)
    before = table_fingerprints(database_url)
    assert before["readings"][0] > 8000  # a year of the example's PODs
    assert before["settlement_runs"][0] == 1

    made = cli(database_url, tmp_path, "backup", "--out", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.splitlines()[-1])
    assert path.parent == tmp_path / "backups"
    assert path.stat().st_mode & 0o777 == 0o600  # personal data

    restored = cli(other_database, tmp_path, "restore", str(path))
    assert restored.returncode == 0, restored.stderr
    assert "schema revision" in restored.stdout

    assert table_fingerprints(other_database) == before
    assert table_fingerprints(database_url) == before  # the backup changed nothing

    stored, again = asyncio.run(_settle_again(other_database, community_id, year, run_id))
    assert again == stored


@pytest.mark.database
def test_encrypted_backup_needs_its_identity(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    imported = cli(database_url, tmp_path, "community", "import", str(EXAMPLE / "community.yaml"))
    assert imported.returncode == 0, imported.stderr
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "backup-key.txt"
    key_file.write_text(f"# created: test\n{identity}\n", encoding="utf-8")
    recipient = {"CER_BACKUP_AGE_RECIPIENT": str(identity.to_public())}

    made = cli(database_url, tmp_path, "backup", "--out", str(tmp_path / "b"), env=recipient)
    assert made.returncode == 0, made.stderr
    path = Path(made.stdout.splitlines()[-1])
    assert path.name.endswith(".age")
    assert path.read_bytes().startswith(AGE_HEADER)
    assert list((tmp_path / "b").iterdir()) == [path]  # no plain copy left behind

    without = cli(other_database, tmp_path, "restore", str(path))
    assert without.returncode == 2
    assert "--identity" in without.stderr
    wrong = tmp_path / "wrong-key.txt"
    wrong.write_text(str(pyrage.x25519.Identity.generate()) + "\n", encoding="utf-8")
    refused = cli(other_database, tmp_path, "restore", str(path), "--identity", str(wrong))
    assert refused.returncode == 2
    assert "cannot decrypt" in refused.stderr
    assert "Traceback" not in refused.stderr

    done = cli(other_database, tmp_path, "restore", str(path), "--identity", str(key_file))
    assert done.returncode == 0, done.stderr
    assert table_fingerprints(other_database) == table_fingerprints(database_url)

    bad = cli(
        database_url,
        tmp_path,
        "backup",
        "--out",
        str(tmp_path / "c"),
        env={"CER_BACKUP_AGE_RECIPIENT": "age1notakey"},
    )
    assert bad.returncode == 2
    assert "CER_BACKUP_AGE_RECIPIENT" in bad.stderr


@pytest.mark.database
def test_restore_refuses_a_database_with_tables_unless_forced(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    imported = cli(database_url, tmp_path, "community", "import", str(EXAMPLE / "community.yaml"))
    assert imported.returncode == 0, imported.stderr
    made = cli(database_url, tmp_path, "backup", "--out", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    path = made.stdout.splitlines()[-1]
    expected = table_fingerprints(database_url)

    # the target has a schema and a token of its own
    assert cli(other_database, tmp_path, "token", "create", "--role", "admin").returncode == 0
    own = table_fingerprints(other_database)
    refused = cli(other_database, tmp_path, "restore", path)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert table_fingerprints(other_database) == own  # untouched

    forced = cli(other_database, tmp_path, "restore", path, "--force")
    assert forced.returncode == 0, forced.stderr
    assert table_fingerprints(other_database) == expected


@pytest.mark.database
def test_a_failed_restore_leaves_the_target_as_it_was(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    assert cli(other_database, tmp_path, "token", "create", "--role", "admin").returncode == 0
    own = table_fingerprints(other_database)
    damaged = tmp_path / "cer-backend-damaged"
    header = b"SQLite format 3\x00" if "sqlite" in database_url else b"PGDMP"
    damaged.write_bytes(header + b"\x00" * 300)
    done = cli(other_database, tmp_path, "restore", str(damaged), "--force")
    assert done.returncode == 2
    assert str(damaged) in done.stderr
    assert "Traceback" not in done.stderr
    assert table_fingerprints(other_database) == own


@pytest.mark.database
def test_migrate_check_lists_pending_migrations(database_url: str, tmp_path: Path) -> None:
    pending = cli(database_url, tmp_path, "migrate", "--check")
    assert pending.returncode == 1
    assert pending.stdout.splitlines()[1].startswith("0001 ")
    assert "migrations pending" in pending.stdout
    assert cli(database_url, tmp_path, "migrate").returncode == 0
    done = cli(database_url, tmp_path, "migrate", "--check")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout


def test_keep_removes_only_the_oldest_backups(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    names = [backup_name("sqlite", start + timedelta(days=d), d % 2 == 0) for d in range(5)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "cer-backend-latest.sqlite3").write_bytes(b"not ours by name")
    removed = prune(tmp_path, 2)
    assert [p.name for p in removed] == names[:3]
    assert [p.name for p in backups_in(tmp_path)] == names[3:]
    assert (tmp_path / "notes.txt").exists()
    assert (tmp_path / "cer-backend-latest.sqlite3").exists()


def test_a_sqlite_backup_is_consistent_while_a_writer_holds_a_transaction(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}"
    assert cli(url, tmp_path, "migrate").returncode == 0
    writer = sqlite3.connect(tmp_path / "live.sqlite3")
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(
        "INSERT INTO alerts (community_id, kind, message, created_at) VALUES ('c', 'k', 'm', 'now')"
    )
    writer.commit()
    writer.execute("BEGIN IMMEDIATE")  # a write in flight, as the server's
    writer.execute(
        "INSERT INTO alerts (community_id, kind, message, created_at) VALUES ('c', 'k', 'n', 'now')"
    )
    try:
        made = cli(url, tmp_path, "backup", "--out", str(tmp_path / "b"))
        assert made.returncode == 0, made.stderr
    finally:
        writer.rollback()
        writer.close()
    copy = sqlite3.connect(made.stdout.splitlines()[-1])
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT message FROM alerts").fetchall() == [("m",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    finally:
        copy.close()


@pytest.mark.database
def test_migrate_check_on_a_revision_this_version_does_not_know(
    database_url: str, tmp_path: Path
) -> None:
    assert cli(database_url, tmp_path, "migrate").returncode == 0
    engine = create_engine(_sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    done = cli(database_url, tmp_path, "migrate", "--check")
    assert done.returncode == 2
    assert "9999" in done.stderr
    assert "newer version" in done.stderr
    assert "Traceback" not in done.stderr
