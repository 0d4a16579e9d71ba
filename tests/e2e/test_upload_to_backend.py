"""The integration's backend client and upload pipeline against the real backend process."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.accounting import DeviceSample
from custom_components.cer_community.api import CerApiAuthError, CerApiClient
from custom_components.cer_community.const import DOMAIN, DeviceRole
from custom_components.cer_community.modbus.quantities import Quantity
from custom_components.cer_community.uploader import SiteUploader

from .conftest import OTHER_POD, SITE_POD, Backend


def _last_closed_hour() -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def _reading(hour: datetime, injected: int, withdrawn: int) -> dict[str, object]:
    return {
        "hour_start": hour.isoformat(),
        "injected_wh": injected,
        "withdrawn_wh": withdrawn,
        "quality": "measured",
        "samples": 360,
    }


def _stored(backend: Backend) -> dict[datetime, tuple[int, int, str]]:
    with sqlite3.connect(backend.database) as db:
        rows = db.execute(
            "SELECT hour_start, injected_wh, withdrawn_wh, quality FROM readings WHERE pod = ?",
            (SITE_POD,),
        ).fetchall()
    stored = {}
    for hour_start, injected, withdrawn, quality in rows:
        hour = datetime.fromisoformat(str(hour_start))
        stored[hour.replace(tzinfo=hour.tzinfo or UTC)] = (injected, withdrawn, quality)
    return stored


async def test_client_speaks_the_contract_of_the_real_backend(
    hass: HomeAssistant, backend: Backend
) -> None:
    await hass.async_add_executor_job(backend.start)
    site = CerApiClient.from_hass(hass, backend.url, backend.site_token)
    hour = _last_closed_hour()

    first = await site.post_readings(SITE_POD, [_reading(hour, 0, 2500)])
    assert (first.accepted, first.duplicates, first.replaced, first.rejected) == (1, 0, 0, [])

    again = await site.post_readings(SITE_POD, [_reading(hour, 0, 2500)])
    assert (again.accepted, again.duplicates, again.replaced) == (0, 1, 0)

    changed = await site.post_readings(
        SITE_POD, [_reading(hour, 0, 2600), _reading(hour + timedelta(hours=3), 0, 1)]
    )
    assert (changed.accepted, changed.duplicates, changed.replaced) == (0, 0, 1)
    assert [r.index for r in changed.rejected] == [1], "an hour that has not ended is refused"
    assert _stored(backend)[hour] == (0, 2600, "measured")

    with pytest.raises(CerApiAuthError):
        await site.post_readings(OTHER_POD, [_reading(hour, 0, 1)])

    viewer = CerApiClient.from_hass(hass, backend.url, backend.viewer_token)
    live = await viewer.get_community_live()
    assert live.sites_total >= 1
    with pytest.raises(CerApiAuthError):
        await viewer.post_readings(SITE_POD, [_reading(hour, 0, 1)])

    bad = CerApiClient.from_hass(hass, backend.url, "not-a-token")
    with pytest.raises(CerApiAuthError):
        await bad.get_community_live()


def _grid_samples(start: datetime, hours: int) -> Iterator[tuple[datetime, DeviceSample]]:
    """A grid meter polled every 5 minutes: 2.4 kWh withdrawn and 0.6 kWh injected an hour."""
    imported, exported = 1_000_000, 500_000
    for step in range(hours * 12 + 1):
        ts = start + timedelta(minutes=5 * step)
        yield (
            ts,
            DeviceSample(
                device_id="grid",
                role=DeviceRole.GRID,
                values={
                    Quantity.ENERGY_IMPORTED: imported,
                    Quantity.ENERGY_EXPORTED: exported,
                    Quantity.ACTIVE_POWER: 1800,
                },
            ),
        )
        imported += 200
        exported += 50


async def test_hours_closed_while_the_backend_is_down_arrive_exactly_once(
    hass: HomeAssistant, backend: Backend
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={"pod": SITE_POD}, unique_id=SITE_POD)
    entry.add_to_hass(hass)
    api = CerApiClient.from_hass(hass, backend.url, backend.site_token, timeout=5)
    uploader = await SiteUploader.async_create(
        hass, entry, pod=SITE_POD, api=api, live_interval=None
    )
    start = _last_closed_hour() - timedelta(hours=4)
    closed = []
    for ts, sample in _grid_samples(start, 5):
        if ts <= datetime.now(UTC):
            closed += uploader.record(ts, [sample])
    assert len(closed) >= 3, closed

    # backend down: the upload fails, every hour stays in the buffer
    with pytest.raises(HomeAssistantError):
        await uploader.upload_now()
    assert uploader.status.pending_hours == len(closed)
    assert _stored_or_empty(backend) == {}

    await hass.async_add_executor_job(backend.start)
    sent = uploader.buffer.pending(744)
    await uploader.upload_now()
    status = uploader.status
    assert (status.pending_hours, status.rejected_hours, status.last_error) == (0, 0, None)
    stored = _stored(backend)
    assert stored == {
        r.hour_start.astimezone(UTC): (r.injected_wh, r.withdrawn_wh, r.quality) for r in closed
    }
    assert all(withdrawn == 2400 for _, withdrawn, _ in list(stored.values())[1:])

    # nothing is sent twice: a second upload has nothing to send and changes nothing
    await uploader.upload_now()
    assert _stored(backend) == stored

    # what the uploader sent, sent again (an answer lost on the way): all duplicates
    again = await api.post_readings(SITE_POD, sent)
    assert (again.accepted, again.duplicates, again.replaced, again.rejected) == (
        0,
        len(closed),
        0,
        [],
    )
    with sqlite3.connect(backend.database) as db:
        (audited,) = db.execute("SELECT count(*) FROM reading_audit").fetchone()
    assert audited == 0
    await uploader.async_stop()


def _stored_or_empty(backend: Backend) -> dict[datetime, tuple[int, int, str]]:
    with sqlite3.connect(backend.database) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return _stored(backend) if "readings" in tables else {}
