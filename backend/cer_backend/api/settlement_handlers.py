"""Handlers of settlement runs, statements, reports, prices and summaries (alerts:
``alerts_handlers``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..service import reports
from ..service.gse import GseError, reconciliation
from ..service.prices import PriceError, parse_price_file, store_prices
from ..service.settlements import (
    SettlementError,
    create_run,
    finalise_run,
    get_run,
    list_runs,
    summary,
)
from . import report_handlers
from . import schemas as s
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY, REGISTRY_KEY
from .problems import ApiError
from .routing import MAX_FILE_BODY, Context, Route, read_json_body
from .schemas import validate

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "viewer"})


def _error(err: SettlementError) -> ApiError:
    figures = getattr(err, "figures", None)
    extra = {"guards": figures} if figures else None
    return ApiError(err.status, str(err), errors=err.problems, extra=extra)


def _scope(context: Context) -> str | None:
    return context.require_principal().community_id


async def post_settlement(context: Context) -> web.StreamResponse:
    """``POST /settlements``: a draft run of a month or year."""
    community_id = await scoped_community(context, context.body.get("community"))
    try:
        run = await create_run(
            context.app[ENGINE_KEY],
            community_id,
            context.body["period"],
            context.body.get("kind"),
        )
    except SettlementError as err:
        raise _error(err) from err
    return json_response(run, 201)


async def get_settlements(context: Context) -> web.StreamResponse:
    """``GET /settlements``: runs of the token's community (all for a global admin)."""
    return json_response(await list_runs(context.app[ENGINE_KEY], _scope(context)))


async def _run(context: Context) -> dict[str, Any]:
    try:
        return await get_run(
            context.app[ENGINE_KEY], context.request.match_info["run"], _scope(context)
        )
    except SettlementError as err:
        raise _error(err) from err


async def get_settlement(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}``."""
    return json_response(await _run(context))


async def finalise(context: Context) -> web.StreamResponse:
    """``POST /settlements/{run}/finalise``: immutable afterwards.

    An optional body ``{"force": true, "reason": "…"}`` finalises a stale or incomplete run.
    """
    body: Any = {}
    if await context.request.read():
        body = await read_json_body(context.request)
        problems = validate(s.FINALISE_REQUEST, body)
        if problems:
            raise ApiError(
                422,
                "the request body does not match the schema",
                errors=[{"field": p.field, "message": p.message} for p in problems],
            )
    try:
        run = await finalise_run(
            context.app[ENGINE_KEY],
            context.request.match_info["run"],
            _scope(context),
            force=bool(body.get("force")),
            reason=body.get("reason"),
        )
    except SettlementError as err:
        raise _error(err) from err
    context.app[REGISTRY_KEY].forget(run["community"])
    return json_response(run)


def _filename(run: dict[str, Any], suffix: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="cer-{run["community"]}-'
        f'{run["period"]}-{suffix}"'
    }


async def _report_run(context: Context) -> dict[str, Any]:
    """A run for its report; a year run with the GSE's payments received and the balance due."""
    run = await _run(context)
    if run.get("kind") == "year":
        try:
            answer = await reconciliation(context.app[ENGINE_KEY], run["community"], run["period"])
        except GseError as err:
            raise ApiError(err.status, str(err)) from err
        run["gse"] = {
            "payments": answer["payments"],
            "received_eur": answer["year"]["received_eur"],
            "balance_due_eur": answer["year"]["balance_due_eur"],
        }
    return run


