"""The server-rendered pages: the referent's console, each member's page, the public page.

``setup(app)`` adds their routes and the stylesheet; the web layer calls the services, as
the API does, and nothing below it calls the web layer.
"""

from __future__ import annotations

from aiohttp import web

from . import console, member, public, registry_forms
from .pages import HERE


async def _root(request: web.Request) -> web.StreamResponse:
    """``/``: the console's sign-in (members use their link; the public page has its own)."""
    return web.Response(status=303, headers={"Location": "/console"})


def setup(app: web.Application) -> None:
    """Register the pages and ``/static`` on the application."""
    app.router.add_routes(registry_forms.routes())
    app.router.add_routes(console.routes())
    app.router.add_routes(member.routes())
    app.router.add_routes(public.routes())
    app.router.add_get("/", _root)
    app.router.add_static("/static", HERE / "static", append_version=True)
