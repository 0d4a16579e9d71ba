"""``cer-backend``: the command line of the backend."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from . import __version__
from .app import create_app
from .settings import DEFAULT_HOST, DEFAULT_PORT, resolve_database_url


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit code 2."""


def _add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: $CER_DATABASE_URL, else SQLite in $CER_DATA_DIR)",
    )


def _serve(args: argparse.Namespace) -> int:
    database_url = resolve_database_url(args.database)
    app = create_app(database_url)
    logging.getLogger(__name__).info(
        "cer-backend %s on http://%s:%d (database: %s)",
        __version__,
        args.host,
        args.port,
        database_url.split("@")[-1],
    )
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="cer-backend",
        description="Backend of cer_community: ingest, GSE settlement, reports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    _add_database_option(serve)
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except UsageError as err:
        print(f"cer-backend: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
