"""``cer-backend serve``: the HTTP API."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from aiohttp import web

from .. import __version__
from ..app import create_app
from ..settings import DEFAULT_HOST, DEFAULT_PORT, resolve_database_url


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--database URL``: the same resolution in every command."""
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


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``serve``."""
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    add_database_option(serve)
    serve.set_defaults(handler=_serve)
