"""A serial (RTU) meter in the options flow and on the site (issue #14 item 7): a real
pymodbus serial server on a pseudo-terminal pair, on both Home Assistant ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.cer_community.const import (
    CONF_BAUDRATE,
    CONF_DEVICE_ID,
    CONF_DEVICES,
    CONF_PARITY,
    CONF_PROFILE,
    CONF_ROLE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONF_STOPBITS,
    CONF_UNIT,
    DOMAIN,
)
from custom_components.cer_community.modbus.decode import DataType, encode_value
from tests.modbus_sim import SerialSimulator, free_port

from .conftest import modbus_device, setup_entry, site_entry, unload_entry

pytest.importorskip("serial", reason="pyserial is needed for Modbus RTU")


@pytest.fixture
async def sdm120_rtu() -> AsyncIterator[SerialSimulator]:
    """An Eastron SDM120 on RS-485 at 19200 baud, 8 data bits, no parity, 2 stop bits (a
    pseudo-terminal refuses parity: EINVAL from termios; it ignores the speed)."""
    image = dict.fromkeys(range(0x0000, 0x004C), 0)
    for address, value in {0x0000: 229.5, 0x000C: 1840.0, 0x0048: 321.5}.items():
        image[address], image[address + 1] = encode_value(value, DataType.F32)
    sim = SerialSimulator(input=image, holding={0xFC00: 0, 0xFC01: 7}, baudrate=19200, stopbits=2)
    await sim.start()
    yield sim
    await sim.stop()


async def _opt(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.options.async_configure(flow_id, data))


async def test_add_a_serial_meter_then_read_it(
    hass: HomeAssistant, sdm120_rtu: SerialSimulator
) -> None:
    """Port, baud rate, parity, stop bits and unit in the form; a port that does not exist
    gets no answer; the right one is saved and the site reads the meter."""
    entry = site_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "add_device"}
    )
    result = await _opt(
        hass,
        result["flow_id"],
        {CONF_NAME: "Lighting", CONF_SOURCE: "serial", CONF_ROLE: "load"},
    )
    assert result["step_id"] == "serial"
    flow_id = result["flow_id"]
    form = {
        CONF_PROFILE: "sdm120",
        CONF_SERIAL_PORT: sdm120_rtu.client_path,
        CONF_BAUDRATE: "19200",
        CONF_PARITY: "N",
        CONF_STOPBITS: "2",
        CONF_UNIT: 1,
    }
    result = await _opt(hass, flow_id, {**form, CONF_UNIT: 0})
    assert result["errors"] == {CONF_UNIT: "unit_broadcast"}
    result = await _opt(hass, flow_id, {**form, CONF_SERIAL_PORT: "/dev/ttyCER-missing"})
    assert result["errors"] == {"base": "cannot_connect"}
    result = await _opt(hass, flow_id, form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_SOURCE] == "serial"
    assert device[CONF_SERIAL_PORT] == sdm120_rtu.client_path
    assert (device[CONF_BAUDRATE], device[CONF_PARITY], device[CONF_STOPBITS]) == (19200, "N", 2)
    assert "host" not in device
    assert "active_power" in device["quantities"]
    await hass.async_block_till_done()

    await unload_entry(hass, entry)
    fresh = site_entry([device])
    await setup_entry(hass, fresh)
    power = hass.states.get("sensor.municipio_lighting_power")
    assert power is not None
    assert float(power.state) == 1840.0
    imported = hass.states.get("sensor.municipio_lighting_energy_imported")
    assert imported is not None
    assert float(imported.state) == pytest.approx(321.5)
    await unload_entry(hass, fresh)


async def test_reconfigure_a_serial_meter(
    hass: HomeAssistant, sdm120_rtu: SerialSimulator, socket_enabled: None
) -> None:
    """Reconfigure lists serial devices with the TCP ones and asks a serial one for its
    port, speed, framing and unit (the old adapter gone, the meter set to 19200 baud and 2
    stop bits); the new connection is tested before it is saved, and kept by the site."""
    serial_meter = {
        CONF_DEVICE_ID: "light",
        CONF_NAME: "Lighting",
        CONF_SOURCE: "serial",
        CONF_ROLE: "load",
        CONF_PROFILE: "sdm120",
        CONF_SERIAL_PORT: "/dev/ttyCER-old-adapter",
        CONF_BAUDRATE: 9600,
        CONF_PARITY: "N",
        CONF_STOPBITS: 1,
        CONF_UNIT: 1,
    }
    tcp_meter = modbus_device("grid", "Grid meter", "grid", "sdm630", free_port())
    entry = site_entry([tcp_meter, serial_meter])
    entry.add_to_hass(hass)
    result = dict(
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
    )
    result = await _flow(hass, result["flow_id"], {"next_step_id": "reconfigure_device"})
    assert result["step_id"] == "reconfigure_device"
    selector = result["data_schema"].schema[CONF_DEVICE_ID]
    assert [option["value"] for option in selector.config["options"]] == ["grid", "light"]
    result = await _flow(hass, result["flow_id"], {CONF_DEVICE_ID: "light"})
    assert result["step_id"] == "reconfigure_serial"
    assert result["description_placeholders"] == {CONF_NAME: "Lighting"}
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested[CONF_SERIAL_PORT] == "/dev/ttyCER-old-adapter"
    assert suggested[CONF_BAUDRATE] == "9600"  # the selector's text

    form = {
        CONF_SERIAL_PORT: sdm120_rtu.client_path,
        CONF_BAUDRATE: "19200",
        CONF_PARITY: "N",
        CONF_STOPBITS: "2",
        CONF_UNIT: 1,
    }
    result = await _flow(hass, result["flow_id"], {**form, CONF_UNIT: 0})
    assert result["errors"] == {CONF_UNIT: "unit_broadcast"}
    result = await _flow(hass, result["flow_id"], {**form, CONF_SERIAL_PORT: "/dev/ttyCER-gone"})
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.options[CONF_DEVICES][1][CONF_SERIAL_PORT] == "/dev/ttyCER-old-adapter"
    result = await _flow(hass, result["flow_id"], form)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    grid, light = entry.options[CONF_DEVICES]
    assert grid == {key: value for key, value in tcp_meter.items() if value != []}  # untouched
    assert light[CONF_DEVICE_ID] == "light"
    assert light[CONF_SERIAL_PORT] == sdm120_rtu.client_path
    assert (light[CONF_BAUDRATE], light[CONF_PARITY], light[CONF_STOPBITS]) == (19200, "N", 2)
    assert light[CONF_PROFILE] == "sdm120"
    assert "energy_imported" in light["quantities"]
    await hass.async_block_till_done()

    fresh = site_entry([light])
    await setup_entry(hass, fresh)
    assert float(hass.states.get("sensor.municipio_lighting_power").state) == 1840.0  # type: ignore[union-attr]
    await unload_entry(hass, fresh)


async def _flow(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(flow_id, data))
