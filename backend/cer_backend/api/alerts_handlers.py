"""``GET /alerts`` and ``POST /alerts/{id}/ack``: the alerts the referent acts on."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ..service.alerts.scheduler import AlertScheduler
from ..service.alerts.store import AlertError, acknowledge, list_alerts
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import API_PREFIX, Context, Route

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "viewer"})
STATUSES = ("open", "all")

#: the application's alert scheduler (``serve`` only)
ALERTS_KEY: Final = web.AppKey("alerts", AlertScheduler)

ALERT: Final = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "community": {"type": "string"},
        "kind": {"type": "string"},
        "cause": {"type": ["string", "null"]},
        "pod": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"]},
        "severity": {"type": "string", "enum": ["info", "warning"]},
        "message": {"type": "string"},
        "details": {"type": "object"},
        "created_at": {"type": "string", "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "acknowledged": {"type": "boolean"},
        "acknowledged_at": {"type": ["string", "null"], "format": "date-time"},
        "ack_note": {"type": ["string", "null"]},
    },
}
ACK_REQUEST: Final = {
    "type": "object",
    "required": ["note"],
    "additionalProperties": False,
    "properties": {"note": {"type": "string", "minLength": 1, "maxLength": 2000}},
}


async def get_alerts(context: Context) -> web.StreamResponse:
    """``GET /alerts?status=open|all``: the community's alerts, newest first."""
    status = context.request.query.get("status", "open")
    if status not in STATUSES:
        raise ApiError(
            422,
            "status must be open or all",
            errors=[{"field": "status", "message": f"must be one of: {', '.join(STATUSES)}"}],
        )
    community_id = await scoped_community(context, context.request.query.get("community"))
    return json_response(await list_alerts(context.app[ENGINE_KEY], community_id, status))


async def post_ack(context: Context) -> web.StreamResponse:
    """``POST /alerts/{id}/ack {"note"}``: acknowledged, it stays open until its cause is gone."""
    raw = context.request.match_info["id"]
    if not raw.isdigit():
        raise ApiError(404, f"no alert {raw!r}")
    note = str(context.body["note"]).strip()
    if not note:
        raise ApiError(
            422, "the note is empty", errors=[{"field": "note", "message": "must not be blank"}]
        )
    principal = context.require_principal()
    try:
        answer = await acknowledge(
            context.app[ENGINE_KEY], int(raw), note, principal.token_id, principal.community_id
        )
    except AlertError as err:
        raise ApiError(err.status, str(err)) from err
    return json_response(answer)


#: imports after which ``serve`` evaluates the alerts of the community soon
IMPORT_PATHS: Final = ("/readings", "/readings/import", "/gse", "/settlements")


async def poke_after_import(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a successful import asks the scheduler for an evaluation."""
    scheduler = request.app.get(ALERTS_KEY)
    if scheduler is None or request.method != "POST" or not 200 <= response.status < 300:
        return
    path = request.path.removeprefix(API_PREFIX)
    if not path.endswith(IMPORT_PATHS):
        return
    from .routing import PRINCIPAL_KEY  # noqa: PLC0415

    principal = request.get(PRINCIPAL_KEY)
    community_id = principal.community_id if principal is not None else None
    if community_id is None:
        community_id = request.match_info.get("community") or request.query.get("community")
    if community_id:
        scheduler.poke(community_id)


ROUTES: list[Route] = [
    Route(
        "GET",
        "/alerts",
        get_alerts,
        "Alerts of the community: open ones, or all with their history",
        READERS,
        response={"type": "array", "items": ALERT},
        query={
            "status": {"type": "string", "enum": list(STATUSES), "default": "open"},
            "community": {"type": "string", "description": "for an admin of all"},
        },
        tag="community",
    ),
    Route(
        "POST",
        "/alerts/{id}/ack",
        post_ack,
        "Acknowledge an open alert with a note (it stays open until its cause is gone)",
        ADMIN,
        ACK_REQUEST,
        response=ALERT,
        tag="community",
    ),
]
