"""Handlers of the people-facing reports: community report, statements, export, council report.

Every report URL takes ``?lang=it|en``; without it the community's ``settings.language``
decides, else Italian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..i18n import LANGUAGES, Language, LanguageError, choose_language
from ..service.delivery import list_deliveries
from ..service.report_model import ReportError, RunFacts, load_facts
from ..service.run_documents import MEMBER_DOCUMENTS, RUN_DOCUMENTS, XLSX
from ..service.statements import StatementError
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


def _download(
    facts: RunFacts, body: str | bytes, content_type: str, suffix: str
) -> web.StreamResponse:
    """A document of the run as an attachment named ``cer-{community}-{period}-{suffix}``."""
    headers = {
        "Content-Disposition": f'attachment; filename="cer-{facts.community_id}-'
        f'{facts.period}-{suffix}"'
    }
    if isinstance(body, str):
        return web.Response(text=body, content_type=content_type, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


async def _run_document(
    context: Context, name: str, suffix: Callable[[Language], str] | None = None
) -> web.StreamResponse:
    """The run document ``name`` of the URL's run in the request's language (a report that
    cannot be made answers its status); the file is named by ``suffix``, else ``name``."""
    facts = await run_facts(context)
    lang = request_language(context, facts)
    document = RUN_DOCUMENTS[name]
    try:
        body = document.render(facts, lang)
    except ReportError as err:
        raise ApiError(err.status, str(err)) from err
    return _download(facts, body, document.content_type, suffix(lang) if suffix else name)


def _member_id(context: Context, facts: RunFacts) -> str:
    member_id = context.request.match_info["member"]
    if not any(m["id"] == member_id for m in facts.result.get("members") or []):
        raise ApiError(404, f"member {member_id!r} is not in run {facts.id}")
    return member_id


async def _member_document(context: Context, name: str) -> web.StreamResponse:
    """The statement ``name`` of the URL's member of the URL's run (404 when not in it)."""
    facts = await run_facts(context)
    member_id = _member_id(context, facts)
    lang = request_language(context, facts)
    document = MEMBER_DOCUMENTS[name]
    try:
        body = document.render(facts, member_id, lang)
    except StatementError as err:
        raise ApiError(404, f"member {member_id!r} is not in run {facts.id}") from err
    return _download(facts, body, document.content_type, f"{member_id}.{document.extension}")


async def report_pdf(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/report.pdf``: the community report."""
    return await _run_document(context, "report.pdf", lambda lang: f"report-{lang.code}.pdf")


async def statement_pdf_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.pdf``."""
    return await _member_document(context, "statement.pdf")


async def statement_csv_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.csv``."""
    return await _member_document(context, "statement.csv")


async def export_xlsx_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/export.xlsx``: the accountant's export."""
    return await _run_document(context, "export.xlsx")


async def export_csv_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/export.csv``: the accountant's export."""
    return await _run_document(context, "export.csv")


async def council_pdf_handler(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/council.pdf``: the council's annual report of a year run."""
    return await _run_document(context, "council.pdf")


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
        response_type=XLSX,
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
