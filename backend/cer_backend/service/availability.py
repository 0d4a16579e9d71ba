"""Whether the database can serve: failures that are not the request's fault (issue #12).

A connection refused or lost, a full disk, an I/O error or a pool that cannot give a
connection in time is *unavailability*: the API answers 503 with ``Retry-After`` (never 500,
never 401 for a token it could not look up), and ``/health`` says 503 while it lasts.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Final

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

#: seconds a client is told to wait before it tries again
RETRY_AFTER_SECONDS: Final = 10
#: a SQLite folder with less free space than this cannot take an upload: unavailable
MIN_FREE_BYTES: Final = 1024 * 1024

_DRIVER_ERRORS: Final = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    ConnectionError,
    TimeoutError,
)
_OS_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EIO, errno.EROFS, errno.EDQUOT})


def is_unavailable(err: BaseException) -> bool:
    """Whether an error means the database cannot serve now (not the request's fault)."""
    seen = 0
    current: BaseException | None = err
    while current is not None and seen < 5:
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(
            current,
            sa_exc.OperationalError
            | sa_exc.InterfaceError
            | sa_exc.DisconnectionError
            | sa_exc.TimeoutError,
        ):
            return True
        if isinstance(current, _DRIVER_ERRORS):
            return True
        if isinstance(current, OSError) and current.errno in _OS_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def describe(err: BaseException) -> str:
    """One line about a database failure: its kind and the driver's first line (never the
    SQL statement or its parameters)."""
    orig = getattr(err, "orig", None) or err
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}"[:300]


def sqlite_folder(engine: AsyncEngine) -> Path | None:
    """The folder of a SQLite database file (None for PostgreSQL or in memory)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve().parent


async def check_writable(engine: AsyncEngine) -> None:
    """Raise unless the database answers and commits a write, and, for SQLite, its folder
    has room for an upload. The write needs no table: PostgreSQL commits a transaction id
    (a WAL record), SQLite rewrites its header's ``user_version`` with the same value."""
    folder = sqlite_folder(engine)
    if folder is not None:
        stats = os.statvfs(folder)
        if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
            raise OSError(errno.ENOSPC, f"less than {MIN_FREE_BYTES} bytes free for the database")
    async with engine.begin() as connection:
        if folder is None and engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_current_xact_id()"))
        else:
            version = int(await connection.scalar(text("PRAGMA user_version")) or 0)
            await connection.execute(text(f"PRAGMA user_version = {version}"))
