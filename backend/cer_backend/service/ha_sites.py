"""The PODs of a community that upload from a Home Assistant, for the live figures.

Which PODs count is :func:`cer_backend.domain.ha_sites.uploads_from_home_assistant` (the
``site_silent`` alert's own notion): an ``ha`` hour or a live figure in the community's
``site_silent.active_days``. The last ``ha`` hour of each POD and the threshold are read from
the database at most once a minute per community (``POST /live`` comes every minute from
every site); the live figures are the live store's, current at every call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.alert_thresholds import merged_thresholds
from ..domain.ha_sites import uploads_from_home_assistant
from ..models import Community, Reading, as_utc, utcnow

#: seconds a community's last Home Assistant hours are kept before they are read again
CACHE_SECONDS = 60.0
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class _LastHours:
    active_days: int
    last_ha_hour_end: dict[str, datetime]


class HomeAssistantSites:
    """Which PODs of a community upload from a Home Assistant, now."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._cache: dict[str, tuple[float, _LastHours]] = {}

    def forget(self, community_id: str | None = None) -> None:
        """Read again at the next call (one community, or all)."""
        if community_id is None:
            self._cache.clear()
        else:
            self._cache.pop(community_id, None)

    async def pods(
        self, community_id: str, last_live: Mapping[str, datetime], now: datetime | None = None
    ) -> set[str]:
        """The PODs that sent an ``ha`` hour or a live figure (``last_live``: the time of
        each POD's last one) in the community's ``active_days`` before ``now``."""
        now = now or utcnow()
        known = await self._last_hours(community_id, now)
        candidates = set(known.last_ha_hour_end) | set(last_live)
        return {
            pod
            for pod in candidates
            if uploads_from_home_assistant(
                known.last_ha_hour_end.get(pod), last_live.get(pod), now, known.active_days
            )
        }

    async def _last_hours(self, community_id: str, now: datetime) -> _LastHours:
        clock = time.monotonic()
        cached = self._cache.get(community_id)
        if cached is not None and cached[0] > clock:
            return cached[1]
        async with self._engine.connect() as connection:
            settings = await connection.scalar(
                select(Community.settings).where(Community.community_id == community_id)
            )
            thresholds, _ = merged_thresholds((settings or {}).get("alerts") or {})
            active_days = int(thresholds["site_silent"]["active_days"])
            since = now - timedelta(days=active_days) - HOUR
            rows = (
                await connection.execute(
                    select(Reading.pod, func.max(Reading.hour_start))
                    .where(
                        Reading.community_id == community_id,
                        Reading.hour_start >= since,
                        Reading.hour_start <= now,
                        Reading.source == "ha",
                    )
                    .group_by(Reading.pod)
                )
            ).all()
        known = _LastHours(active_days, {pod: as_utc(last) + HOUR for pod, last in rows})
        self._cache[community_id] = (clock + CACHE_SECONDS, known)
        return known
