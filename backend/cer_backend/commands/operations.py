"""``cer-backend backup``, ``cer-backend restore`` and ``migrate --check``: running the server.

Exit codes: 0 done; 1 refused (``restore`` into a database that has tables, ``migrate
--check`` with migrations pending); 2 an error (unreadable file, wrong key, database down).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from ..database import create_engine
from ..service.backups import DEFAULT_KEEP, BackupError, TargetNotEmpty, backup, restore, safe_url
from ..service.upgrades import Migration, UnknownRevision, pending_migrations
from ..settings import resolve_database_url
from .database import add_database_option
from .errors import CheckFailed, UsageError

#: an age public key (``age1…``): when set, every backup is encrypted for it
RECIPIENT_VARIABLE = "CER_BACKUP_AGE_RECIPIENT"


def _backup(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    recipient = os.environ.get(RECIPIENT_VARIABLE) or None
    try:
        result = backup(url, Path(args.out), keep=args.keep, recipient=recipient)
    except BackupError as err:
        raise UsageError(str(err)) from err
    for path in result.removed:
        print(f"removed old backup {path}")
    encrypted = "encrypted with age, " if result.encrypted else ""
    print(f"backup of {safe_url(url)} written ({encrypted}{result.size} bytes):")
    print(result.path)
    return 0


def _restore(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    identity = Path(args.identity) if args.identity else None
    try:
        result = asyncio.run(restore(url, Path(args.file), force=args.force, identity=identity))
    except TargetNotEmpty as err:
        raise CheckFailed(str(err)) from err
    except BackupError as err:
        raise UsageError(str(err)) from err
    replaced = f" (replaced {len(result.replaced_tables)} tables)" if result.replaced_tables else ""
    print(f"restored {args.file} into {safe_url(url)}{replaced}; schema revision {result.revision}")
    if result.revision != result.head:
        print(f"this version's schema is {result.head}: run cer-backend migrate before serve")
    return 0


def check_migrations(url: str) -> int:
    """``migrate --check``: 0 when up to date; 1 and the list when migrations are pending."""

    async def run() -> tuple[str | None, list[Migration]]:
        engine = create_engine(url)
        try:
            return await pending_migrations(engine)
        finally:
            await engine.dispose()

    try:
        current, pending = asyncio.run(run())
    except UnknownRevision as err:
        raise UsageError(str(err)) from err
    except Exception as err:
        raise UsageError(f"cannot read the schema of {safe_url(url)}: {err}") from err
    if not pending:
        print(f"database {safe_url(url)} is at revision {current} (up to date)")
        return 0
    print(
        f"database {safe_url(url)} is at revision {current or 'empty'}; "
        f"{len(pending)} migrations pending:"
    )
    for migration in pending:
        print(f"{migration.revision} {migration.title}")
    return 1


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``backup`` and ``restore``."""
    back = commands.add_parser(
        "backup",
        help="write a backup of the database (pg_dump or SQLite online backup); "
        f"encrypted when ${RECIPIENT_VARIABLE} is an age public key",
    )
    back.add_argument("--out", metavar="DIR", required=True, help="folder of the backups")
    back.add_argument(
        "--keep",
        metavar="N",
        type=int,
        default=DEFAULT_KEEP,
        help=f"keep the newest N backups of DIR (default {DEFAULT_KEEP})",
    )
    add_database_option(back)
    back.set_defaults(handler=_backup)

    rest = commands.add_parser(
        "restore", help="restore a backup into a database without tables (exit 1 if it has some)"
    )
    rest.add_argument("file", metavar="FILE", help="a backup written by cer-backend backup")
    rest.add_argument("--force", action="store_true", help="replace the tables of the database")
    rest.add_argument("--identity", metavar="FILE", help="age identity file of an encrypted backup")
    add_database_option(rest)
    rest.set_defaults(handler=_restore)
