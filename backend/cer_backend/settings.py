"""Where the backend keeps its data: one resolution shared by every command."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DATABASE_FILE_NAME = "cer-backend.sqlite3"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the data directory: ``CER_DATA_DIR`` or ``~/.local/share/cer-backend``."""
    env = os.environ if environ is None else environ
    configured = env.get("CER_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "cer-backend"


def resolve_database_url(
    cli_value: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """Return the database URL: ``--database``, then ``CER_DATABASE_URL``, then SQLite.

    A plain ``postgresql://`` URL is given the psycopg 3 async driver, so the same URL that
    ``psql`` accepts works here.
    """
    env = os.environ if environ is None else environ
    url = cli_value or env.get("CER_DATABASE_URL")
    if not url:
        return f"sqlite+aiosqlite:///{data_dir(env) / DATABASE_FILE_NAME}"
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """Choose the async driver for a URL written without one."""
    for plain, driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime settings of one backend process."""

    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
