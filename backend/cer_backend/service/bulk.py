"""Bulk loading of an engine's :class:`HourlyEnergy` into the readings table (demo, imports)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ..models import Reading, as_utc, table, utcnow

BATCH = 20_000


async def store_energy(engine: AsyncEngine, community_id: str, energy: Any) -> int:
    """Store every present hour of ``energy`` (existing hours are kept); returns rows written."""
    if engine.dialect.name == "postgresql":
        return await _copy_energy(engine, community_id, energy)
    insert = sqlite.insert
    period = energy.period
    now = utcnow()
    starts = [as_utc(period.hour_start(i)) for i in range(period.hours)]
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
        index_elements=["community_id", "pod", "hour_start", "source"]
    )
    await connection.execute(statement, batch)
    count = len(batch)
    batch.clear()
    return count


async def _copy_energy(engine: AsyncEngine, community_id: str, energy: Any) -> int:
    """PostgreSQL: COPY into a temporary table, then insert what is not stored yet."""
    period = energy.period
    now = utcnow()
    starts = [as_utc(period.hour_start(i)) for i in range(period.hours)]
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.transaction():
            cursor = driver.cursor()
            await cursor.execute(
                "CREATE TEMPORARY TABLE bulk_readings (pod text, hour_start timestamptz,"
                " injected_wh bigint, withdrawn_wh bigint) ON COMMIT DROP"
            )
            async with cursor.copy(
                "COPY bulk_readings (pod, hour_start, injected_wh, withdrawn_wh) FROM STDIN"
            ) as copy:
                for row, pod in enumerate(energy.pods):
                    for hour in np.flatnonzero(energy.present[row]):
                        await copy.write_row(
                            (
                                pod,
                                starts[int(hour)],
                                int(energy.injected[row, hour]),
                                int(energy.withdrawn[row, hour]),
                            )
                        )
            await cursor.execute(
                "INSERT INTO readings (community_id, pod, hour_start, injected_wh, withdrawn_wh,"
                " quality, received_at)"
                " SELECT %s, pod, hour_start, injected_wh, withdrawn_wh, 'measured', %s"
                " FROM bulk_readings"
                " ON CONFLICT (community_id, pod, hour_start, source) DO NOTHING",
                (community_id, now),
            )
            written = int(cursor.rowcount)
            # the packs of these months (settlement runs) must be rebuilt
            await cursor.execute(
                "INSERT INTO reading_dirty (community_id, pod, month_start, marked_at)"
                " SELECT DISTINCT %s, pod,"
                " date_trunc('month', hour_start AT TIME ZONE %s) AT TIME ZONE %s, %s"
                " FROM bulk_readings ON CONFLICT (community_id, pod, month_start) DO UPDATE"
                " SET version = reading_dirty.version + 1, marked_at = EXCLUDED.marked_at",
                (community_id, period.timezone, period.timezone, now),
            )
    return written
