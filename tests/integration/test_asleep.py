"""Asleep at night is not an error (issue #14 item 4): a real SunSpec simulator that stops
answering, at night and in daylight.

The sun is Home Assistant's own (``helpers.sun``, ``astral``): the tests place Home
Assistant on the equator at the longitude where it is solar noon, or solar midnight, right
now, rather than freezing the clock (frozen time stops the sockets' timeouts).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.sun import is_up
from homeassistant.util import dt as dt_util

from custom_components.cer_community.asleep import SleepWatch, asleep_reading, was_idle
from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.modbus.quantities import Quantity
from custom_components.cer_community.runtime import SiteRuntimeData
from tests.modbus_sim import SunSpecSimulator

from .conftest import modbus_device, setup_entry, site_entry, unload_entry

ROME = ZoneInfo("Europe/Rome")
POWER = "sensor.municipio_inverter_power"
PRODUCED = "sensor.municipio_inverter_energy_produced"
QUANTITIES = ["active_power", "energy_produced", "inverter_state", "voltage_l1"]


async def _place(hass: HomeAssistant, solar_hour: float) -> None:
    """Move Home Assistant to the equator where the local solar time is ``solar_hour``."""
    now = dt_util.utcnow()
    utc_hours = now.hour + now.minute / 60
    longitude = ((solar_hour - utc_hours) * 15 + 540) % 360 - 180
    await hass.config.async_update(latitude=0.0, longitude=longitude)
    assert is_up(hass) is (6 < solar_hour < 18)


@pytest.fixture
async def night(hass: HomeAssistant) -> None:
    """Solar midnight where Home Assistant is."""
    await _place(hass, 0)


@pytest.fixture
async def day(hass: HomeAssistant) -> None:
    """Solar noon where Home Assistant is."""
    await _place(hass, 12)


async def _poll(hass: HomeAssistant, entry_id: str) -> SiteRuntimeData:
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    runtime = get_runtime_data(entry)
    assert isinstance(runtime, SiteRuntimeData)
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    return runtime


def _loud(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _inverter_entry(port: int) -> object:
    return site_entry(
        [
            modbus_device(
                "inverter", "Inverter", "production", "sunspec", port, quantities=QUANTITIES
            )
        ]
    )


async def test_silent_at_night_is_asleep(
    hass: HomeAssistant,
    night: None,
    sunspec: SunSpecSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After sunset an inverter that stops answering shows 0 W, holds its counter, logs
    nothing above debug, and is not unavailable; the hour's accounting goes on."""
    entry = _inverter_entry(sunspec.port)
    await setup_entry(hass, entry)  # type: ignore[arg-type]
    assert float(hass.states.get(POWER).state) == 5800  # type: ignore[union-attr]
    caplog.clear()
    await sunspec.stop()
    for _ in range(3):
        runtime = await _poll(hass, entry.entry_id)  # type: ignore[attr-defined]
        assert hass.states.get(POWER).state == "0"  # type: ignore[union-attr]
        assert float(hass.states.get(PRODUCED).state) == pytest.approx(12_345.678)  # type: ignore[union-attr]
        assert hass.states.get("sensor.municipio_inverter_inverter_state").state == "mppt"  # type: ignore[union-attr]
    assert _loud(caplog) == []
    assert runtime.devices["inverter"].asleep
    assert runtime.site.data is not None
    assert runtime.site.data.production_w == 0  # accounted as asleep, not as a gap
    await unload_entry(hass, entry)  # type: ignore[arg-type]


async def test_silent_in_daylight_while_producing_is_unavailable(
    hass: HomeAssistant,
    day: None,
    sunspec: SunSpecSimulator,
) -> None:
    """At noon an inverter producing 5.8 kW that stops answering is unavailable at once."""
    entry = _inverter_entry(sunspec.port)
    await setup_entry(hass, entry)  # type: ignore[arg-type]
    await sunspec.stop()
    await _poll(hass, entry.entry_id)  # type: ignore[attr-defined]
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await unload_entry(hass, entry)  # type: ignore[arg-type]


