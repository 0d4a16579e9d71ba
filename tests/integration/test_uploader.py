"""Hourly upload of a site against a real aiohttp server on 127.0.0.1 (the contract stub).

Time is moved with ``freezer`` and ``async_fire_time_changed``; the stub checks that an hour
has ended against the same frozen clock.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.cer_community.accounting import DeviceSample
from custom_components.cer_community.api import CerApiClient
from custom_components.cer_community.buffer import storage_key
from custom_components.cer_community.const import (
    CONF_BACKEND_URL,
    CONF_POD,
    CONF_TOKEN,
    DOMAIN,
    DeviceRole,
)
from custom_components.cer_community.modbus.quantities import Quantity
from custom_components.cer_community.uploader import SiteUploader

from .backend_stub import BackendStub, Token

POD = "IT001E00000001"
TOKEN = "site-token"
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
async def backend(socket_enabled: None) -> AsyncIterator[BackendStub]:
    stub = BackendStub({POD}, {TOKEN: Token("site", {POD})})
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture(autouse=True)
async def rome(hass: HomeAssistant) -> None:
    """Home Assistant configured for Italy (the time zone the hours are accounted in)."""
    await set_time_zone(hass, "Europe/Rome")


async def set_time_zone(hass: HomeAssistant, name: str) -> None:
    """Set the time zone on every supported release (the setter became async in 2024.6)."""
    setter = getattr(hass.config, "async_set_time_zone", None)
    if setter is not None:
        await setter(name)
    else:
        hass.config.set_time_zone(name)


def _entry(hass: HomeAssistant, backend: BackendStub, token: str = TOKEN) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Municipio",
        unique_id=POD,
        data={
            CONF_NAME: "Municipio",
            CONF_POD: POD,
            CONF_BACKEND_URL: backend.url,
            CONF_TOKEN: token,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def _uploader(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    *,
    api: bool = True,
    **kwargs: Any,
) -> SiteUploader:
    client = (
        CerApiClient.from_hass(hass, entry.data[CONF_BACKEND_URL], entry.data[CONF_TOKEN])
        if api
        else None
    )
    kwargs.setdefault("live_interval", None)
    return await SiteUploader.async_create(hass, entry, pod=POD, api=client, **kwargs)


class Meter:
    """A grid meter withdrawing a constant power, polled at chosen times."""

    def __init__(self, withdrawal_w: float = 600.0) -> None:
        self.withdrawal_w = withdrawal_w
        self.imported = 1_000.0
        self.exported = 5_000.0
        self.clock: datetime | None = None

    def sample(self, moment: datetime) -> list[DeviceSample]:
        if self.clock is not None:
            hours = (moment - self.clock).total_seconds() / 3600
            self.imported += max(self.withdrawal_w, 0.0) * hours
            self.exported += max(-self.withdrawal_w, 0.0) * hours
        self.clock = moment
        return [
            DeviceSample(
                "grid",
                DeviceRole.GRID,
                {
                    Quantity.ACTIVE_POWER: self.withdrawal_w,
                    Quantity.ENERGY_IMPORTED: self.imported,
                    Quantity.ENERGY_EXPORTED: self.exported,
                },
            )
        ]


async def _tick(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    uploader: SiteUploader,
) -> None:
    """Move the clock, fire the timers due and wait for the requests they started."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await uploader.async_wait_idle()
    await hass.async_block_till_done()


def _feed(
    freezer: FrozenDateTimeFactory,
    uploader: SiteUploader,
    meter: Meter,
    start: datetime,
    end: datetime,
    *,
    step: timedelta = timedelta(minutes=1),
) -> None:
    """Poll from ``start`` to ``end`` with the frozen clock following."""
    moment = start
    while moment <= end:
        freezer.move_to(moment)
        uploader.record(moment, meter.sample(moment))
        moment += step


START = datetime(2025, 6, 1, 10, 0, tzinfo=ROME)


