"""Estimates for live figures: the TIP of the current hour, by the engine's tariff rule."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.tariff import tip_eur_mwh
from ..models import Price
from .registry import RegistryError, check_community_file, community_document

CACHE_SECONDS = 300.0
_cache: dict[tuple[int, str], tuple[float, Any]] = {}


async def _community(engine: AsyncEngine, community_id: str) -> Any:
    key = (id(engine), community_id)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    async with engine.connect() as connection:
        document = await community_document(connection, community_id, datetime.now(UTC).date())
    try:
        community = check_community_file(document)
    except RegistryError:
        community = None
    _cache[key] = (now + CACHE_SECONDS, community)
    return community


async def tip_estimate_now(engine: AsyncEngine, community_id: str) -> float | None:
    """The TIP (€/MWh) of the current hour, weighted by plant power; None without a price.

    Each plant's TIP comes from :func:`cer_backend.domain.tariff.tip_eur_mwh` with the
    zonal price of the current hour of the community's market zone.
    """
    community = await _community(engine, community_id)
    if community is None or not community.plants:
        return None
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    async with engine.connect() as connection:
        price = await connection.scalar(
            select(Price.eur_mwh).where(
                Price.community_id == community_id,
                Price.zone == community.market_zone,
                Price.hour_start == hour,
            )
        )
    if price is None:
        return None
    total_kw = sum((plant.power_kw for plant in community.plants), Decimal(0))
    if not total_kw:
        return None
    weighted = sum(
        (
            tip_eur_mwh(
                plant.power_kw,
                Decimal(price),
                community.area,
                plant.source,
                plant.capital_grant_pct,
            )
            * Fraction(plant.power_kw)
            for plant in community.plants
        ),
        Fraction(0),
    )
    return round(float(weighted / Fraction(total_kw)), 2)
