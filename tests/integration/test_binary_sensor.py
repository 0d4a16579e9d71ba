"""The "community surplus" binary sensor, from the backend and computed locally."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.cer_community.compat import get_runtime_data
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    POD,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import SunSpecSimulator

ENTITY = "binary_sensor.cer_comune_community_surplus"


def _live(injection_w: float, withdrawal_w: float) -> dict[str, object]:
    return {
        "pod": POD,
        "ts": "2026-01-01T00:00:00+00:00",
        "injection_w": injection_w,
        "withdrawal_w": withdrawal_w,
        "hour_injected_wh": 1200,
        "hour_withdrawn_wh": 300,
    }


async def test_surplus_from_the_backend(hass: HomeAssistant, backend: BackendStub) -> None:
    backend.live[POD] = _live(3000, 1000)
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    state = hass.states.get(ENTITY)
    assert state is not None
    assert state.state == "on"
    surplus = hass.states.get("sensor.cer_comune_community_surplus_power")
    assert surplus is not None
    assert float(surplus.state) == 2000
    shared = hass.states.get("sensor.cer_comune_community_shared_energy_this_hour")
    assert shared is not None
    assert float(shared.state) == 300
    assert shared.attributes["state_class"] == "total"
    tip = hass.states.get("sensor.cer_comune_community_tip_estimate")
    assert tip is not None
    assert float(tip.state) == 110.5
    assert tip.attributes["unit_of_measurement"] == "€/MWh"

    backend.live[POD] = _live(0, 1000)
    await get_runtime_data(entry).community.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY).state == "off"  # type: ignore[union-attr]

    await backend.stop()
    await get_runtime_data(entry).community.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY).state == "unavailable"  # type: ignore[union-attr]
    await backend.start()
    await get_runtime_data(entry).community.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY).state == "off"  # type: ignore[union-attr]
    await unload_entry(hass, entry)


async def test_surplus_computed_locally_without_backend(
    hass: HomeAssistant, sunspec: SunSpecSimulator
) -> None:
    """A site with only an inverter: injection derived from production, so surplus."""
    entry = site_entry([modbus_device("inv", "Inverter", "production", "sunspec", sunspec.port)])
    await setup_entry(hass, entry)
    runtime = get_runtime_data(entry)
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get("binary_sensor.municipio_community_surplus")
    assert state is not None
    assert state.state == "on"
    injection = hass.states.get("sensor.municipio_injection_power")
    assert injection is not None
    assert float(injection.state) == 5800
    reporting = hass.states.get("sensor.municipio_community_sites_reporting")
    assert reporting is not None
    assert reporting.state == "1"
    await unload_entry(hass, entry)
