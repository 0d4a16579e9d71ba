"""``cer-backend``: the command line of the backend."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .commands import admin, alerts, cycle, data, member, operations, reports, serve, settlement
from .commands import readings as readings_commands
from .commands.errors import CheckFailed, UsageError
from .logs import TEXT_FORMAT, RedactingFormatter

COMMAND_MODULES = (
    serve,
    admin,
    data,
    settlement,
    readings_commands,
    cycle,
    reports,
    operations,
    alerts,
    member,
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cer-backend",
        description="Backend of cer_community: ingest, GSE settlement, reports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format=TEXT_FORMAT, stream=sys.stderr
    )
    for handler in logging.getLogger().handlers:  # no secret or POD code in any line
        handler.setFormatter(RedactingFormatter(TEXT_FORMAT))
    try:
        return int(args.handler(args))
    except (UsageError, CheckFailed) as err:
        print(f"cer-backend: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
