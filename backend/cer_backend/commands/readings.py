"""``cer-backend readings import | status``: metered data of every member.

``import`` reads a file (or each file of a folder, each on its own: all or nothing per file)
with a layout and stores its hours with their source; it exits 2 when a file has errors,
listing every one as ``file:line: message``. ``status`` says, per POD, what is expected,
present by source and missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ..database import create_engine
from ..domain.errors import InvalidInput
from ..files.layouts import Layout, resolve_layout
from ..models import READING_SOURCES
from ..service.coverage import compare, coverage
from ..service.metered import DEFAULT_SOURCE, ImportOutcome, MeteredImportError, import_file
from ..service.settlements import SettlementError
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database
from .errors import UsageError


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]


def files_of(path: Path) -> list[Path]:
    """The file, or the files of a folder (sorted, hidden ones left out)."""
    if path.is_dir():
        found = sorted(
            p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "~"))
        )
        if not found:
            raise UsageError(f"{path}: the folder has no files")
        return found
    if not path.is_file():
        raise UsageError(f"{path}: no such file or folder")
    return [path]


def import_paths(
    url: str,
    paths: list[Path],
    community: str,
    layout: Layout,
    *,
    source: str,
    pod: str | None,
    dry_run: bool,
) -> list[ImportOutcome]:
    """Import each file on its own (one transaction each)."""

    async def run() -> list[ImportOutcome]:
        engine = create_engine(url)
        try:
            outcomes = []
            for path in paths:
                try:
                    data = path.read_bytes()
                except OSError as err:
                    raise UsageError(f"{path}: cannot read: {err.strerror}") from err
                outcomes.append(
                    await import_file(
                        engine,
                        community,
                        data,
                        str(path),
                        layout,
                        source=source,
                        pod=pod,
                        dry_run=dry_run,
                    )
                )
            return outcomes
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except MeteredImportError as err:
        raise UsageError(str(err)) from err
    except SQLAlchemyError as err:  # one line, never a traceback
        raise UsageError(f"the database refused the import: {_first_line(err)}") from err


def total_of(outcomes: list[ImportOutcome]) -> dict[str, Any]:
    """The sum of a folder's results."""
    return {
        "files": len(outcomes),
        "files_with_errors": sum(1 for o in outcomes if o.errors),
        "hours": {
            "new": sum(o.new for o in outcomes),
            "unchanged": sum(o.unchanged for o in outcomes),
            "replaced": sum(o.replaced for o in outcomes),
        },
        "warnings": sum(len(o.warnings) for o in outcomes),
    }


def _line(outcome: ImportOutcome) -> str:
    if outcome.errors:
        return f"{outcome.file}: {len(outcome.errors)} errors, nothing stored"
    counts = (
        f"new {outcome.new}, unchanged {outcome.unchanged}, replaced {outcome.replaced}"
        f"{' (dry run: nothing stored)' if outcome.dry_run else ''}"
    )
    return f"{outcome.file}: {outcome.pods} PODs, hours {counts}"


def _import(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    try:
        layout = resolve_layout(args.layout).with_stamp(args.stamp)
    except InvalidInput as err:
        raise UsageError("; ".join(str(p) for p in err.problems)) from err
    paths = files_of(Path(args.path))
    migrate_database(url)
    outcomes = import_paths(
        url,
        paths,
        args.community,
        layout,
        source=args.source,
        pod=args.pod,
        dry_run=args.dry_run,
    )
    folder = Path(args.path).is_dir()
    if args.json:
        if folder:
            _print_json({"files": [o.as_dict() for o in outcomes], "total": total_of(outcomes)})
        else:
            _print_json(outcomes[0].as_dict())
    else:
        for outcome in outcomes:
            print(_line(outcome))
            for warning in outcome.warnings:
                print(f"  warning: {warning}")
        if folder:
            total = total_of(outcomes)
            hours = total["hours"]
            print(
                f"total: {total['files']} files ({total['files_with_errors']} with errors),"
                f" hours new {hours['new']}, unchanged {hours['unchanged']},"
                f" replaced {hours['replaced']}"
            )
    for outcome in outcomes:
        for error in outcome.errors:
            print(f"cer-backend: error: {error}", file=sys.stderr)
    return 2 if any(o.errors for o in outcomes) else 0


def _status(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    migrate_database(url)

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        engine = create_engine(url)
        try:
            return (
                await coverage(engine, args.community, args.period),
                await compare(engine, args.community, args.period),
            )
        finally:
            await engine.dispose()

    try:
        status, comparison = asyncio.run(run())
    except SettlementError as err:
        raise UsageError(str(err)) from err
    except SQLAlchemyError as err:
        raise UsageError(f"the database cannot answer: {_first_line(err)}") from err
    if args.json:
        _print_json({**status, "compare": comparison["pods"]})
        return 0
    pct = status["coverage_pct"]
    print(
        f"{status['community']} {status['period']}: {status['present']} of"
        f" {status['expected']} POD-hours present"
        f" ({'–' if pct is None else f'{pct:.2f}'} %), {status['missing']} missing"
    )
    used = ", ".join(f"{k} {v}" for k, v in status["readings_by_source"].items() if v)
    print(f"  used by source ({' > '.join(status['ranking'])}): {used or 'none'}")
    for item in status["pods"]:
        sources = ", ".join(f"{k} {v}" for k, v in item["by_source"].items()) or "no readings"
        print(
            f"  {item['pod']} ({item['member']}): {item['present']}/{item['expected']} [{sources}]"
        )
        for span in item["missing_ranges"][:20]:
            print(f"    missing {span}")
        if len(item["missing_ranges"]) > 20:
            print(f"    … {len(item['missing_ranges']) - 20} more missing ranges")
    if comparison["pods"]:
        print("  Home Assistant against the meter (|HA − DSO| > 2 % and > 50 Wh):")
        for item in comparison["pods"]:
            print(
                f"  {item['pod']}: {item['hours_both']} hours with both,"
                f" {item['differing_hours']} differ"
            )
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``readings import`` and ``readings status``."""
    readings = commands.add_parser("readings", help="metered data of the members")
    actions = readings.add_subparsers(dest="readings_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import", help="import a metered-data file, or each file of a folder (all or nothing)"
    )
    imp.add_argument("path", metavar="FILE|FOLDER")
    imp.add_argument("--community", metavar="ID", required=True)
    imp.add_argument(
        "--layout",
        required=True,
        metavar="cer|dso-wide|dso-long|LAYOUT.yaml",
        help="a built-in layout or a layout YAML file",
    )
    imp.add_argument("--source", choices=READING_SOURCES, default=DEFAULT_SOURCE)
    imp.add_argument("--pod", metavar="POD", help="the POD of a layout without a POD column")
    imp.add_argument("--stamp", choices=("start", "end"), help="interval stamps are starts/ends")
    imp.add_argument("--dry-run", action="store_true", help="check and count, store nothing")
    imp.add_argument("--json", action="store_true", help="the result as JSON")
    add_database_option(imp)
    imp.set_defaults(handler=_import)

    status = actions.add_parser("status", help="expected, present and missing hours of a period")
    status.add_argument("--community", metavar="ID", required=True)
    status.add_argument("--period", required=True, metavar="YYYY|YYYY-MM|YYYY-MM-DD")
    status.add_argument("--json", action="store_true", help="the report as JSON")
    add_database_option(status)
    status.set_defaults(handler=_status)
