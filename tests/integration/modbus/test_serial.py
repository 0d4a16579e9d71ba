"""Serial RTU (issue #14 item 7, library part): a real pymodbus serial server on a
pseudo-terminal pair, read through the shared serial connection, on both pymodbus ends."""

from __future__ import annotations

import pytest

from custom_components.cer_community.modbus import (
    Quantity,
    acquire_serial_connection,
    build_device,
    release_connection,
)
from custom_components.cer_community.modbus.decode import DataType, encode_value
from tests.modbus_sim import SerialSimulator

pytest.importorskip("serial", reason="pyserial is needed for Modbus RTU")


def _sdm120_image() -> dict[int, int]:
    """Input registers of an Eastron SDM120 (float32): 0x0000–0x004B."""
    image = dict.fromkeys(range(0x0000, 0x004C), 0)
    for address, value in {0x0000: 229.5, 0x0006: 1.5, 0x000C: 320.0, 0x0048: 1500.5}.items():
        high, low = encode_value(value, DataType.F32)
        image[address], image[address + 1] = high, low
    return image


async def test_eastron_meter_over_rs485(socket_enabled: None) -> None:
    """An SDM120 on a USB RS-485 adapter: 9600 baud, 8N1, unit 1 (the common home set-up)."""
    sim = SerialSimulator(input=_sdm120_image(), holding={0xFC00: 0, 0xFC01: 42})
    await sim.start()
    connection = acquire_serial_connection(
        sim.client_path, baudrate=9600, parity="N", stopbits=1, timeout=1.0
    )
    try:
        assert str(connection.key) == f"serial://{sim.client_path}"
        device = await build_device(connection, 1, "sdm120")
        values = await device.read()
        assert values[Quantity.ACTIVE_POWER] == 320.0
        assert values[Quantity.VOLTAGE_L1] == 229.5
        assert values[Quantity.ENERGY_IMPORTED] == 1_500_500
        assert device.info.serial_number == "42"
    finally:
        await release_connection(connection)
        await sim.stop()
