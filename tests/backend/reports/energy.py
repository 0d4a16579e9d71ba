"""Readings of the report tests, stored as the backend stores every member's data: through the
metered-data import (layout ``cer``, source ``dso``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from cer_backend.files.layouts import builtin_layout
from cer_backend.service.metered import import_file

Row = tuple[str, datetime, int, int]


async def store_energy(engine: AsyncEngine, community_id: str, rows: Iterable[Row]) -> int:
    """Import ``(pod, hour_start, injected_wh, withdrawn_wh)`` rows; the number of new hours."""
    lines = ["pod,hour_start,injected_wh,withdrawn_wh"]
    lines += [f"{pod},{start.isoformat()},{inj},{wd}" for pod, start, inj, wd in rows]
    outcome = await import_file(
        engine, community_id, "\n".join(lines).encode(), "test.csv", builtin_layout("cer")
    )
    assert not outcome.errors, outcome.errors
    return outcome.new
