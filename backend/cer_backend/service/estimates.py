"""Estimates for live figures (filled from the engine's rules when it provides them)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine


async def tip_estimate_now(engine: AsyncEngine, community_id: str) -> float | None:
    """The TIP (€/MWh) of the current hour for the community's plants, when it can be told."""
    return None
