"""Diagnostic sensors of SunSpec models 160 (per-MPPT DC power, voltage, current) and 713
(battery state of charge, energy available), issue #14 item 8: real pymodbus servers, the
options flow and the site's entities, on both Home Assistant ends."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, PERCENTAGE, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.cer_community.asleep import asleep_reading
from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import (
    CONF_DEVICES,
    CONF_PROFILE,
    CONF_ROLE,
    CONF_SOURCE,
    CONF_UNIT,
)
from custom_components.cer_community.modbus.quantities import Quantity, per_module
from custom_components.cer_community.runtime import SiteRuntimeData
from tests.integration.conftest import POD, modbus_device, setup_entry, site_entry, unload_entry
from tests.modbus_sim import SunSpecSimulator

Q = Quantity


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def _poll(hass: HomeAssistant, entry_id: str) -> None:
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    runtime = get_runtime_data(entry)
    assert isinstance(runtime, SiteRuntimeData)
    await runtime.site.async_refresh()
    await hass.async_block_till_done()


async def test_strings_and_battery_of_a_701_inverter(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """1 / 701 / 160 (2 strings) / 713: per-string DC power and the battery's state of
    charge and energy as diagnostics; voltages and currents disabled by default."""
    async with SunSpecSimulator(
        inverter_model=701, meter_model=None, mppt_modules=2, storage=True
    ) as sim:
        entry = site_entry([modbus_device("inv", "Inverter", "production", "sunspec", sim.port)])
        await setup_entry(hass, entry)
        registry = er.async_get(hass)

        power_1 = _state(hass, "sensor.municipio_inverter_mppt_1_dc_power")
        assert float(power_1.state) == 3140
        assert power_1.attributes["unit_of_measurement"] == UnitOfPower.WATT
        assert power_1.attributes["device_class"] == "power"
        assert float(_state(hass, "sensor.municipio_inverter_mppt_2_dc_power").state) == 2890
        entity = registry.async_get("sensor.municipio_inverter_mppt_2_dc_power")
        assert entity is not None
        assert entity.entity_category is er.EntityCategory.DIAGNOSTIC
        assert entity.disabled_by is None
        assert entity.unique_id == f"{POD}_inv_mppt_2_dc_power"
        for entity_id in (
            "sensor.municipio_inverter_mppt_1_dc_voltage",
            "sensor.municipio_inverter_mppt_2_dc_current",
        ):
            hidden = registry.async_get(entity_id)
            assert hidden is not None, entity_id
            assert hidden.disabled_by is er.RegistryEntryDisabler.INTEGRATION
            assert hidden.entity_category is er.EntityCategory.DIAGNOSTIC
        assert registry.async_get("sensor.municipio_inverter_mppt_3_dc_power") is None

        soc = _state(hass, "sensor.municipio_inverter_battery_state_of_charge")
        assert float(soc.state) == 87.5
        assert soc.attributes["unit_of_measurement"] == PERCENTAGE
        assert soc.attributes["device_class"] == "battery"
        stored = _state(hass, "sensor.municipio_inverter_battery_energy_available")
        assert float(stored.state) == pytest.approx(8.75)  # 8,750 Wh shown in kWh
        assert stored.attributes["device_class"] == "energy_storage"
        soc_entity = registry.async_get("sensor.municipio_inverter_battery_state_of_charge")
        assert soc_entity is not None
        assert soc_entity.entity_category is er.EntityCategory.DIAGNOSTIC
        # the AC side is unchanged: 701's power is the inverter's
        assert float(_state(hass, "sensor.municipio_inverter_power").state) == 5800

        assert sim.mppt is not None
        assert sim.storage is not None
        sim.mppt.set("DCW_2", 1200)
        sim.mppt.set("DCW_1", None)  # not implemented: unknown, not 65535 W
        sim.storage.set("SoC", 42.0)
        await _poll(hass, entry.entry_id)
        assert float(_state(hass, "sensor.municipio_inverter_mppt_2_dc_power").state) == 1200
        assert _state(hass, "sensor.municipio_inverter_mppt_1_dc_power").state == "unknown"
        assert float(_state(hass, "sensor.municipio_inverter_battery_state_of_charge").state) == 42
        await unload_entry(hass, entry)


async def test_added_by_the_options_flow_with_many_strings(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """The test read of the options flow finds the strings and the battery (their
    quantities are saved, so the entities exist while the inverter sleeps); with six MPPT
    inputs even the per-string power is disabled by default."""
    async with SunSpecSimulator(meter_model=None, mppt_modules=6, storage=True) as sim:
        entry = site_entry()
        entry.add_to_hass(hass)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "add_device"}
        )
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_NAME: "Inverter", CONF_SOURCE: "modbus", CONF_ROLE: "production"},
        )
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_PROFILE: "sunspec", CONF_HOST: "127.0.0.1", CONF_PORT: sim.port, CONF_UNIT: 1},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        (device,) = entry.options[CONF_DEVICES]
        assert device["sunspec_layout"]["extensions"] == [
            {"model_id": 160, "address": 40122, "length": 128},
            {"model_id": 713, "address": 40252, "length": 7},
        ]
        assert {"mppt_6_dc_power", "mppt_1_dc_voltage", "state_of_charge"} <= set(
            device["quantities"]
        )

        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        registry = er.async_get(hass)
        for module in (1, 6):
            entity = registry.async_get(f"sensor.municipio_inverter_mppt_{module}_dc_power")
            assert entity is not None
            assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert float(_state(hass, "sensor.municipio_inverter_battery_state_of_charge").state) == (
            87.5
        )
        await unload_entry(hass, entry)


async def test_italian_names(hass: HomeAssistant, socket_enabled: None) -> None:
    """The names are translated, the input number in its place."""
    hass.config.language = "it"
    async with SunSpecSimulator(meter_model=None, mppt_modules=1, storage=True) as sim:
        entry = site_entry([modbus_device("inv", "Inverter", "production", "sunspec", sim.port)])
        await setup_entry(hass, entry)
        power = _state(hass, "sensor.municipio_inverter_potenza_dc_mppt_1")
        assert power.attributes["friendly_name"] == "Municipio Inverter Potenza DC MPPT 1"
        assert float(power.state) == 3140
        soc = _state(hass, "sensor.municipio_inverter_stato_di_carica_batteria")
        assert float(soc.state) == 87.5
        await unload_entry(hass, entry)


def test_asleep_strings_produce_nothing() -> None:
    """An inverter asleep at night: each string's power is 0 like the inverter's, the
    other values unknown (the battery is not asleep: its charge is not made up)."""
    quantities = [
        per_module(Q.DC_POWER, 1),
        per_module(Q.DC_VOLTAGE, 1),
        Q.STATE_OF_CHARGE,
        Q.ENERGY_PRODUCED,
    ]
    last: dict[Quantity, float | int | None] = dict.fromkeys(quantities, 1.0)
    assert asleep_reading(last, quantities) == {
        per_module(Q.DC_POWER, 1): 0,
        per_module(Q.DC_VOLTAGE, 1): None,
        Q.STATE_OF_CHARGE: None,
        Q.ENERGY_PRODUCED: 1.0,
    }