async def test_closed_hours_are_uploaded_once_after_jitter(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry, rng=random.Random(7))
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))

    status = uploader.status
    assert status.pending_hours == 1
    assert status.next_attempt is not None
    delay = (status.next_attempt - datetime.now(UTC)).total_seconds()
    assert 30 - 61 <= delay <= 300  # scheduled at 11:00, a minute of polls ago
    assert backend.arrivals == []

    await _tick(hass, freezer, 300, uploader)
    assert [(pod, hour.astimezone(ROME).hour) for pod, hour, _ in backend.arrivals] == [(POD, 10)]
    assert backend.arrivals[0][2]["withdrawn_wh"] == 600
    status = uploader.status
    assert status.pending_hours == 0
    assert status.last_success is not None
    assert status.last_error is None
    assert status.next_attempt is None

    await _tick(hass, freezer, 3600, uploader)
    assert len(backend.arrivals) == 1
    await uploader.async_stop()


async def test_jitter_is_between_30_and_300_seconds(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    entry = _entry(hass, backend)
    delays = []
    for seed in range(40):
        freezer.move_to(START)
        uploader = await _uploader(hass, entry, rng=random.Random(seed))
        uploader.async_start()
        meter = Meter()
        uploader.record(START, meter.sample(START))
        freezer.move_to(START + timedelta(hours=1, seconds=1))
        uploader.record(START + timedelta(hours=1, seconds=1), meter.sample(datetime.now(UTC)))
        next_attempt = uploader.status.next_attempt
        assert next_attempt is not None
        delays.append((next_attempt - datetime.now(UTC)).total_seconds())
        await uploader.async_stop()
        await uploader.buffer.async_remove()
    assert all(30 <= d <= 300 for d in delays), delays
    assert max(delays) - min(delays) > 100  # spread, not one fixed slot


async def test_a_week_down_then_every_hour_arrives_once_and_in_order(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    await backend.stop()
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry, max_gap=timedelta(minutes=15))
    uploader.async_start()
    meter = Meter()
    moment = START
    end = START + timedelta(days=7, minutes=1)
    while moment <= end:
        freezer.move_to(moment)
        uploader.record(moment, meter.sample(moment))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        await uploader.async_wait_idle()
        moment += timedelta(minutes=10)

    status = uploader.status
    assert status.pending_hours == 7 * 24
    assert status.failures >= 5
    assert status.last_error
    assert status.last_success is None
    assert status.next_attempt is not None
    # exponential backoff, capped at an hour
    assert (status.next_attempt - datetime.now(UTC)) <= timedelta(seconds=3600 * 1.1)

    await backend.start()
    await _tick(hass, freezer, 4000, uploader)
    hours = [hour for _, hour, _ in backend.arrivals]
    expected = [(START + timedelta(hours=h)).astimezone(UTC) for h in range(7 * 24)]
    assert hours == expected  # every hour once, oldest first
    assert {r["withdrawn_wh"] for _, _, r in backend.arrivals} == {600}
    assert uploader.status.pending_hours == 0
    assert uploader.status.failures == 0

    await _tick(hass, freezer, 7200, uploader)
    assert len(backend.arrivals) == 7 * 24
    await uploader.async_stop()


async def test_more_than_744_hours_go_in_batches(
    hass: HomeAssistant,
    backend: BackendStub,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START + timedelta(days=40))
    entry = _entry(hass, backend)
    first = START.astimezone(UTC)
    pending = {
        (first + timedelta(hours=h)).isoformat(): {
            "hour_start": (first + timedelta(hours=h)).astimezone(ROME).isoformat(),
            "injected_wh": h,
            "withdrawn_wh": 1,
            "quality": "measured",
            "samples": 360,
        }
        for h in range(800)
    }
    hass_storage[storage_key(entry.entry_id)] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key(entry.entry_id),
        "data": {"pod": POD, "pending": pending, "rejected": {}, "extra": {}},
    }
    uploader = await _uploader(hass, entry)
    assert uploader.status.pending_hours == 800
    await uploader.upload_now()
    posts = [r for r in backend.requests if r[1] == "/api/v1/readings"]
    assert len(posts) == 2
    assert [h for _, h, _ in backend.arrivals] == sorted(datetime.fromisoformat(k) for k in pending)
    assert uploader.status.pending_hours == 0
    await uploader.async_stop()


async def test_401_starts_reauth_and_stops_uploading(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend, token="revoked")
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))
    await _tick(hass, freezer, 300, uploader)

    status = uploader.status
    assert status.auth_failed
    assert status.pending_hours == 1
    assert status.next_attempt is None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == entry.entry_id

    # no retry storm while waiting for a new token
    await _tick(hass, freezer, 7200, uploader)
    assert len([r for r in backend.requests if r[2] == 401]) == 1
    await uploader.async_stop()


