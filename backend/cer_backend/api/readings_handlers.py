"""Handlers of metered data: import of a distributor's file, completeness, HA against meter."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..domain.errors import InvalidInput
from ..files.layouts import BUILTIN_LAYOUTS, Layout, builtin_layout, read_layout_text
from ..models import READING_SOURCES
from ..service.coverage import compare, coverage
from ..service.metered import DEFAULT_SOURCE, MeteredImportError, import_file
from ..service.settlements import SettlementError
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import MAX_FILE_BODY, Context, Route

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "viewer"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(context: Context, name: str) -> bool:
    value = context.request.query.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ApiError(
        422, f"{name} must be true or false", errors=[{"field": name, "message": "not a flag"}]
    )


async def _file_and_layout(context: Context) -> tuple[bytes, str, str | None]:
    """(file bytes, file name, layout YAML text or None) from the body or its parts."""
    request = context.request
    name = request.query.get("filename", "")
    layout_text: str | None = None
    data: bytes | None = None
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part: Any = await reader.next()
            if part is None:
                break
            content = bytes(await part.read(decode=True))
            if part.name == "layout":
                try:
                    layout_text = content.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise ApiError(422, "the layout part is not UTF-8 text") from err
            elif part.name in ("file", None) or data is None:
                data = content
                name = part.filename or name
        if data is None:
            raise ApiError(422, "the multipart body has no part named file")
    else:
        data = await request.read()
    if not data:
        raise ApiError(422, "the body is empty: send the metered-data file")
    if len(data) > MAX_FILE_BODY:
        raise ApiError(413, f"a file may be at most {MAX_FILE_BODY} bytes")
    return data, name or "upload", layout_text


def _layout(context: Context, layout_text: str | None) -> Layout:
    query = context.request.query
    try:
        if layout_text is not None:
            layout = read_layout_text(layout_text, "layout")
        else:
            name = query.get("layout")
            if not name:
                raise ApiError(
                    422,
                    f"say the layout: ?layout={'|'.join(BUILTIN_LAYOUTS)}, or a part named layout",
                    errors=[{"field": "layout", "message": "is required"}],
                )
            layout = builtin_layout(name)
        return layout.with_stamp(query.get("stamp") or None)
    except InvalidInput as err:
        raise ApiError(
            422,
            "the layout is not valid",
            errors=[{"field": p.path, "message": p.message} for p in err.problems],
        ) from err


async def post_import(context: Context) -> web.StreamResponse:
    """``POST /communities/{community}/readings/import``: one file, all or nothing."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    data, name, layout_text = await _file_and_layout(context)
    layout = _layout(context, layout_text)
    query = context.request.query
    try:
        outcome = await import_file(
            context.app[ENGINE_KEY],
            community_id,
            data,
            name,
            layout,
            source=query.get("source") or DEFAULT_SOURCE,
            pod=query.get("pod") or None,
            dry_run=_flag(context, "dry_run"),
            token_id=context.require_principal().token_id,
        )
    except MeteredImportError as err:
        raise ApiError(err.status, str(err)) from err
    if outcome.errors:
        raise ApiError(
            422,
            f"{name}: {len(outcome.errors)} errors, nothing stored",
            errors=[{"message": message} for message in outcome.errors],
            extra={"result": outcome.as_dict()},
        )
    return json_response(outcome.as_dict())


def _period(context: Context) -> str:
    period = context.request.query.get("period")
    if not period:
        raise ApiError(
            422,
            "period is required (YYYY, YYYY-MM or YYYY-MM-DD)",
            errors=[{"field": "period", "message": "is required"}],
        )
    return period


async def get_status(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}/readings/status?period=``: expected, present, missing."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    try:
        return json_response(
            await coverage(context.app[ENGINE_KEY], community_id, _period(context))
        )
    except SettlementError as err:
        raise ApiError(err.status, str(err), errors=err.problems) from err


async def get_compare(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}/readings/compare?period=``: HA against the meter."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    try:
        return json_response(await compare(context.app[ENGINE_KEY], community_id, _period(context)))
    except SettlementError as err:
        raise ApiError(err.status, str(err), errors=err.problems) from err


_PERIOD_QUERY = {"period": {"type": "string", "description": "YYYY, YYYY-MM or YYYY-MM-DD"}}

ROUTES: list[Route] = [
    Route(
        "POST",
        "/communities/{community}/readings/import",
        post_import,
        "Import a metered-data file (all or nothing)",
        ADMIN,
        body={"type": "string", "format": "binary"},
        body_kind="file",
        query={
            "layout": {"type": "string", "enum": list(BUILTIN_LAYOUTS)},
            "source": {"type": "string", "enum": list(READING_SOURCES)},
            "pod": {"type": "string"},
            "stamp": {"type": "string", "enum": ["start", "end"]},
            "dry_run": {"type": "boolean"},
            "filename": {"type": "string"},
        },
        tag="readings",
    ),
    Route(
        "GET",
        "/communities/{community}/readings/status",
        get_status,
        "Expected, present (by source) and missing hours of a period",
        READERS,
        query=_PERIOD_QUERY,
        tag="readings",
    ),
    Route(
        "GET",
        "/communities/{community}/readings/compare",
        get_compare,
        "Home Assistant hours against the meter's",
        READERS,
        query=_PERIOD_QUERY,
        tag="readings",
    ),
]