async def test_idle_then_silent_in_daylight_sleeps_then_becomes_unavailable(
    hass: HomeAssistant,
    day: None,
    sunspec: SunSpecSimulator,
) -> None:
    """Idle (STANDBY, 0 W) then silent in daylight: asleep for the daylight grace (an hour,
    shortened here), then unavailable; answering again brings the real values back."""
    assert sunspec.inverter is not None
    sunspec.inverter.set("W", 0)
    sunspec.inverter.set("St", 8)  # STANDBY
    entry = _inverter_entry(sunspec.port)
    await setup_entry(hass, entry)  # type: ignore[arg-type]
    runtime = get_runtime_data(entry)
    runtime.devices["inverter"].sleep.daylight_grace = timedelta(seconds=0.5)
    await sunspec.stop()
    await _poll(hass, entry.entry_id)  # type: ignore[attr-defined]
    assert hass.states.get(POWER).state == "0"  # type: ignore[union-attr]
    assert hass.states.get("sensor.municipio_inverter_voltage_l1") is None or (
        hass.states.get("sensor.municipio_inverter_voltage_l1").state  # type: ignore[union-attr]
        in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    )
    await asyncio.sleep(0.6)
    await _poll(hass, entry.entry_id)  # type: ignore[attr-defined]
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    sunspec.inverter.set("W", 1500)
    sunspec.inverter.set("St", 4)
    await sunspec.start()
    runtime.devices["inverter"].source._connection.reset_backoff()  # type: ignore[attr-defined]
    await _poll(hass, entry.entry_id)  # type: ignore[attr-defined]
    assert float(hass.states.get(POWER).state) == 1500  # type: ignore[union-attr]
    await unload_entry(hass, entry)  # type: ignore[arg-type]


def test_sleep_watch_rule() -> None:
    """The rule itself: night → asleep; daylight → asleep only after idle, for the grace."""
    noon = datetime(2025, 6, 1, 12, 0, tzinfo=ROME)
    producing = {Quantity.ACTIVE_POWER: 4000.0, Quantity.INVERTER_STATE: 4}
    idle = {Quantity.ACTIVE_POWER: 12.0, Quantity.INVERTER_STATE: 4}
    assert not was_idle(producing)
    assert was_idle(idle)
    assert was_idle({Quantity.ACTIVE_POWER: 900.0, Quantity.INVERTER_STATE: 2})
    watch = SleepWatch()
    assert not watch.is_asleep(producing, noon, sun_up=True)
    watch.answered()
    assert watch.is_asleep(idle, noon, sun_up=True)
    assert watch.is_asleep(idle, noon + timedelta(minutes=59), sun_up=True)
    assert not watch.is_asleep(idle, noon + timedelta(minutes=61), sun_up=True)
    # silent from dusk through the night: asleep at dawn for the grace, whatever it showed
    watch = SleepWatch()
    dusk = datetime(2025, 6, 1, 21, 0, tzinfo=ROME)
    assert watch.is_asleep(producing, dusk, sun_up=False)
    dawn = datetime(2025, 6, 2, 5, 40, tzinfo=ROME)
    assert watch.is_asleep(producing, dawn, sun_up=True)
    assert not watch.is_asleep(producing, dawn + timedelta(hours=2), sun_up=True)
    held = asleep_reading(
        {Quantity.ACTIVE_POWER: 30.0, Quantity.ENERGY_PRODUCED: 1000.0, Quantity.VOLTAGE_L1: 230},
        [Quantity.ACTIVE_POWER, Quantity.ENERGY_PRODUCED, Quantity.VOLTAGE_L1],
    )
    assert held == {
        Quantity.ACTIVE_POWER: 0,
        Quantity.ENERGY_PRODUCED: 1000.0,
        Quantity.VOLTAGE_L1: None,
    }