async def test_a_rejected_reading_is_kept_and_raises_a_repair_issue(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    backend.refused.add(START.astimezone(UTC))
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(hours=2, minutes=1))
    await _tick(hass, freezer, 300, uploader)

    assert [h.astimezone(ROME).hour for _, h, _ in backend.arrivals] == [11]
    status = uploader.status
    assert (status.pending_hours, status.rejected_hours) == (0, 1)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"upload_rejected_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "upload_rejected"
    assert issue.translation_placeholders is not None
    assert "refused" in issue.translation_placeholders["message"]
    assert issue.translation_placeholders["hour"] == "2025-06-01T10:00:00+02:00"

    # not retried on its own ...
    await _tick(hass, freezer, 7200, uploader)
    posts = [r for r in backend.requests if r[1] == "/api/v1/readings"]
    # ... until the action sends it again, once the backend takes it
    backend.refused.clear()
    await uploader.upload_now()
    assert len([r for r in backend.requests if r[1] == "/api/v1/readings"]) == len(posts) + 1
    assert uploader.status.rejected_hours == 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"upload_rejected_{entry.entry_id}") is None
    await uploader.async_stop()


async def test_a_late_reading_of_a_final_period_is_accepted_without_a_repair_issue(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    """The backend stores readings of a settled (final) period as late: they are accepted."""
    freezer.move_to(START)
    backend.settled.add(START.astimezone(UTC))
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(hours=2, minutes=1))
    await _tick(hass, freezer, 300, uploader)

    assert [h.astimezone(ROME).hour for _, h, _ in backend.arrivals] == [10, 11]
    status = uploader.status
    assert (status.pending_hours, status.rejected_hours) == (0, 0)
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, f"upload_rejected_{entry.entry_id}") is None
    assert registry.async_get_issue(DOMAIN, f"upload_refused_{entry.entry_id}") is None
    await uploader.async_stop()


async def test_a_refused_batch_is_retried_with_backoff_and_raises_an_issue(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    backend.pods.clear()  # the community does not know the POD (yet)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry, rng=random.Random(3))
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))
    await _tick(hass, freezer, 300, uploader)
    issue_id = f"upload_refused_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["status"] == "422"
    assert uploader.status.pending_hours == 1

    delays = []
    for _ in range(3):
        next_attempt = uploader.status.next_attempt
        assert next_attempt is not None
        delays.append((next_attempt - datetime.now(UTC)).total_seconds())
        await _tick(hass, freezer, delays[-1] + 1, uploader)
    assert delays[1] > delays[0] * 1.5
    assert delays[2] > delays[1] * 1.5

    backend.pods.add(POD)
    next_attempt = uploader.status.next_attempt
    assert next_attempt is not None
    await _tick(hass, freezer, (next_attempt - datetime.now(UTC)).total_seconds() + 1, uploader)
    assert uploader.status.pending_hours == 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await uploader.async_stop()


async def test_an_hour_closed_across_a_restart(
    hass: HomeAssistant,
    backend: BackendStub,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend)
    meter = Meter()
    before = await _uploader(hass, entry)
    before.async_start()
    _feed(freezer, before, meter, START, START + timedelta(minutes=30))
    await before.async_stop()  # Home Assistant stops: the state is written
    saved = hass_storage[storage_key(entry.entry_id)]["data"]["accounting"]
    assert saved["counters"]

    after = await _uploader(hass, entry)  # ... and starts again 3 minutes later
    after.async_start()
    _feed(
        freezer,
        after,
        meter,
        START + timedelta(minutes=33),
        START + timedelta(minutes=61),
    )
    await _tick(hass, freezer, 300, after)
    assert len(backend.arrivals) == 1
    reading = backend.arrivals[0][2]
    assert reading["withdrawn_wh"] == 600
    assert reading["quality"] == "measured"
    assert reading["hour_start"] == "2025-06-01T10:00:00+02:00"
    await after.async_stop()


