"""Sensors against the registers served by real pymodbus servers on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from homeassistant.const import STATE_UNAVAILABLE, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import DOMAIN
from custom_components.cer_community.runtime import SiteRuntimeData
from tests.integration.conftest import (
    POD,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Em24Simulator, Sdm630Simulator, SunSpecSimulator


def _value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def _poll(hass: HomeAssistant, entry_id: str) -> None:
    """One poll of the site (what its 10 s timer does)."""
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    runtime = get_runtime_data(entry)
    assert isinstance(runtime, SiteRuntimeData)
    await runtime.site.async_refresh()
    await hass.async_block_till_done()


async def test_three_devices_values_and_units(
    hass: HomeAssistant,
    sunspec: SunSpecSimulator,
    sdm630: Sdm630Simulator,
    em24: Em24Simulator,
) -> None:
    """SunSpec inverter (production), SDM630 (grid), EM24 (load): values and units."""
    entry = site_entry(
        [
            modbus_device("inv", "Inverter", "production", "sunspec", sunspec.port),
            modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port),
            modbus_device("light", "Lighting", "load", "em24", em24.port),
        ]
    )
    await setup_entry(hass, entry)

    # SunSpec model 103 defaults of the simulator
    assert _value(hass, "sensor.municipio_inverter_power") == 5800
    power = hass.states.get("sensor.municipio_inverter_power")
    assert power is not None
    assert power.attributes["unit_of_measurement"] == UnitOfPower.WATT
    produced = hass.states.get("sensor.municipio_inverter_energy_produced")
    assert produced is not None
    assert produced.attributes["unit_of_measurement"] == UnitOfEnergy.KILO_WATT_HOUR
    assert produced.attributes["state_class"] == "total_increasing"
    assert produced.attributes["device_class"] == "energy"
    assert float(produced.state) == pytest.approx(12_345.678)
    assert _value(hass, "sensor.municipio_inverter_frequency") == pytest.approx(50.01)
    assert hass.states.get("sensor.municipio_inverter_inverter_state").state == "mppt"  # type: ignore[union-attr]
    assert _value(hass, "sensor.municipio_inverter_temperature") == pytest.approx(41.5)

    # SDM630: kWh registers, import = withdrawn
    assert _value(hass, "sensor.municipio_grid_meter_power") == pytest.approx(2700)
    assert _value(hass, "sensor.municipio_grid_meter_energy_imported") == pytest.approx(12345.5)
    assert _value(hass, "sensor.municipio_grid_meter_energy_exported") == pytest.approx(678.25)

    # EM24
    assert _value(hass, "sensor.municipio_lighting_energy_imported") == pytest.approx(9876.5)
    # a meter on a load line has no exported energy (issue #14 item 5)
    assert hass.states.get("sensor.municipio_lighting_energy_exported") is None
    assert hass.states.get("sensor.municipio_grid_meter_energy_exported") is not None

    # per-phase values are diagnostics, disabled by default
    registry = er.async_get(hass)
    voltage = registry.async_get("sensor.municipio_grid_meter_voltage_l1")
    assert voltage is not None
    assert voltage.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert voltage.entity_category is not None
    assert voltage.unique_id == f"{POD}_grid_voltage_l1"

    # values change on the server: the next poll shows them
    sunspec.inverter.set("W", 4200)  # type: ignore[union-attr]
    sdm630.set("kwh_import", 12346.0)
    await _poll(hass, entry.entry_id)
    assert _value(hass, "sensor.municipio_inverter_power") == 4200
    assert _value(hass, "sensor.municipio_grid_meter_energy_imported") == pytest.approx(12346.0)

    # site figures exist
    assert hass.states.get("sensor.municipio_energy_injected_this_hour") is not None
    assert hass.states.get("sensor.municipio_energy_self_consumed_this_hour") is not None
    assert hass.states.get("sensor.municipio_injection_power") is not None
    assert hass.states.get("sensor.municipio_community_shared_energy_this_hour") is not None
    assert hass.states.get("binary_sensor.municipio_community_surplus") is not None
    # no backend: no upload sensors
    assert hass.states.get("sensor.municipio_last_upload") is None

    await unload_entry(hass, entry)


async def test_device_disappears_then_recovers(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    await setup_entry(hass, entry)
    assert _value(hass, "sensor.municipio_grid_meter_power") == pytest.approx(2700)

    await sdm630.stop()
    await _poll(hass, entry.entry_id)
    state = hass.states.get("sensor.municipio_grid_meter_power")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE

    sdm630.set("total_power", -800.0)
    await sdm630.start()
    await asyncio.sleep(1.1)  # the connection's reconnect backoff after one failure
    await _poll(hass, entry.entry_id)
    assert _value(hass, "sensor.municipio_grid_meter_power") == pytest.approx(-800)

    await unload_entry(hass, entry)


async def test_counter_backwards_is_held_and_raised(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    await setup_entry(hass, entry)
    entity_id = "sensor.municipio_grid_meter_energy_imported"
    assert _value(hass, entity_id) == pytest.approx(12345.5)

    sdm630.set("kwh_import", 100.0)  # backwards
    await _poll(hass, entry.entry_id)
    assert _value(hass, entity_id) == pytest.approx(12345.5)  # not published
    issues = ir.async_get(hass)
    issue_id = f"counter_{entry.entry_id}_grid_energy_imported"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "counter_backwards"

    # the issue goes with the entry when it is unloaded (and comes back if still held)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    sdm630.set("kwh_import", 12345.5)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    sdm630.set("kwh_import", 100.0)
    await _poll(hass, entry.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    sdm630.set("kwh_import", 99_999_999.0)  # still held: jumps from the last good value
    await _poll(hass, entry.entry_id)
    assert _value(hass, entity_id) == pytest.approx(12345.5)

    sdm630.set("kwh_import", 12345.75)  # back in line: a misread, published again
    await _poll(hass, entry.entry_id)
    assert _value(hass, entity_id) == pytest.approx(12345.75)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    await unload_entry(hass, entry)


async def test_device_from_existing_entities(hass: HomeAssistant) -> None:
    """An inverter read by another integration: its kW and kWh become W and Wh."""
    hass.states.async_set("sensor.pv_power", "2.5", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.pv_energy", "1234.5", {"unit_of_measurement": "kWh"})
    entry = site_entry(
        [
            {
                "device_id": "pv",
                "name": "PV",
                "source": "entities",
                "role": "production",
                "power_entity": "sensor.pv_power",
                "import_entity": "sensor.pv_energy",
                "quantities": ["active_power", "energy_produced"],
            }
        ]
    )
    await setup_entry(hass, entry)
    assert _value(hass, "sensor.municipio_pv_power") == 2500
    assert _value(hass, "sensor.municipio_pv_energy_produced") == pytest.approx(1234.5)
    assert _value(hass, "sensor.municipio_injection_power") == 2500

    hass.states.async_set("sensor.pv_power", "unavailable")
    await _poll(hass, entry.entry_id)
    assert hass.states.get("sensor.municipio_pv_power").state == STATE_UNAVAILABLE  # type: ignore[union-attr]

    hass.states.async_set("sensor.pv_power", "3000", {"unit_of_measurement": "W"})
    await _poll(hass, entry.entry_id)
    assert _value(hass, "sensor.municipio_pv_power") == 3000
    await unload_entry(hass, entry)
