"""``POST /live``'s optional ``unavailable_devices``: accepted, bounded, kept with the live
figure together with the time they became unavailable, cleared when a snapshot has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.models import LiveSnapshot, as_utc

from .conftest import POD_FAMILY, Api

pytestmark = pytest.mark.database


def snapshot(ts: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "pod": POD_FAMILY,
        "ts": ts.isoformat(),
        "injection_w": 0,
        "withdrawal_w": 500.0,
        "hour_injected_wh": 0,
        "hour_withdrawn_wh": 100,
        **extra,
    }


async def stored(api: Api) -> Any:
    async with api.server.app[ENGINE_KEY].connect() as connection:
        return (
            await connection.execute(
                select(
                    LiveSnapshot.ts,
                    LiveSnapshot.unavailable_devices,
                    LiveSnapshot.unavailable_since,
                ).where(LiveSnapshot.pod == POD_FAMILY)
            )
        ).one()


async def test_unavailable_devices_are_kept_with_the_time_they_went_missing(api: Api) -> None:
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    body = snapshot(first, unavailable_devices=["Inverter tetto", "Contatore", "Inverter tetto"])
    status, live, _ = await api.call("POST", "/live", "site_family", json=body)
    assert status == 200 and live["sites_total"] == 3
    row = await stored(api)
    assert row.unavailable_devices == ["Inverter tetto", "Contatore"]  # once each, in order
    assert as_utc(row.unavailable_since) == first
    # still unavailable a minute later: since when does not move
    later = first + timedelta(minutes=1)
    body = snapshot(later, unavailable_devices=["Contatore"])
    assert (await api.call("POST", "/live", "site_family", json=body))[0] == 200
    row = await stored(api)
    assert row.unavailable_devices == ["Contatore"]
    assert as_utc(row.ts) == later and as_utc(row.unavailable_since) == first
    # a snapshot without the field (an older integration, or every device back): cleared
    back = later + timedelta(minutes=1)
    assert (await api.call("POST", "/live", "site_family", json=snapshot(back)))[0] == 200
    row = await stored(api)
    assert row.unavailable_devices == [] and row.unavailable_since is None
    # and when they go missing again, the clock starts again
    again = back + timedelta(minutes=1)
    body = snapshot(again, unavailable_devices=["Contatore"])
    assert (await api.call("POST", "/live", "site_family", json=body))[0] == 200
    assert as_utc((await stored(api)).unavailable_since) == again


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([f"device {n}" for n in range(51)], "unavailable_devices"),
        (["x" * 101], "unavailable_devices/0"),
        ([""], "unavailable_devices/0"),
        (["bad\nname"], "unavailable_devices/0"),
        ("Inverter", "unavailable_devices"),
        ([3], "unavailable_devices/0"),
    ],
)
async def test_unavailable_devices_out_of_bounds_are_refused_and_nothing_kept(
    api: Api, value: Any, field: str
) -> None:
    ts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    assert (await api.call("POST", "/live", "site_family", json=snapshot(ts)))[0] == 200
    bad = snapshot(ts + timedelta(minutes=1), unavailable_devices=value)
    status, problem, _ = await api.call("POST", "/live", "site_family", json=bad)
    assert status == 422
    assert field in [error["field"] for error in problem["errors"]], problem
    row = await stored(api)
    assert as_utc(row.ts) == ts and not row.unavailable_devices
