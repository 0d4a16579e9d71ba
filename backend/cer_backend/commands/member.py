"""``cer-backend member link``: a member's personal link to their own page (``/socio``).

The link works once and for 7 days; it is printed alone on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from ..database import create_engine
from ..service.web_access import LINK_DAYS, LinkError, create_member_link, link_url
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database
from .errors import UsageError

#: where the backend is reached when neither --base-url nor CER_BASE_URL says
DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def _link(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    migrate_database(url)
    base = args.base_url or os.environ.get("CER_BASE_URL") or DEFAULT_BASE_URL
    if not base.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://: {base!r}")

    async def make() -> str:
        engine = create_engine(url)
        try:
            return await create_member_link(engine, args.community, args.member)
        finally:
            await engine.dispose()

    try:
        secret = asyncio.run(make())
    except LinkError as err:
        raise UsageError(str(err)) from err
    print(f"personal link of {args.member} (works once, for {LINK_DAYS} days):")
    print(link_url(base, secret))
    return 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``member link``."""
    member = commands.add_parser("member", help="members' personal pages")
    actions = member.add_subparsers(dest="member_command", metavar="ACTION", required=True)
    parser = actions.add_parser(
        "link", help="a personal link to the member's page (once, 7 days); last line"
    )
    parser.add_argument("member", metavar="MEMBER", help="member id")
    parser.add_argument("--community", required=True, metavar="ID", help="community id")
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=f"the backend's public address (default: $CER_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    add_database_option(parser)
    parser.set_defaults(handler=_link)
