"""Which stored runs a member's page and the public page show (the figures are the runs')."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ..service.settlements import list_runs


async def shown_runs(engine: AsyncEngine, community_id: str) -> list[dict[str, Any]]:
    """Per period, the current final run, else the newest draft; newest period first.

    A draft is provisional (the page says so); a superseded final is never shown. The runs
    come without their result (``list_runs``): each page loads what it shows.
    """
    chosen: dict[str, dict[str, Any]] = {}
    for run in await list_runs(engine, community_id):  # newest first
        period = run["period"]
        if run["status"] == "final" and not run["current"]:
            continue
        held = chosen.get(period)
        if held is None or (run["current"] and not held["current"]):
            chosen[period] = run
    return sorted(chosen.values(), key=lambda r: r["period"], reverse=True)


def recent_periods(today: date) -> list[str]:
    """The current month up to yesterday (a range of days, when a day has passed) and the
    last month: periods of ``coverage`` that expect no future hour."""
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    periods = []
    if today > first:
        periods.append(f"{first.isoformat()}..{(today - timedelta(days=1)).isoformat()}")
    periods.append(f"{last_month:%Y-%m}")
    return periods
