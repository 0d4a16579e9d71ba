"""Backups of the backend's database and their restore, on SQLite and PostgreSQL.

- PostgreSQL: ``pg_dump`` in its custom format (``-Fc``); a restore replays it with
  ``pg_restore | psql --single-transaction``, so a failed restore leaves the target as it was.
- SQLite: the online backup API of SQLite, a consistent copy taken while the server keeps
  writing (WAL mode: readers never block the writer); a restore copies it back the same way.
- With an age public key (``CER_BACKUP_AGE_RECIPIENT``) the file is encrypted with age
  (``pyrage``); the plain copy exists only in a private (0700) folder next to it while it is
  being encrypted. A restore decrypts with the matching identity file.

Backups are named ``cer-backend-<UTC time>.<sqlite3|pgdump>[.age]`` and written with mode 0600
(they hold POD codes and consumption: personal data). Only files with that name are ever
removed when the newest ``keep`` are kept.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyrage
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from ..database import create_engine
from ..migrate import current_revision, head_revision

DEFAULT_KEEP = 14
NAME_PATTERN = re.compile(r"^cer-backend-(\d{8}T\d{6}\.\d{6}Z)\.(sqlite3|pgdump)(\.age)?$")
AGE_HEADER = b"age-encryption.org/v1"
SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
#: file suffix of a backup per database kind
SUFFIXES = {"sqlite": "sqlite3", "postgresql": "pgdump"}
#: the table every database of the backend has (Alembic's revision)
MARKER_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore that cannot be done: one line for the user."""


class TargetNotEmpty(BackupError):
    """The restore target already has tables (and ``force`` was not given)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What ``backup`` wrote and removed."""

    path: Path
    size: int
    encrypted: bool
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What ``restore`` did."""

    kind: str
    revision: str | None
    head: str | None
    replaced_tables: list[str]


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql`` (anything else is refused)."""
    kind = make_url(url).get_backend_name()
    if kind not in SUFFIXES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {kind}")
    return kind


def safe_url(url: str) -> str:
    """The URL without its user and password, for messages."""
    return url.rsplit("@", maxsplit=1)[-1]


# --- names and rotation -------------------------------------------------------------------


def backup_name(kind: str, when: datetime, encrypted: bool) -> str:
    """``cer-backend-20261205T223000.123456Z.pgdump[.age]``: sorts by time."""
    stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"cer-backend-{stamp}.{SUFFIXES[kind]}" + (".age" if encrypted else "")


def backups_in(folder: Path) -> list[Path]:
    """The backups of a folder (by their name alone), oldest first."""
    found = [p for p in folder.iterdir() if p.is_file() and NAME_PATTERN.match(p.name)]
    return sorted(found, key=lambda p: NAME_PATTERN.match(p.name).group(1))  # type: ignore[union-attr]


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups of ``folder``; returns the removed ones."""
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    old = backups_in(folder)[:-keep]
    for path in old:
        path.unlink()
    return old


# --- age ---------------------------------------------------------------------------------


def parse_recipient(text: str) -> Any:
    """An age X25519 public key (``age1…``)."""
    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except Exception as err:  # pyrage raises its own RecipientError
        raise BackupError(
            f"CER_BACKUP_AGE_RECIPIENT is not an age public key (age1…): {err}"
        ) from err


def load_identities(path: Path) -> list[Any]:
    """The age identities (``AGE-SECRET-KEY-1…`` lines) of an identity file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BackupError(f"cannot read the identity file {path}: {err}") from err
    identities = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except Exception as err:
            raise BackupError(f"{path}:{number}: not an age identity (AGE-SECRET-KEY-1…)") from err
    if not identities:
        raise BackupError(f"{path} holds no age identity (AGE-SECRET-KEY-1…)")
    return identities


def _private_dir(near: Path) -> tempfile.TemporaryDirectory[str]:
    """A folder only this user can read (mkdtemp makes it 0700), on the backups' file system."""
    return tempfile.TemporaryDirectory(dir=near, prefix=".cer-backup-")


def _write_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (whatever the umask)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    path.chmod(0o600)


# --- backup ------------------------------------------------------------------------------


