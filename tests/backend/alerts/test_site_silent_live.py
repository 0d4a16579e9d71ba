"""``site_silent`` and the live "sites expected" share one notion of a Home Assistant site
(``domain.ha_sites``, issue #14 item 13): an ``ha`` hour *or a live figure* in the last
``active_days``. A site that sends only live figures (its hours failing) goes silent too."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from cer_backend.database import create_engine
from cer_backend.domain.ha_sites import uploads_from_home_assistant
from cer_backend.models import LiveSnapshot

from .builders import AT, HOME, build, check

pytestmark = pytest.mark.database


def _no_home_hours(
    pod: str, local: datetime, injected: int, withdrawn: int
) -> tuple[int, int] | None:
    return None if pod == HOME else (injected, withdrawn)


def _silent(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``site_silent`` alerts (a POD without hours also misses its month: not this test's)."""
    return [a for a in answer["alerts"] if a["kind"] == "site_silent"]


def _live(database_url: str, community_id: str, ts: datetime) -> None:
    async def store() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    insert(LiveSnapshot).values(
                        community_id=community_id,
                        pod=HOME,
                        ts=ts,
                        injection_w=0.0,
                        withdrawal_w=300.0,
                        hour_injected_wh=0,
                        hour_withdrawn_wh=150,
                        received_at=ts,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(store())


def test_a_site_with_live_figures_only_goes_silent(database_url: str) -> None:
    community_id = build(database_url, _no_home_hours)
    assert _silent(check(database_url, community_id)) == []  # never uploaded: not a site
    _live(database_url, community_id, (AT - timedelta(hours=5)).astimezone(UTC))
    silent = _silent(check(database_url, community_id))
    assert [a["cause"] for a in silent] == [f"site_silent:{HOME}"]
    assert silent[0]["details"]["silent_hours"] == 5


def test_a_live_figure_older_than_active_days_is_no_site(database_url: str) -> None:
    community_id = build(database_url, _no_home_hours)
    _live(database_url, community_id, (AT - timedelta(days=20)).astimezone(UTC))
    assert _silent(check(database_url, community_id)) == []


def test_the_window_of_the_notion() -> None:
    at = datetime(2025, 6, 15, 10, 30, tzinfo=UTC)
    inside = at - timedelta(days=14) + timedelta(minutes=1)
    outside = at - timedelta(days=14)
    assert uploads_from_home_assistant(inside, None, at, 14)
    assert uploads_from_home_assistant(None, inside, at, 14)
    assert not uploads_from_home_assistant(outside, outside, at, 14)
    assert not uploads_from_home_assistant(None, None, at, 14)
