"""Handlers of the operating cycle: registry history, GSE figures and reconciliation."""

from __future__ import annotations

from aiohttp import web

from ..service.registry_changes import history
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .routing import Context, Route

ADMIN = frozenset({"admin"})


async def get_history(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}/history``: every registry change (who, when, diff)."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    return json_response(await history(context.app[ENGINE_KEY], community_id))


ROUTES: list[Route] = [
    Route(
        "GET",
        "/communities/{community}/history",
        get_history,
        "Every change of the community's registry: who, when, from which day, the diff",
        ADMIN,
        tag="registry",
    ),
]
