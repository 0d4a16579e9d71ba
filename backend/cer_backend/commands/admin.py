"""``cer-backend migrate``, ``token create``, ``community import``: the backend's own data."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ..database import create_engine
from ..domain.errors import InvalidInput
from ..files import load_yaml
from ..service.registry import RegistryError
from ..service.registry_changes import RegistryRefused, apply_import
from ..service.tokens import TokenError, create_token
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database, safe_url
from .errors import CheckFailed, UsageError
from .operations import check_migrations


def _migrate_command(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    if args.check:
        return check_migrations(url)
    before, after = migrate_database(url)
    if before == after:
        print(f"database {safe_url(url)} is at revision {after} (up to date)")
    else:
        print(f"database {safe_url(url)} migrated from {before or 'empty'} to {after}")
    return 0


def _token_create(args: argparse.Namespace) -> int:

    url = resolve_database_url(args.database)
    migrate_database(url)

    async def run() -> tuple[str, int]:
        engine = create_engine(url)
        try:
            return await create_token(engine, args.role, args.community, args.pod or (), args.label)
        finally:
            await engine.dispose()

    try:
        secret, token_id = asyncio.run(run())
    except TokenError as err:
        raise UsageError(str(err)) from err
    scope = "all communities" if args.community is None else f"community {args.community}"
    pods = f", PODs {' '.join(args.pod)}" if args.pod else ""
    print(f"token {token_id}: role {args.role}, {scope}{pods}; it is shown only now:")
    print(secret)
    return 0


def load_community_file(path: Path) -> Any:
    """A community file (YAML or JSON) as data."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from err

    try:
        if path.suffix == ".json":
            return json.loads(text)
        return load_yaml(text, str(path))  # floats as exact decimals
    except json.JSONDecodeError as err:
        raise UsageError(f"{path} is not valid JSON: {err}") from err
    except InvalidInput as err:
        raise UsageError(str(err)) from err


def import_community_file(url: str, path: Path) -> tuple[str, bool]:
    """Create or update the community of a file; returns (id, created)."""
    answer = import_community_answer(url, path)
    return answer["id"], answer["created"]


def import_community_answer(
    url: str,
    path: Path,
    *,
    dry_run: bool = False,
    effective: date | None = None,
) -> dict[str, Any]:
    """Validate the file as ``check`` does, then apply (or only diff) it.

    A file with problems stores nothing: every problem is listed with its path, and the
    command exits as ``check`` would (2: invalid file, 1: a broken GSE rule or a POD active
    in another community).
    """
    data = load_community_file(path)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a community file is a mapping with community, members, plants")
    migrate_database(url)

    async def run() -> dict[str, Any]:
        engine = create_engine(url)
        try:
            return await apply_import(
                engine,
                data,
                dry_run=dry_run,
                effective=effective,
                actor=f"cli ({getpass.getuser()})",
            )
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except RegistryRefused as err:
        lines = "".join(f"\n{path}: {p.get('field')}: {p.get('message')}" for p in err.problems)
        error = CheckFailed if err.exit_code == 1 else UsageError
        raise error(f"{path}: {err}{lines}") from err
    except RegistryError as err:
        lines = "; ".join(f"{p.get('field')}: {p.get('message')}" for p in err.problems)
        raise UsageError(f"{path}: {err}: {lines}") from err


def _print_diff(diff: dict[str, Any]) -> None:
    for name, (old, new) in diff["community"]["changed"].items():
        print(f"  community.{name}: {old} -> {new}")
    for kind in ("members", "pods", "plants"):
        for what in ("added", "changed", "ended"):
            for item in diff[kind][what]:
                print(f"  {kind} {what}: {json.dumps(item, ensure_ascii=False)}")


def _community_import(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    effective = None
    if args.effective:
        try:
            effective = date.fromisoformat(args.effective)
        except ValueError as err:
            raise UsageError(f"--effective {args.effective!r} is not a date YYYY-MM-DD") from err
    answer = import_community_answer(
        url, Path(args.file), dry_run=args.dry_run, effective=effective
    )
    for warning in answer["warnings"]:
        print(f"{args.file}: warning: {warning['field']}: {warning['message']}", file=sys.stderr)
    if args.json:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.dry_run:
        print(f"dry run of {args.file}: nothing stored; the import would change:")
        _print_diff(answer["diff"])
        print(answer["id"] or "(a new community)")
        return 0
    print(f"community {'created' if answer['created'] else 'updated'} from {args.file}:")
    _print_diff(answer["diff"])
    print(answer["id"])
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``migrate``, ``token create`` and ``community import``."""
    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    add_database_option(migrate)
    migrate.add_argument(
        "--check", action="store_true", help="only list pending migrations (exit 1 if any)"
    )
    migrate.set_defaults(handler=_migrate_command)

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser(
        "create", help="make a token; prints it alone on the last line (shown only once)"
    )
    create.add_argument("--role", required=True, choices=("admin", "site", "viewer"))
    create.add_argument("--community", metavar="ID", help="community id (omit: admin of all)")
    create.add_argument(
        "--pod",
        metavar="POD",
        nargs="+",
        action="extend",
        help="the PODs a site token may write (repeat or list several)",
    )
    create.add_argument("--label", help="a note to tell tokens apart")
    add_database_option(create)
    create.set_defaults(handler=_token_create)

    community = commands.add_parser("community", help="communities in the backend")
    community_commands = community.add_subparsers(
        dest="community_command", metavar="ACTION", required=True
    )
    imp = community_commands.add_parser(
        "import", help="create or update (same name) a community from its file; prints its id"
    )
    imp.add_argument("file", metavar="FILE", help="community file (YAML of FORMATS.md, or JSON)")
    imp.add_argument(
        "--dry-run", action="store_true", help="print the change (added, changed, ended) only"
    )
    imp.add_argument(
        "--effective",
        metavar="DATE",
        help="first day no longer in force of what the file drops (required when anything ends)",
    )
    imp.add_argument("--json", action="store_true", help="print the answer as JSON")
    add_database_option(imp)
    imp.set_defaults(handler=_community_import)
