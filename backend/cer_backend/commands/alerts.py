"""``cer-backend alerts check``: evaluate a community's alert rules now or at a past moment."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import Any

from ..database import create_engine
from ..service.alerts.data import AlertDataError
from ..service.alerts.delivery import deliver
from ..service.alerts.store import Evaluation, check_alerts
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database
from .errors import UsageError


def parse_at(text: str) -> datetime:
    """An ISO 8601 moment with its offset (``2025-06-15T12:00+02:00``); UsageError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise UsageError(f"--at {text!r}: not an ISO 8601 date and time") from err
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(f"--at {text!r}: give the offset too, e.g. 2025-06-15T12:00+02:00")
    return moment


def _check(args: argparse.Namespace) -> int:
    at = parse_at(args.at) if args.at else None
    url = resolve_database_url(args.database)
    migrate_database(url)

    async def run() -> tuple[Evaluation, dict[str, Any]]:
        engine = create_engine(url)
        try:
            evaluation = await check_alerts(engine, args.community, at, dry_run=args.dry_run)
            report: dict[str, Any] = {}
            if not args.dry_run:
                report = await deliver(engine, evaluation)
            return evaluation, report
        finally:
            await engine.dispose()

    try:
        evaluation, report = asyncio.run(run())
    except AlertDataError as err:
        raise UsageError(str(err)) from err
    if args.json:
        answer = evaluation.to_json_dict()
        answer["delivery"] = report
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{evaluation.community_id} at {evaluation.at.isoformat()}: "
        f"{len(evaluation.alerts)} alerts in force, {len(evaluation.new)} new, "
        f"{len(evaluation.resolved)} resolved"
        + (" (dry run: nothing stored)" if args.dry_run else "")
    )
    for alert in evaluation.alerts:
        mark = "NEW " if alert["new"] else ("ACK " if alert["acknowledged"] else "    ")
        print(f"{mark}{alert['kind']:<22} {alert['message']}")
    for warning in evaluation.warnings:
        print(f"warning: {warning}")
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``alerts check``."""
    alerts = commands.add_parser("alerts", help="alerts the referent acts on")
    actions = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="evaluate the alert rules of a community (exit 0 whatever they find, 2 on bad input)",
    )
    check.add_argument("--community", metavar="ID", required=True)
    check.add_argument(
        "--at",
        metavar="ISO",
        help="evaluate as if it were then, on the hours up to it (e.g. 2025-06-15T12:00+02:00)",
    )
    check.add_argument("--dry-run", action="store_true", help="store and deliver nothing")
    check.add_argument("--json", action="store_true", help="one JSON object")
    add_database_option(check)
    check.set_defaults(handler=_check)
