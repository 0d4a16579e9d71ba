"""``site_silent`` also fires when the POD's Home Assistant reports unavailable devices in its
live figures (``POST /live``'s ``unavailable_devices``), for at least ``unavailable_minutes``
(issue #15)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cer_backend.database import create_engine
from cer_backend.service.live import LiveStore, Snapshot
from cer_backend.service.registry import import_community

from .builders import AT, HOME, build, causes, check, community

pytestmark = pytest.mark.database


def report(database_url: str, *moments: tuple[datetime, tuple[str, ...]]) -> None:
    """Live figures of HOME at these moments, each naming its unavailable devices."""

    async def put() -> None:
        engine = create_engine(database_url)
        try:
            store = LiveStore(engine)
            for ts, devices in moments:
                utc = ts.astimezone(UTC)
                await store.put(
                    "cer-avvisi",
                    HOME,
                    Snapshot(utc, 0.0, 300.0, 0, 150, utc, unavailable_devices=devices),
                )
        finally:
            await engine.dispose()

    asyncio.run(put())


def test_devices_unavailable_for_an_hour_and_a_half_raise_site_silent(database_url: str) -> None:
    community_id = build(database_url)
    assert community_id == "cer-avvisi"
    minutes = range(90, 0, -1)
    report(database_url, *((AT - timedelta(minutes=m), ("Inverter tetto",)) for m in minutes))
    answer = check(database_url, community_id)
    assert causes(answer) == {f"site_silent:{HOME}"}
    (alert,) = answer["alerts"]
    assert "Inverter tetto" in alert["message"] and "non disponibili" in alert["message"]
    assert alert["details"]["devices"] == "Inverter tetto"


def test_devices_unavailable_for_less_than_the_threshold_raise_nothing(database_url: str) -> None:
    community_id = build(database_url)
    report(database_url, *((AT - timedelta(minutes=m), ("Contatore",)) for m in (40, 20, 1)))
    assert check(database_url, community_id)["alerts"] == []
    # the threshold is a community setting
    settings = community(alerts={"site_silent": {"unavailable_minutes": 30}})
    asyncio.run(reimport(database_url, settings))
    assert causes(check(database_url, community_id)) == {f"site_silent:{HOME}"}


async def reimport(database_url: str, data: dict[str, Any]) -> None:
    engine = create_engine(database_url)
    try:
        await import_community(engine, data)
    finally:
        await engine.dispose()


def test_devices_back_raise_nothing(database_url: str) -> None:
    community_id = build(database_url)
    report(
        database_url,
        (AT - timedelta(hours=2), ("Inverter tetto",)),
        (AT - timedelta(minutes=1), ()),
    )
    assert check(database_url, community_id)["alerts"] == []


def test_an_old_report_of_devices_counts_for_nothing(database_url: str) -> None:
    community_id = build(database_url)
    report(database_url, (AT - timedelta(hours=5), ("Inverter tetto",)))
    # 61 minutes after the report it is the latest live figure: the alert is in force then
    answer = check(database_url, community_id, AT - timedelta(hours=5) + timedelta(minutes=61))
    assert causes(answer) == {f"site_silent:{HOME}"}
    # at AT that figure is older than silent_hours, and the hours uploaded since show the
    # site alive: nothing
    assert check(database_url, community_id)["alerts"] == []
