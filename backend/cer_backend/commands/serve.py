"""``cer-backend serve``: the HTTP API."""

from __future__ import annotations

import argparse
import logging
import socket
from typing import Any

from aiohttp import web

from .. import __version__
from ..app import create_app
from ..logs import configure_logging
from ..service.alerts.scheduler import EVALUATION_INTERVAL
from ..settings import DEFAULT_HOST, DEFAULT_PORT, resolve_database_url
from .database import add_database_option, migrate_database
from .errors import UsageError

#: seconds given to requests in flight when SIGTERM/SIGINT arrives
SHUTDOWN_TIMEOUT = 10.0


def _serve(args: argparse.Namespace) -> int:
    configure_logging(
        args.log_format,
        logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        access_log=not args.no_access_log,
    )
    database_url = resolve_database_url(args.database)
    # the port first: a busy one is one error line (exit 2), before anything else is done
    sock = _listen(args.host, args.port)
    # migrate first: a database that cannot be reached or upgraded stops here, in one line
    before, after = migrate_database(database_url)
    logger = logging.getLogger(__name__)
    if before != after:
        logger.info("Database schema migrated from %s to %s", before or "empty", after)
    app = create_app(database_url, alerts_interval=EVALUATION_INTERVAL)
    logger.info(
        "cer-backend %s on http://%s:%d (database: %s)",
        __version__,
        args.host,
        args.port,
        database_url.split("@")[-1],
    )
    # aiohttp stops on SIGTERM/SIGINT: no new connections, requests in flight finish
    # (up to SHUTDOWN_TIMEOUT), then the engine is disposed
    web.run_app(
        app,
        sock=sock,
        print=None,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    logger.info("cer-backend stopped")
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket of ``serve``; UsageError (one line, exit 2) when it cannot be had."""
    try:
        return socket.create_server((host, port), backlog=128)
    except OSError as err:
        reason = err.strerror or str(err)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from err


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``serve``."""
    serve = commands.add_parser("serve", help="run the HTTP API (migrates the database first)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument(
        "--log-format", choices=("json", "text"), default="json", help="default json"
    )
    serve.add_argument("--no-access-log", action="store_true", help="no line per request")
    add_database_option(serve)
    serve.set_defaults(handler=_serve)