async def report_csv(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/report.csv``."""
    run = await _report_run(context)
    return web.Response(
        text=reports.run_csv(run), content_type="text/csv", headers=_filename(run, "report.csv")
    )


async def report_pdf(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/report.pdf?lang=``: the community report (report_handlers)."""
    return await report_handlers.report_pdf(context)


def _member(run: dict[str, Any], member_id: str) -> dict[str, Any]:
    try:
        return reports.member_of(run, member_id)
    except KeyError as err:
        raise ApiError(404, f"member {member_id!r} is not in run {run['id']}") from err


async def statement(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}``: a member's statement."""
    run = await _run(context)
    member = _member(run, context.request.match_info["member"])
    return json_response(
        {
            "run": run["id"],
            "community": run["community"],
            "period": run["period"],
            "status": run["status"],
            **member,
        }
    )


async def statement_pdf(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.pdf?lang=`` (report_handlers)."""
    return await report_handlers.statement_pdf_handler(context)


async def statement_csv(context: Context) -> web.StreamResponse:
    """``GET /settlements/{run}/members/{member}/statement.csv?lang=`` (report_handlers)."""
    return await report_handlers.statement_csv_handler(context)


async def post_prices(context: Context) -> web.StreamResponse:
    """``POST /prices``: a GME XML/XLSX or CSV file as the body (multipart also accepted)."""
    request = context.request
    name = request.query.get("filename", "")
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        reader = await request.multipart()
        part: Any = await reader.next()
        if part is None:
            raise ApiError(422, "the multipart body has no file")
        name = part.filename or name
        content_type = part.headers.get("Content-Type", "")
        data = bytes(await part.read(decode=True))
    else:
        data = await request.read()
    if not data:
        raise ApiError(422, "the body is empty: send a GME XML/XLSX file or a prices CSV")
    if len(data) > MAX_FILE_BODY:
        raise ApiError(413, f"a price file may be at most {MAX_FILE_BODY} bytes")
    principal = context.require_principal()
    requested = request.query.get("community")
    if principal.community_id is not None or requested:
        targets: list[str] | None = [await scoped_community(context, requested)]
    else:
        targets = None  # a global admin without ?community: every community
    try:
        rows = parse_price_file(data, name, content_type)
    except PriceError as err:
        raise ApiError(422, str(err), errors=err.problems) from err
    answer = await store_prices(context.app[ENGINE_KEY], rows, targets, name or content_type)
    return json_response(answer)


async def get_summary(context: Context) -> web.StreamResponse:
    """``GET /community/summary?period=2025-06``: day, month or year."""
    period = context.request.query.get("period")
    community_id = await scoped_community(context, context.request.query.get("community"))
    if not period:
        raise ApiError(
            422,
            "period is required (YYYY, YYYY-MM or YYYY-MM-DD)",
            errors=[{"field": "period", "message": "is required"}],
        )
    try:
        return json_response(await summary(context.app[ENGINE_KEY], community_id, period))
    except SettlementError as err:
        raise _error(err) from err


COMMUNITY_QUERY = {"community": {"type": "string", "description": "for an admin of all"}}

ROUTES: list[Route] = [
    Route(
        "GET",
        "/community/summary",
        get_summary,
        "Shared energy and estimated money of a day, month or year",
        READERS,
        query={
            "period": s.PERIOD,
            **COMMUNITY_QUERY,
        },
        tag="community",
    ),
    Route(
        "POST",
        "/settlements",
        post_settlement,
        "Run a draft settlement of a month or year",
        ADMIN,
        s.SETTLEMENT_REQUEST,
        tag="settlement",
        statuses=(201,),
        problems=(409,),
    ),
    Route(
        "GET", "/settlements", get_settlements, "List settlement runs", READERS, tag="settlement"
    ),
    Route(
        "GET",
        "/settlements/{run}",
        get_settlement,
        "A run with its result",
        READERS,
        tag="settlement",
    ),
    Route(
        "POST",
        "/settlements/{run}/finalise",
        finalise,
        "Finalise a run: it and the readings of its period become immutable",
        ADMIN,
        tag="settlement",
        problems=(409,),
    ),
    Route(
        "GET",
        "/settlements/{run}/report.csv",
        report_csv,
        "Run report (CSV)",
        READERS,
        response_type="text/csv",
        tag="settlement",
    ),
    Route(
        "GET",
        "/settlements/{run}/report.pdf",
        report_pdf,
        "Community report (PDF): money reconciled to the cent, completeness, charts",
        READERS,
        response_type="application/pdf",
        query=report_handlers.LANG_QUERY,
        tag="settlement",
    ),
    Route(
        "GET",
        "/settlements/{run}/members/{member}",
        statement,
        "A member's statement",
        READERS,
        tag="settlement",
    ),
    Route(
        "GET",
        "/settlements/{run}/members/{member}/statement.pdf",
        statement_pdf,
        "A member's statement (PDF)",
        READERS,
        response_type="application/pdf",
        query=report_handlers.LANG_QUERY,
        tag="settlement",
    ),
    Route(
        "GET",
        "/settlements/{run}/members/{member}/statement.csv",
        statement_csv,
        "A member's statement (CSV)",
        READERS,
        response_type="text/csv",
        query=report_handlers.LANG_QUERY,
        tag="settlement",
    ),
    Route(
        "POST",
        "/prices",
        post_prices,
        "Import hourly zonal prices (GME XML/XLSX or CSV)",
        ADMIN,
        body={"type": "string", "format": "binary"},
        body_kind="file",
        query={"filename": {"type": "string"}, **COMMUNITY_QUERY},
        tag="prices",
    ),
]