def backup(
    url: str,
    out_dir: Path,
    keep: int = DEFAULT_KEEP,
    recipient: str | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Write a backup of the database at ``url`` into ``out_dir`` and keep the newest ``keep``."""
    kind = database_kind(url)
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    age_recipient = parse_recipient(recipient) if recipient else None
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise BackupError(f"cannot create the backup folder {out_dir}: {err.strerror}") from err
    final = out_dir / backup_name(kind, now or datetime.now(UTC), age_recipient is not None)
    with _private_dir(out_dir) as private:
        plain = Path(private) / f"plain.{SUFFIXES[kind]}"
        _write_private(plain)
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(url), plain)
        else:
            _pg_dump(url, plain)
        partial = Path(private) / "partial"
        if age_recipient is not None:
            _write_private(partial)
            try:
                pyrage.encrypt_file(str(plain), str(partial), [age_recipient])
            except Exception as err:
                raise BackupError(f"cannot encrypt the backup: {err}") from err
        else:
            plain.replace(partial)
        partial.chmod(0o600)
        # same file system: the backup appears whole or not at all
        partial.replace(final)
    removed = prune(out_dir, keep)
    return BackupResult(final, final.stat().st_size, age_recipient is not None, removed)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database).expanduser()


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy a live SQLite database with its online backup API into a one-file copy."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    try:
        with (
            sqlite3.connect(source) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst)
            # the copy is one self-contained file (no -wal next to it)
            dst.execute("PRAGMA journal_mode=DELETE")
        src.close()
        dst.close()
    except sqlite3.Error as err:
        raise BackupError(f"cannot back up {source}: {err}") from err


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL for libpq tools (password in the environment, not on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian/Ubuntu: apt install postgresql-client)")
    return path


def _last_line(stderr: bytes | str) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _pg_dump(url: str, target: Path) -> None:
    conninfo, env = _libpq(url)
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump of {safe_url(url)} failed: {_last_line(done.stderr)}")


# --- restore -----------------------------------------------------------------------------


def file_kind(path: Path) -> str:
    """``age``, ``sqlite`` or ``postgresql``, from the first bytes of a file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(32)
    except OSError as err:
        raise BackupError(f"cannot read {path}: {err.strerror}") from err
    if head.startswith(AGE_HEADER):
        return "age"
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if head.startswith(PGDUMP_HEADER):
        return "postgresql"
    raise BackupError(f"{path} is not a backup of cer-backend (neither SQLite, pg_dump nor age)")


async def table_names(url: str) -> list[str]:
    """The tables of the database at ``url`` (none when the SQLite file does not exist)."""
    if database_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(url)

    def names(connection: Connection) -> list[str]:
        return sorted(inspect(connection).get_table_names())

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(names)
    finally:
        await engine.dispose()


async def revision_of(url: str) -> str | None:
    """The schema revision of the database at ``url``."""
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def restore(
    url: str, source: Path, force: bool = False, identity: Path | None = None
) -> RestoreResult:
    """Restore the backup ``source`` into the database at ``url``, which must have no tables.

    With ``force`` the tables of the target are replaced (in the same transaction as the
    restore on PostgreSQL, by SQLite's backup API on SQLite: all or nothing either way).
    """
    kind = database_kind(url)
    found = file_kind(source)
    try:
        existing = await table_names(url)
    except BackupError:
        raise
    except Exception as err:
        raise BackupError(f"cannot open the database {safe_url(url)}: {err}") from err
    if existing and not force:
        raise TargetNotEmpty(
            f"the database {safe_url(url)} already has {len(existing)} tables "
            f"({', '.join(existing[:4])}{', …' if len(existing) > 4 else ''}): restore into "
            "an empty database, or give --force to replace them"
        )
    with tempfile.TemporaryDirectory(prefix="cer-restore-") as private:  # 0700
        plain = source
        if found == "age":
            if identity is None:
                raise BackupError(f"{source} is encrypted with age: give --identity FILE")
            plain = Path(private) / "plain"
            _write_private(plain)
            try:
                pyrage.decrypt_file(str(source), str(plain), load_identities(identity))
            except BackupError:
                raise
            except Exception as err:
                raise BackupError(
                    f"cannot decrypt {source} with the identities of {identity}: {err}"
                ) from err
            found = file_kind(plain)
        if found != kind:
            names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
            raise BackupError(
                f"{source} is a {names.get(found, found)} backup; the database "
                f"{safe_url(url)} is {names[kind]}"
            )
        if kind == "sqlite":
            _sqlite_check(plain, source)
            _sqlite_restore(plain, _sqlite_path(url))
        else:
            _pg_check(plain, source)
            _pg_restore(url, plain, existing)
    return RestoreResult(kind, await revision_of(url), head_revision(), existing)


def _sqlite_check(plain: Path, shown: Path) -> None:
    """The backup is a sound SQLite file of the backend."""
    try:
        with sqlite3.connect(plain) as db:
            status = db.execute("PRAGMA integrity_check").fetchone()[0]
            has_marker = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (MARKER_TABLE,)
            ).fetchone()
        db.close()
    except sqlite3.Error as err:
        raise BackupError(f"{shown} is not a readable SQLite database: {err}") from err
    if status != "ok":
        raise BackupError(f"{shown} is damaged: {status}")
    if not has_marker:
        raise BackupError(f"{shown} is not a database of cer-backend (no {MARKER_TABLE})")


def _sqlite_restore(plain: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sqlite3.connect(plain) as src, sqlite3.connect(target) as dst:
            src.backup(dst)  # one transaction on the target: all pages or none
            dst.execute("PRAGMA journal_mode=WAL")
        src.close()
        dst.close()
    except sqlite3.Error as err:
        raise BackupError(f"cannot restore into {target}: {err}") from err
    target.chmod(0o600)


def _pg_check(plain: Path, shown: Path) -> None:
    done = subprocess.run(
        [_tool("pg_restore"), "--list", str(plain)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{shown} is not a readable pg_dump file: {_last_line(done.stderr)}")
    if f" TABLE public {MARKER_TABLE} " not in done.stdout and not re.search(
        rf"\bTABLE \S+ {MARKER_TABLE}\b", done.stdout
    ):
        raise BackupError(f"{shown} is not a database of cer-backend (no {MARKER_TABLE})")


def _pg_restore(url: str, plain: Path, replace: Sequence[str]) -> None:
    """``pg_restore`` as SQL into ``psql`` in one transaction that first drops ``replace``."""
    conninfo, env = _libpq(url)
    drop = ", ".join('"' + name.replace('"', '""') + '"' for name in replace)
    psql = [_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
    if drop:
        psql += ["-c", f"DROP TABLE IF EXISTS {drop} CASCADE"]
    psql += ["-f", "-", f"--dbname={conninfo}"]
    with subprocess.Popen(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--file=-",
            str(plain),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as dump:
        loaded = subprocess.run(psql, stdin=dump.stdout, env=env, capture_output=True, check=False)
        assert dump.stdout is not None
        dump.stdout.close()
        dump_err = dump.stderr.read() if dump.stderr else b""
        dump.wait()
    if dump.returncode != 0:
        raise BackupError(f"pg_restore of {plain.name} failed: {_last_line(dump_err)}")
    if loaded.returncode != 0:
        raise BackupError(
            f"restore into {safe_url(url)} failed and was rolled back: {_last_line(loaded.stderr)}"
        )
