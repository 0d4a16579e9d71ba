"""The database of every command: the ``--database`` option and the migration done first.

Shared by ``serve``, ``migrate`` and the commands that use the database, so that no command
module imports another for them.
"""

from __future__ import annotations

import argparse
import asyncio

from ..database import create_engine
from ..migrate import upgrade
from .errors import UsageError


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--database URL``: the same resolution in every command."""
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: $CER_DATABASE_URL, else SQLite in $CER_DATA_DIR)",
    )


async def _migrate(url: str) -> tuple[str | None, str | None]:
    engine = create_engine(url)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()


def migrate_database(url: str) -> tuple[str | None, str | None]:
    """Bring the schema up to date; UsageError (one line) when the database cannot be used."""
    try:
        return asyncio.run(_migrate(url))
    except Exception as err:
        raise UsageError(f"cannot migrate {safe_url(url)}: {err}") from err


def safe_url(url: str) -> str:
    """The database URL without its credentials (what is after the ``@``), for messages."""
    return url.rsplit("@", maxsplit=1)[-1]
