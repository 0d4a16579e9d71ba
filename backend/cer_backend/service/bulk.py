"""Bulk loading of an engine's :class:`HourlyEnergy` into the readings table (demo, imports)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ..models import Reading, table, utcnow

BATCH = 20_000


async def store_energy(engine: AsyncEngine, community_id: str, energy: Any) -> int:
    """Store every present hour of ``energy`` (existing hours are kept); returns rows written."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    period = energy.period
    now = utcnow()
    starts = [period.hour_start(i) for i in range(period.hours)]
    written = 0
    batch: list[dict[str, Any]] = []
    async with engine.begin() as connection:
        for row, pod in enumerate(energy.pods):
            for hour in np.flatnonzero(energy.present[row]):
                batch.append(
                    {
                        "community_id": community_id,
                        "pod": pod,
                        "hour_start": starts[int(hour)],
                        "injected_wh": int(energy.injected[row, hour]),
                        "withdrawn_wh": int(energy.withdrawn[row, hour]),
                        "quality": "measured",
                        "received_at": now,
                    }
                )
                if len(batch) >= BATCH:
                    written += await _flush(connection, insert, batch)
            written += await _flush(connection, insert, batch)
    return written


async def _flush(connection: Any, insert: Any, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    statement = insert(table(Reading)).on_conflict_do_nothing(
        index_elements=["community_id", "pod", "hour_start"]
    )
    await connection.execute(statement, batch)
    count = len(batch)
    batch.clear()
    return count
