"""``GET /metrics``: the backend's figures in the Prometheus text format.

Behind the reverse proxy every request comes from 127.0.0.1, so the address protects
nothing: the answer needs ``Authorization: Bearer`` with an admin token of every community or
the token in ``CER_METRICS_TOKEN`` (a token for the scraper only, compared in constant time).

- ``cer_http_requests_total{method,route,status}`` and ``cer_http_request_duration_seconds``:
  counted by a middleware; ``route`` is the route's pattern, never the raw path.
- ``cer_readings_received_total{outcome}``: hourly readings of ``POST /api/v1/readings``
  (accepted, duplicate, replaced, rejected); ``rate()`` of it is the ingest rate.
- ``cer_readings_stored{source}``: readings in the database, per source (dso, ha, manual,
  estimate).
- ``cer_site_last_upload_age_seconds{community,pod}``: seconds since each POD's newest upload
  from Home Assistant (imports of the distributor's data do not count).
- ``cer_alerts_open{community,kind}``: alerts not resolved.
- ``cer_db_pool_*``: the connection pool; ``cer_database_up``: 1 when the queries answered.

The database figures are read at most every ``DATABASE_REFRESH`` seconds, whatever the
scrape interval.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .. import __version__
from ..models import Alert, Reading, as_utc, table
from .keys import ENGINE_KEY
from .problems import ApiError
from .routing import API_PREFIX, TOKENS_KEY

_LOGGER = logging.getLogger(__name__)

METRICS_PATH: Final = "/metrics"
#: the scraper's own token (any admin token of every community works too)
TOKEN_VARIABLE: Final = "CER_METRICS_TOKEN"
#: seconds between two reads of the database figures
DATABASE_REFRESH: Final = 30.0
INGEST_ROUTE: Final = ("POST", API_PREFIX + "/readings")
#: the source of the readings a building's Home Assistant uploads
UPLOAD_SOURCE: Final = "ha"
#: what the answer of ``POST /readings`` counts, by outcome label
INGEST_OUTCOMES: Final = {
    "accepted": "accepted",
    "duplicates": "duplicate",
    "replaced": "replaced",
}


@dataclass(slots=True)
class DatabaseFigures:
    """What the last read of the database found."""

    up: bool = False
    read_at: float = 0.0
    readings_by_source: dict[str, int] = field(default_factory=dict)
    last_upload: dict[tuple[str, str], datetime] = field(default_factory=dict)
    open_alerts: dict[tuple[str, str], int] = field(default_factory=dict)


def _read_figures(connection: Connection) -> DatabaseFigures:
    """One read of the figures (last upload: readings sent by Home Assistant, source ``ha``)."""
    readings = table(Reading)
    figures = DatabaseFigures(up=True, read_at=time.monotonic())
    rows = connection.execute(
        select(readings.c.source, func.count()).group_by(readings.c.source)
    ).all()
    figures.readings_by_source = {str(source): int(count) for source, count in rows}
    for community, pod, newest in connection.execute(
        select(readings.c.community_id, readings.c.pod, func.max(readings.c.received_at))
        .where(readings.c.source == UPLOAD_SOURCE)
        .group_by(readings.c.community_id, readings.c.pod)
    ):
        if newest is not None:
            figures.last_upload[(community, pod)] = as_utc(newest)
    alerts = table(Alert)
    for community, kind, count in connection.execute(
        select(alerts.c.community_id, alerts.c.kind, func.count())
        .where(alerts.c.resolved_at.is_(None))
        .group_by(alerts.c.community_id, alerts.c.kind)
    ):
        figures.open_alerts[(community, kind)] = int(count)
    return figures


class DatabaseCollector(Collector):
    """Gauges from the last database figures and the engine's pool."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        """The gauges of one scrape."""
        figures = self._metrics.figures
        now = datetime.now(UTC)
        up = GaugeMetricFamily("cer_database_up", "1 when the database answered the last read")
        up.add_metric([], 1.0 if figures.up else 0.0)
        yield up
        info = GaugeMetricFamily("cer_build_info", "Version of cer-backend", labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info
        stored = GaugeMetricFamily(
            "cer_readings_stored", "Hourly readings in the database", labels=["source"]
        )
        for source, count in sorted(figures.readings_by_source.items()):
            stored.add_metric([source], float(count))
        yield stored
        age = GaugeMetricFamily(
            "cer_site_last_upload_age_seconds",
            "Seconds since the newest reading of each POD was received",
            labels=["community", "pod"],
        )
        for (community, pod), newest in sorted(figures.last_upload.items()):
            age.add_metric([community, pod], max(0.0, (now - newest).total_seconds()))
        yield age
        alerts = GaugeMetricFamily(
            "cer_alerts_open", "Alerts not resolved", labels=["community", "kind"]
        )
        for (community, kind), count in sorted(figures.open_alerts.items()):
            alerts.add_metric([community, kind], float(count))
        yield alerts
        yield from self._pool()

    def _pool(self) -> Iterator[Metric]:
        pool: Any = self._metrics.engine.sync_engine.pool
        for name, help_text, method in (
            ("cer_db_pool_size", "Connections the pool keeps", "size"),
            ("cer_db_pool_checked_out", "Connections in use", "checkedout"),
            ("cer_db_pool_checked_in", "Idle connections in the pool", "checkedin"),
            ("cer_db_pool_overflow", "Connections beyond the pool size", "overflow"),
        ):
            reader = getattr(pool, method, None)
            if callable(reader):
                gauge = GaugeMetricFamily(name, help_text)
                gauge.add_metric([], float(reader()))
                yield gauge


class Metrics:
    """The registry of one application, its counters and the database figures."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cer_http_requests",
            "HTTP requests answered, by route pattern and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "cer_http_request_duration_seconds",
            "Time to answer a request, by route pattern",
            ["method", "route"],
            registry=self.registry,
        )
        self.readings = Counter(
            "cer_readings_received",
            "Hourly readings received by POST /api/v1/readings, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in (*INGEST_OUTCOMES.values(), "rejected"):
            self.readings.labels(outcome)
        self.figures = DatabaseFigures()
        self.registry.register(DatabaseCollector(self))

    async def refresh(self) -> None:
        """Read the database figures when the last read is older than ``DATABASE_REFRESH``."""
        if self.figures.up and time.monotonic() - self.figures.read_at < DATABASE_REFRESH:
            return
        try:
            async with self.engine.connect() as connection:
                self.figures = await connection.run_sync(_read_figures)
        except Exception as err:  # the scrape still answers, with cer_database_up 0
            _LOGGER.warning("Metrics: the database figures could not be read: %s", err)
            self.figures = DatabaseFigures(up=False, read_at=time.monotonic())

    def count_ingest(self, body: bytes) -> None:
        """Add the counts of an answer of ``POST /readings``."""
        try:
            answer = json.loads(body)
        except ValueError:
            return
        if not isinstance(answer, dict):
            return
        for key, outcome in INGEST_OUTCOMES.items():
            value = answer.get(key)
            if isinstance(value, int) and value > 0:
                self.readings.labels(outcome).inc(value)
        rejected = answer.get("rejected")
        if isinstance(rejected, list) and rejected:
            self.readings.labels("rejected").inc(len(rejected))


METRICS_KEY: Final = web.AppKey("metrics", Metrics)


def _route_of(request: web.Request) -> str:
    """The route's pattern (``/api/v1/settlements/{run}``), or ``unmatched``."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count each request by route and status (outermost: sees the final status)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as err:
        status = err.status
        raise
    finally:
        metrics = request.app[METRICS_KEY]
        route = _route_of(request)
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.duration.labels(request.method, route).observe(time.perf_counter() - started)
    if (
        (request.method, route) == INGEST_ROUTE
        and status == 200
        and isinstance(response, web.Response)
        and isinstance(response.body, bytes)
    ):
        metrics.count_ingest(response.body)
    return response


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


async def metrics_handler(request: web.Request) -> web.StreamResponse:
    """``GET /metrics``: an admin token of every community, or ``CER_METRICS_TOKEN``."""
    token = _bearer(request)
    configured = os.environ.get(TOKEN_VARIABLE, "")
    if not (configured and hmac.compare_digest(token.encode(), configured.encode())):
        principal = await request.app[TOKENS_KEY].authenticate(token)
        if principal is None:
            raise ApiError(
                401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
            )
        if not principal.is_global_admin:
            raise ApiError(
                403, f"/metrics needs an admin token of every community or ${TOKEN_VARIABLE}"
            )
    metrics = request.app[METRICS_KEY]
    await metrics.refresh()
    return web.Response(
        body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def install_metrics(app: web.Application) -> None:
    """Add the counting middleware (outermost) and ``GET /metrics`` to an application."""
    app[METRICS_KEY] = Metrics(app[ENGINE_KEY])
    app.middlewares.insert(0, metrics_middleware)
    app.router.add_get(METRICS_PATH, metrics_handler)
