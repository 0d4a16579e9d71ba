"""``POST /communities/{community}/members/{member}/link``: a member's personal link."""

from __future__ import annotations

from aiohttp import web

from ..service.web_access import LinkError, create_member_link, link_url
from .handlers import json_response, scoped_community
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import Context, Route

ADMIN = frozenset({"admin"})

LINK_ANSWER = {
    "type": "object",
    "properties": {"url": {"type": "string", "description": "works once, for 7 days"}},
    "required": ["url"],
}


async def post_link(context: Context) -> web.StreamResponse:
    """A new personal link to the member's page, at the address the request used."""
    request = context.request
    community_id = await scoped_community(context, request.match_info["community"])
    try:
        secret = await create_member_link(
            context.app[ENGINE_KEY], community_id, request.match_info["member"]
        )
    except LinkError as err:
        raise ApiError(404, str(err)) from err
    scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
    return json_response({"url": link_url(f"{scheme}://{request.host}", secret)}, 201)


ROUTES: list[Route] = [
    Route(
        "POST",
        "/communities/{community}/members/{member}/link",
        post_link,
        "A member's personal link to their page (works once, for 7 days)",
        ADMIN,
        response=LINK_ANSWER,
        tag="registry",
        statuses=(201,),
    ),
]
