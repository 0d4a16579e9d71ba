"""The aiohttp application of the backend."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from . import __version__
from .api.alerts_handlers import ALERTS_KEY, poke_after_import
from .api.alerts_handlers import ROUTES as ALERT_ROUTES
from .api.cycle_handlers import ROUTES as CYCLE_ROUTES
from .api.handlers import ROUTES as CORE_ROUTES
from .api.keys import COMMITTER_KEY, ENGINE_KEY, LIVE_KEY, REGISTRY_KEY
from .api.link_handlers import ROUTES as LINK_ROUTES
from .api.metrics import install_metrics
from .api.readings_handlers import ROUTES as READINGS_ROUTES
from .api.report_handlers import ROUTES as REPORT_ROUTES
from .api.routing import (
    API_PREFIX,
    MAX_FILE_BODY,
    TOKENS_KEY,
    Context,
    Route,
    add_routes,
    openapi_document,
    problem_middleware,
)
from .api.settlement_handlers import ROUTES as SETTLEMENT_ROUTES
from .database import backend_name, create_engine
from .migrate import upgrade
from .service.alerts.scheduler import AFTER_IMPORT_DELAY, AlertScheduler
from .service.availability import RETRY_AFTER_SECONDS, check_writable, describe
from .service.delivery_schedule import delivery_context
from .service.groupcommit import GroupCommitter
from .service.live import LiveStore
from .service.registry import RegistryCache
from .service.tokens import TokenStore
from .web import setup as setup_web

_LOGGER = logging.getLogger(__name__)

__all__ = ["API_PREFIX", "ENGINE_KEY", "all_routes", "create_app"]

HEALTH_RESPONSE: Final = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "version": {"type": "string"},
        "database": {"type": "string"},
    },
}


async def health(context: Context) -> web.StreamResponse:
    """``GET /api/v1/health``: public; says whether the database answers and takes writes."""
    engine = context.app[ENGINE_KEY]
    try:
        await check_writable(engine)
    except Exception as err:  # any database failure makes the service unhealthy
        _LOGGER.warning("Health check: database unavailable: %s", describe(err))
        return web.json_response(
            {"status": "unavailable", "version": __version__, "database": backend_name(engine)},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return web.json_response(
        {"status": "ok", "version": __version__, "database": backend_name(engine)}
    )


async def openapi(context: Context) -> web.StreamResponse:
    """``GET /api/v1/openapi.json``: public."""
    return web.json_response(openapi_document(all_routes()))


def all_routes() -> list[Route]:
    """Every route of API v1."""

    return [
        Route(
            "GET",
            "/health",
            health,
            "Service and database health",
            None,
            response=HEALTH_RESPONSE,
            tag="operations",
            statuses=(200, 503),
        ),
        Route("GET", "/openapi.json", openapi, "This document", None, tag="operations"),
        *CORE_ROUTES,
        *SETTLEMENT_ROUTES,
        *READINGS_ROUTES,
        *CYCLE_ROUTES,
        *LINK_ROUTES,
        *REPORT_ROUTES,
        *ALERT_ROUTES,
    ]


def create_app(
    database_url: str, *, migrate: bool = False, alerts_interval: float | None = None
) -> web.Application:
    """Build the application for a database URL; the engine is disposed on cleanup.

    With ``migrate``, the schema is brought to the newest revision at start-up. With
    ``alerts_interval`` (seconds; ``serve`` gives 15 minutes), the alert rules of every
    community are evaluated in a background task that lives as long as the application.
    """
    app = web.Application(middlewares=[problem_middleware], client_max_size=MAX_FILE_BODY)
    engine = create_engine(database_url)
    app[ENGINE_KEY] = engine
    app[TOKENS_KEY] = TokenStore(engine)
    app[REGISTRY_KEY] = RegistryCache(engine)
    app[LIVE_KEY] = LiveStore(engine)
    app[COMMITTER_KEY] = GroupCommitter(engine)

    async def _startup(app: web.Application) -> None:
        if migrate:
            before, after = await upgrade(engine)
            if before != after:
                _LOGGER.info("Database schema migrated from %s to %s", before, after)
        try:
            loaded = await app[LIVE_KEY].load()
        except Exception as err:  # no schema yet, or no database: health tells
            _LOGGER.warning("Live snapshots not loaded: %s", describe(err))
        else:
            _LOGGER.info("Loaded %d live snapshots", loaded)

    async def _dispose(app: web.Application) -> None:
        await app[COMMITTER_KEY].close()
        await app[ENGINE_KEY].dispose()

    app.on_startup.append(_startup)
    app.on_cleanup.append(_dispose)
    app.cleanup_ctx.append(delivery_context(lambda app: app[ENGINE_KEY]))
    if alerts_interval is not None:

        async def _alerts(app: web.Application) -> AsyncIterator[None]:
            scheduler = AlertScheduler(
                engine,
                interval=alerts_interval,
                after_import=min(AFTER_IMPORT_DELAY, alerts_interval),
            )
            app[ALERTS_KEY] = scheduler
            scheduler.start()
            yield
            await scheduler.stop()  # cancels an evaluation under way (it rolls back)

        app.cleanup_ctx.append(_alerts)
        app.on_response_prepare.append(poke_after_import)
    add_routes(app, all_routes())
    setup_web(app)  # the pages of issue #17 (web/): console, member page, public page
    install_metrics(app)
    return app