async def test_waiting_hours_survive_a_restart_and_go_after_jitter(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    await backend.stop()
    entry = _entry(hass, backend)
    before = await _uploader(hass, entry)
    before.async_start()
    _feed(freezer, before, Meter(), START, START + timedelta(minutes=121))
    await _tick(hass, freezer, 300, before)
    assert before.status.pending_hours == 2
    await before.async_stop()

    await backend.start()
    after = await _uploader(hass, entry)
    assert after.status.pending_hours == 2
    after.async_start()
    await _tick(hass, freezer, 301, after)
    assert len(backend.arrivals) == 2
    await after.async_stop()


async def test_live_every_minute_keeps_the_community_figures(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry, live_interval=timedelta(minutes=1))
    uploader.async_start()
    updates: list[None] = []
    remove = uploader.async_add_listener(lambda: updates.append(None))
    meter = Meter(withdrawal_w=-900.0)  # injecting 900 W
    _feed(freezer, uploader, meter, START, START + timedelta(minutes=10))
    await _tick(hass, freezer, 61, uploader)

    assert backend.live[POD]["injection_w"] == 900.0
    assert backend.live[POD]["hour_injected_wh"] == 150
    community = uploader.community
    assert community is not None
    assert community.surplus_w == 900.0
    assert community.sites_reporting == 1
    assert uploader.live_error is None
    assert updates
    remove()

    backend.fail_status = 503
    await _tick(hass, freezer, 61, uploader)
    assert uploader.live_error
    assert uploader.community == community  # the last figures stay
    await uploader.async_stop()


async def test_unload_cancels_an_upload_on_the_way(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    backend.hold_requests()
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))
    freezer.tick(timedelta(seconds=300))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await backend.arrived.wait()  # the request is at the stub, which holds it
    await uploader.async_stop()
    assert uploader.status.pending_hours == 1  # not acknowledged: still waiting
    assert uploader.status.next_attempt is None


async def test_upload_now_without_a_backend_says_so(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry, api=False)
    uploader.async_start()
    with pytest.raises(HomeAssistantError) as err:
        await uploader.upload_now()
    assert err.value.translation_key == "upload_no_backend"
    await uploader.async_stop()


async def test_upload_now_reports_a_failure(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))
    backend.fail_status = 500
    with pytest.raises(HomeAssistantError) as err:
        await uploader.upload_now()
    assert err.value.translation_key == "upload_failed"
    assert uploader.status.pending_hours == 1
    await uploader.async_stop()


async def test_a_counter_reset_goes_up_estimated_and_is_logged_once(
    hass: HomeAssistant,
    backend: BackendStub,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    freezer.move_to(START)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    meter = Meter()
    _feed(freezer, uploader, meter, START, START + timedelta(minutes=30))
    meter.imported = 0.0  # the meter was replaced
    _feed(freezer, uploader, meter, START + timedelta(minutes=31), START + timedelta(minutes=61))
    await _tick(hass, freezer, 300, uploader)

    reading = backend.arrivals[0][2]
    assert reading["quality"] == "estimated"
    assert 590 <= reading["withdrawn_wh"] <= 610
    assert list(uploader.counter_anomalies) == ["grid|energy_imported"]
    assert caplog.text.count("went backwards") == 1
    await uploader.async_stop()


async def test_an_hour_refused_as_not_ended_is_retried_once_an_hour_later(
    hass: HomeAssistant, backend: BackendStub, freezer: FrozenDateTimeFactory
) -> None:
    """The backend's clock runs 10 minutes behind: it refuses the hour as not ended."""
    freezer.move_to(START)
    entry = _entry(hass, backend)
    uploader = await _uploader(hass, entry)
    uploader.async_start()
    _feed(freezer, uploader, Meter(), START, START + timedelta(minutes=61))
    backend.refused.add(START.astimezone(UTC))  # stands for any refusal right after the hour
    await _tick(hass, freezer, 300, uploader)
    assert uploader.status.rejected_hours == 1

    backend.refused.clear()
    freezer.move_to(START + timedelta(hours=2))  # the next hour: retried once, taken
    await _tick(hass, freezer, 0, uploader)
    await _tick(hass, freezer, 301, uploader)
    assert uploader.status.rejected_hours == 0
    assert [h.astimezone(ROME).hour for _, h, _ in backend.arrivals] == [10]
    await uploader.async_stop()


# The same pipeline against the real backend process: tests/e2e/test_upload_to_backend.py
