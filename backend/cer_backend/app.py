"""The aiohttp application of the backend."""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from . import __version__
from .database import backend_name, create_engine, ping

_LOGGER = logging.getLogger(__name__)

ENGINE_KEY: Final = web.AppKey("engine", AsyncEngine)
API_PREFIX: Final = "/api/v1"


async def health(request: web.Request) -> web.Response:
    """``GET /api/v1/health``: public; says whether the database answers."""
    engine = request.app[ENGINE_KEY]
    try:
        await ping(engine)
    except Exception as err:  # any database failure makes the service unhealthy
        _LOGGER.warning("Health check: database unreachable: %s", err)
        return web.json_response(
            {"status": "unavailable", "version": __version__, "database": backend_name(engine)},
            status=503,
        )
    return web.json_response(
        {"status": "ok", "version": __version__, "database": backend_name(engine)}
    )


def create_app(database_url: str) -> web.Application:
    """Build the application for a database URL; the engine is disposed on cleanup."""
    app = web.Application()
    app[ENGINE_KEY] = create_engine(database_url)

    async def _dispose(app: web.Application) -> None:
        await app[ENGINE_KEY].dispose()

    app.on_cleanup.append(_dispose)
    app.router.add_get(f"{API_PREFIX}/health", health)
    return app
