"""Handlers of the people-facing reports: community report, statements, export, council report.

Every report URL takes ``?lang=it|en``; without it the community's ``settings.language``
decides, else Italian.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..i18n import LANGUAGES, Language, LanguageError, choose_language
from ..service.community_report import community_report_pdf
from ..service.council import council_report_pdf
from ..service.delivery import list_deliveries
from ..service.export import export_csv, export_xlsx
from ..service.report_model import ReportError, RunFacts, load_facts
from ..service.statements import StatementError, statement_csv, statement_pdf
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import Context, Route

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "viewer"})
LANG_QUERY = {"lang": {"type": "string", "enum": sorted(LANGUAGES)}}


async def run_facts(context: Context) -> RunFacts:
    """The run of the URL, within the token's scope."""
    try:
        return await load_facts(
            context.app[ENGINE_KEY],
            context.request.match_info["run"],
            context.require_principal().community_id,
        )
    except ReportError as err:
        raise ApiError(err.status, str(err)) from err


def request_language(context: Context, facts: RunFacts) -> Language:
    """``?lang=``, else the community's language, else Italian (422 for an unknown one)."""
    try:
        return choose_language(context.request.query.get("lang"), facts.document)
    except LanguageError as err:
        raise ApiError(422, str(err), errors=[{"field": "lang", "message": str(err)}]) from err


def _attachment(facts: RunFacts, suffix: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="cer-{facts.community_id}-'
        f'{facts.period}-{suffix}"'
    }


async def report_pdf(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/report.pdf``: the community report."""
    facts = await run_facts(context)
    lang = request_language(context, facts)
    return web.Response(
        body=community_report_pdf(facts, lang),
        content_type="application/pdf",
        headers=_attachment(facts, f"report-{lang.code}.pdf"),
    )


def _member_id(context: Context, facts: RunFacts) -> str:
    member_id = context.request.match_info["member"]
    if not any(m["id"] == member_id for m in facts.result.get("members") or []):
        raise ApiError(404, f"member {member_id!r} is not in run {facts.id}")
    return member_id


async def statement_pdf_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.pdf``."""
    facts = await run_facts(context)
    member_id = _member_id(context, facts)
    lang = request_language(context, facts)
    try:
        body = statement_pdf(facts, member_id, lang)
    except StatementError as err:
        raise ApiError(404, f"member {member_id!r} is not in run {facts.id}") from err
    return web.Response(
        body=body, content_type="application/pdf", headers=_attachment(facts, f"{member_id}.pdf")
    )


async def statement_csv_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.csv``."""
    facts = await run_facts(context)
    member_id = _member_id(context, facts)
    lang = request_language(context, facts)
    return web.Response(
        text=statement_csv(facts, member_id, lang),
        content_type="text/csv",
        headers=_attachment(facts, f"{member_id}.csv"),
    )


async def export_xlsx_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/export.xlsx``: the accountant's export."""
    facts = await run_facts(context)
    lang = request_language(context, facts)
    return web.Response(
        body=export_xlsx(facts, lang),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=_attachment(facts, "export.xlsx"),
    )


async def export_csv_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/export.csv``: the accountant's export."""
    facts = await run_facts(context)
    lang = request_language(context, facts)
    return web.Response(
        text=export_csv(facts, lang),
        content_type="text/csv",
        headers=_attachment(facts, "export.csv"),
    )


async def council_pdf_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/council.pdf``: the council's annual report of a year run."""
    facts = await run_facts(context)
    lang = request_language(context, facts)
    try:
        body = council_report_pdf(facts, lang)
    except ReportError as err:
        raise ApiError(err.status, str(err)) from err
    return web.Response(
        body=body, content_type="application/pdf", headers=_attachment(facts, "council.pdf")
    )


async def deliveries_handler(context: Context) -> web.StreamResponse:
    """``GET /communities/{id}/deliveries``: every message sent, failed or skipped."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    run_id = context.request.query.get("run")
    rows: list[dict[str, Any]] = await list_deliveries(
        context.app[ENGINE_KEY], community_id, run_id
    )
    return json_response(rows)


ROUTES: list[Route] = [
    Route(
        "GET",
        "/settlements/{run}/export.xlsx",
        export_xlsx_handler,
        "The accountant's export of a run (XLSX): members, management, funds and totals",
        ADMIN,
        query=LANG_QUERY,
        response_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        tag="reports",
    ),
    Route(
        "GET",
        "/settlements/{run}/export.csv",
        export_csv_handler,
        "The accountant's export of a run (CSV)",
        ADMIN,
        query=LANG_QUERY,
        response_type="text/csv",
        tag="reports",
    ),
    Route(
        "GET",
        "/settlements/{run}/council.pdf",
        council_pdf_handler,
        "The council's annual report of a year run (PDF, two pages)",
        READERS,
        query=LANG_QUERY,
        response_type="application/pdf",
        tag="reports",
    ),
    Route(
        "GET",
        "/communities/{community}/deliveries",
        deliveries_handler,
        "Reports and statements sent by e-mail, failed or skipped",
        ADMIN,
        query={"run": {"type": "string"}},
        tag="reports",
    ),
]
