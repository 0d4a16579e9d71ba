"""Handlers of the operating cycle: registry history, GSE figures and reconciliation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..domain.errors import InvalidInput
from ..service.gse import GseError, import_gse_figures, reconciliation
from ..service.registry_changes import history
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import MAX_JSON_BODY, Context, Route

ADMIN = frozenset({"admin"})


async def get_history(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}/history``: every registry change (who, when, diff)."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    return json_response(await history(context.app[ENGINE_KEY], community_id))


async def _file_body(context: Context) -> tuple[str, bytes]:
    """The uploaded file: the body itself, or the multipart part ``file``."""
    request = context.request
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise ApiError(413, f"a GSE figures file may be at most {MAX_JSON_BODY} bytes")
    name = request.query.get("filename", "gse.csv")
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part: Any = await reader.next()
            if part is None:
                raise ApiError(422, "the multipart body has no part named file")
            if part.name == "file":
                data = bytes(await part.read(decode=True))
                return part.filename or name, data
    return name, await request.read()


async def post_gse(context: Context) -> web.StreamResponse:
    """``POST /communities/{community}/gse``: record the GSE's figures (FORMATS.md)."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    name, data = await _file_body(context)
    if len(data) > MAX_JSON_BODY:
        raise ApiError(413, f"a GSE figures file may be at most {MAX_JSON_BODY} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(422, f"{name} is not UTF-8 text") from err
    try:
        answer = await import_gse_figures(context.app[ENGINE_KEY], community_id, text, name)
    except InvalidInput as err:
        raise ApiError(
            422,
            "the GSE figures file has errors: nothing was stored",
            errors=[{"message": str(problem)} for problem in err.problems],
        ) from err
    return json_response(answer)


async def get_reconciliation(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}/reconciliation?period=``: ours against the GSE's."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    period = context.request.query.get("period")
    if not period:
        raise ApiError(
            422,
            "period is required (YYYY or YYYY-MM)",
            errors=[{"field": "period", "message": "is required"}],
        )
    try:
        answer = await reconciliation(context.app[ENGINE_KEY], community_id, period)
    except GseError as err:
        raise ApiError(err.status, str(err)) from err
    return json_response(answer)


ROUTES: list[Route] = [
    Route(
        "GET",
        "/communities/{community}/history",
        get_history,
        "Every change of the community's registry: who, when, from which day, the diff",
        ADMIN,
        tag="registry",
    ),
    Route(
        "POST",
        "/communities/{community}/gse",
        post_gse,
        "Record what the GSE announced or paid (CSV of FORMATS.md, body or multipart file)",
        ADMIN,
        body={"type": "string", "format": "binary"},
        body_kind="file",
        query={"filename": {"type": "string"}},
        tag="gse",
    ),
    Route(
        "GET",
        "/communities/{community}/reconciliation",
        get_reconciliation,
        "Our figures against the GSE's: acconti per month, the conguaglio, the balance due",
        ADMIN,
        query={"period": {"type": "string", "pattern": r"^[0-9]{4}(-[0-9]{2})?$"}},
        tag="gse",
    ),
]
