"""``cer-backend reports community|statement|export|council|send``: the people-facing outputs.

Every command takes ``--lang it|en`` (default: the community's ``settings.language``, else
Italian). Exit codes: 0 done, 1 some messages could not be sent (``send``; run it again to
retry them), 2 a usage problem (unknown run, member, language or format; no SMTP settings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from ..database import create_engine
from ..i18n import LANGUAGES, Language, LanguageError, choose_language
from ..service.community_report import community_report_pdf
from ..service.council import council_report_pdf
from ..service.delivery import send_run
from ..service.export import FORMATS, export
from ..service.mail import MailError, SmtpConfig
from ..service.report_model import ReportError, RunFacts, load_facts
from ..service.statements import StatementError, statement_csv, statement_pdf
from ..settings import resolve_database_url
from .database import add_database_option, migrate_database
from .errors import UsageError

T = TypeVar("T")


def _with_engine(url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _facts(args: argparse.Namespace) -> tuple[str, RunFacts, Language]:
    url = resolve_database_url(args.database)
    migrate_database(url)
    community = getattr(args, "community", None)
    try:
        facts = _with_engine(url, lambda engine: load_facts(engine, args.run, community))
    except ReportError as err:
        raise UsageError(str(err)) from err
    try:
        lang = choose_language(args.lang, facts.document)
    except LanguageError as err:
        raise UsageError(str(err)) from err
    return url, facts, lang


def _write(path: str, data: bytes) -> None:
    target = Path(path)
    try:
        target.write_bytes(data)
    except OSError as err:
        raise UsageError(f"{target}: cannot write: {err.strerror or err}") from err
    print(f"{target} ({len(data)} bytes)")


def _community(args: argparse.Namespace) -> int:
    _, facts, lang = _facts(args)
    _write(args.out, community_report_pdf(facts, lang))
    return 0


def _statement(args: argparse.Namespace) -> int:
    _, facts, lang = _facts(args)
    try:
        if args.format == "csv":
            data = statement_csv(facts, args.member, lang).encode("utf-8")
        else:
            data = statement_pdf(facts, args.member, lang)
    except StatementError as err:
        raise UsageError(f"member {args.member!r} is not in run {facts.id}") from err
    _write(args.out, data)
    return 0


def _export(args: argparse.Namespace) -> int:
    _, facts, lang = _facts(args)
    _write(args.out, export(facts, lang, args.format))
    return 0


def _council(args: argparse.Namespace) -> int:
    _, facts, lang = _facts(args)
    factor = None
    if args.emission_factor is not None:
        try:
            factor = Decimal(args.emission_factor)
        except InvalidOperation as err:
            raise UsageError(f"--emission-factor {args.emission_factor!r} is not a number") from err
    try:
        data = council_report_pdf(facts, lang, factor)
    except ReportError as err:
        raise UsageError(str(err)) from err
    _write(args.out, data)
    return 0


def _send(args: argparse.Namespace) -> int:
    url, facts, lang = _facts(args)
    config = None
    if not args.dry_run:
        try:
            config = SmtpConfig.from_environment(os.environ)
        except MailError as err:
            raise UsageError(str(err)) from err
    try:
        outcome = _with_engine(
            url,
            lambda engine: send_run(
                engine, facts, lang, config=config, dry_run=args.dry_run, allow_draft=args.draft
            ),
        )
    except (ReportError, MailError) as err:
        raise UsageError(str(err)) from err
    if args.json:
        print(json.dumps(outcome.to_json(), ensure_ascii=False, indent=2))
    else:
        for message in outcome.messages:
            who = message["recipient"] or "-"
            what = message["member"] or "community report"
            line = f"{message['status']:<12} {what:<24} {who}"
            if message.get("error"):
                line += f"  ({message['error']})"
            print(line)
        counts = outcome.to_json()["counts"]
        print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return 1 if outcome.failed else 0


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``reports``."""
    reports = commands.add_parser("reports", help="reports, statements, exports and e-mails")
    actions = reports.add_subparsers(dest="reports_command", metavar="ACTION", required=True)

    def common(parser: argparse.ArgumentParser, out: bool = True) -> None:
        parser.add_argument("--run", required=True, metavar="RUN", help="settlement run id")
        parser.add_argument(
            "--lang", choices=sorted(LANGUAGES), help="language (default: the community's, else it)"
        )
        if out:
            parser.add_argument("--out", required=True, metavar="FILE", help="file to write")
        add_database_option(parser)

    parser = actions.add_parser("community", help="the community report of a run (PDF)")
    common(parser)
    parser.set_defaults(handler=_community)

    parser = actions.add_parser("statement", help="a member's statement (PDF or CSV)")
    common(parser)
    parser.add_argument("--member", required=True, metavar="ID")
    parser.add_argument("--format", choices=("pdf", "csv"), default="pdf")
    parser.set_defaults(handler=_statement)

    parser = actions.add_parser("export", help="the accountant's export of a run (XLSX or CSV)")
    common(parser)
    parser.add_argument("--format", choices=FORMATS, default="xlsx")
    parser.set_defaults(handler=_export)

    parser = actions.add_parser("council", help="the council's annual report of a year run")
    common(parser)
    parser.add_argument(
        "--emission-factor", metavar="G_PER_KWH", help="g CO2/kWh (default: the community's)"
    )
    parser.set_defaults(handler=_council)

    parser = actions.add_parser(
        "send", help="e-mail the community report and each member's statement (CER_SMTP_URL)"
    )
    common(parser, out=False)
    parser.add_argument("--community", required=True, metavar="ID")
    parser.add_argument("--dry-run", action="store_true", help="list the messages, send nothing")
    parser.add_argument("--draft", action="store_true", help="send a draft run (marked BOZZA)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(handler=_send)
