"""``cer-backend settlement run|list|show|finalise`` and ``gse import|status``.

The operating cycle from the shell, with the guards and the JSON of the API: each command
prints the API's JSON answer. A settlement refusal prints the API's problem body (with the
guards' figures) on stdout and one line per problem on stderr; every refusal exits 1
when a guard refused (stale, incomplete, a final run exists: HTTP 409) and 2 for what the
user asked wrong (an unknown run or community, a bad period or file: HTTP 404/422).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..database import create_engine
from ..domain.errors import InvalidInput
from ..models import Community
from ..service.gse import GseError, import_gse_figures, reconciliation
from ..service.registry import jsonable
from ..service.settlements import (
    SettlementError,
    create_run,
    finalise_run,
    get_run,
    list_runs,
)
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database
from .errors import CheckFailed, UsageError


def _print_json(data: Any) -> None:
    json.dump(jsonable(data), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _run_async(args: argparse.Namespace, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(engine)`` on the database of ``args``; refusals become exit codes."""
    url = resolve_database_url(args.database)
    migrate_database(url)

    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    select(Community.community_id).where(Community.community_id == args.community)
                )
            if found is None:
                raise UsageError(f"no community {args.community!r}")
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except SettlementError as err:
        # the API's problem body on stdout (a script reads the guards' figures), lines on stderr
        problem: dict[str, Any] = {"status": err.status, "detail": str(err), "errors": err.problems}
        figures = getattr(err, "figures", None)
        if figures:
            problem["guards"] = figures
        _print_json(problem)
        _refusal(str(err), [p.get("message", "") for p in err.problems], err.status)
    except GseError as err:
        _refusal(str(err), err.problems, err.status)
    except InvalidInput as err:
        _refusal("nothing was stored", [str(p) for p in err.problems], 422)


def _refusal(message: str, problems: list[str], status: int) -> None:
    for problem in problems:
        print(f"cer-backend: {problem}", file=sys.stderr)
    error = CheckFailed if status == 409 else UsageError
    raise error(message)


def _settlement_run(args: argparse.Namespace) -> int:
    run = _run_async(args, lambda e: create_run(e, args.community, args.period, args.kind))
    _print_json(run)
    return 0


def _settlement_list(args: argparse.Namespace) -> int:
    _print_json(_run_async(args, lambda e: list_runs(e, args.community)))
    return 0


def _settlement_show(args: argparse.Namespace) -> int:
    _print_json(_run_async(args, lambda e: get_run(e, args.run, args.community)))
    return 0


def _settlement_finalise(args: argparse.Namespace) -> int:
    if args.reason and not args.force:
        raise UsageError("--reason goes with --force")
    run = _run_async(
        args,
        lambda e: finalise_run(e, args.run, args.community, force=args.force, reason=args.reason),
    )
    _print_json(run)
    return 0


def _gse_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise UsageError(f"{path}: no such file") from err
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: not UTF-8 text") from err
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror}") from err
    answer = _run_async(args, lambda e: import_gse_figures(e, args.community, text, str(path)))
    _print_json(answer)
    return 0


def _gse_status(args: argparse.Namespace) -> int:
    period = args.period or args.year
    if not period:
        raise UsageError("say which period: --year YYYY or --period YYYY-MM")
    _print_json(_run_async(args, lambda e: reconciliation(e, args.community, period)))
    return 0


def _community_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--community", required=True, metavar="ID", help="community id")
    add_database_option(parser)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``settlement`` and ``gse``."""
    settlement = commands.add_parser(
        "settlement", help="settlement runs of the stored data (as POST /settlements)"
    )
    actions = settlement.add_subparsers(dest="settlement_command", metavar="ACTION", required=True)
    parser = actions.add_parser("run", help="a draft run of a month or year; prints it as JSON")
    parser.add_argument("--period", required=True, help="YYYY-MM or YYYY")
    parser.add_argument(
        "--kind",
        choices=("month", "year", "correction"),
        help="default: month for a month, year for a year; correction re-runs a final period",
    )
    _community_option(parser)
    parser.set_defaults(handler=_settlement_run)
    parser = actions.add_parser("list", help="the community's runs, newest first")
    _community_option(parser)
    parser.set_defaults(handler=_settlement_list)
    parser = actions.add_parser("show", help="a run with its result")
    parser.add_argument("run", metavar="RUN", help="run id")
    _community_option(parser)
    parser.set_defaults(handler=_settlement_show)
    parser = actions.add_parser(
        "finalise", help="freeze a draft (refused when stale or incomplete unless forced)"
    )
    parser.add_argument("run", metavar="RUN", help="run id")
    parser.add_argument("--force", action="store_true", help="finalise a stale or incomplete run")
    parser.add_argument("--reason", help="why it is forced (kept in the run and its report)")
    _community_option(parser)
    parser.set_defaults(handler=_settlement_finalise)

    gse = commands.add_parser("gse", help="what the GSE announced or paid, and reconciliation")
    gse_actions = gse.add_subparsers(dest="gse_command", metavar="ACTION", required=True)
    parser = gse_actions.add_parser("import", help="record a GSE figures CSV (FORMATS.md)")
    parser.add_argument("file", metavar="FILE")
    _community_option(parser)
    parser.set_defaults(handler=_gse_import)
    parser = gse_actions.add_parser(
        "status", help="acconti and conguaglio against our runs; divergences flagged"
    )
    parser.add_argument("--year", help="YYYY")
    parser.add_argument("--period", help="YYYY-MM (or YYYY)")
    _community_option(parser)
    parser.set_defaults(handler=_gse_status)
