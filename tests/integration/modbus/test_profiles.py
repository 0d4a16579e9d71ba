"""Fixed-map profiles (SDM630, SDM120, EM24) and the generic profile against served registers."""

from __future__ import annotations

import pytest

from custom_components.cer_community.modbus import (
    PROFILES,
    DataType,
    ModbusProtocolError,
    Quantity,
    WordOrder,
    build_device,
    parse_generic_registers,
)
from tests.modbus_sim import Em24Simulator, ModbusSimulator, Sdm120Simulator, Sdm630Simulator

from .conftest import Connect

Q = Quantity


def test_profile_registry() -> None:
    """The ids the Home Assistant side offers."""
    assert list(PROFILES) == ["sunspec", "sdm120", "sdm630", "em24", "generic"]
    for profile_id, profile in PROFILES.items():
        assert profile.id == profile_id
        assert profile.name
        quantities = [field.quantity for field in profile.fields]
        assert len(quantities) == len(set(quantities)), profile_id


async def test_sdm630_values_and_units(sdm630_sim: Sdm630Simulator, connect: Connect) -> None:
    """FC4 float32: V, A, W as served; kWh → Wh; one read of 76 registers."""
    device = await build_device(connect(sdm630_sim), 1, "sdm630")
    assert device.info.manufacturer == "Eastron"
    assert device.info.model == "SDM630"
    assert device.info.serial_number == "20260001"
    values = await device.read()
    assert values == {
        Q.VOLTAGE_L1: 230.5,
        Q.VOLTAGE_L2: 231.5,
        Q.VOLTAGE_L3: 229.5,
        Q.CURRENT_L1: 5.0,
        Q.CURRENT_L2: 4.0,
        Q.CURRENT_L3: 3.0,
        Q.POWER_L1: 1100.0,
        Q.POWER_L2: 900.0,
        Q.POWER_L3: 700.0,
        Q.ACTIVE_POWER: 2700.0,
        Q.FREQUENCY: 50.0,
        Q.ENERGY_IMPORTED: 12_345_500.0,
        Q.ENERGY_EXPORTED: 678_250.0,
    }
    sdm630_sim.set("total_power", -1500.0)  # exporting
    sdm630_sim.set("kwh_export", 700.5)
    before = sdm630_sim.requests
    values = await device.read()
    assert sdm630_sim.requests - before == 1
    assert values[Q.ACTIVE_POWER] == -1500.0
    assert values[Q.ENERGY_EXPORTED] == 700_500.0


async def test_sdm120_values(sdm120_sim: Sdm120Simulator, connect: Connect) -> None:
    """Single phase: voltage, current and power of L1 / total."""
    device = await build_device(connect(sdm120_sim), 1, "sdm120")
    values = await device.read()
    assert values[Q.VOLTAGE_L1] == 229.5
    assert values[Q.CURRENT_L1] == 1.5
    assert values[Q.ACTIVE_POWER] == 320.0
    assert values[Q.FREQUENCY] == pytest.approx(49.98, abs=1e-4)
    assert values[Q.ENERGY_IMPORTED] == 1_500_500.0
    assert values[Q.ENERGY_EXPORTED] == 0.0
    assert Q.VOLTAGE_L2 not in values


async def test_em24_values_and_units(em24_sim: Em24Simulator, connect: Connect) -> None:
    """Holding INT32 LSW first: ÷10 V and W, ÷1000 A, ÷10 Hz, kWh ÷10 → Wh; + = import."""
    device = await build_device(connect(em24_sim), 1, "em24")
    assert device.info.manufacturer == "Carlo Gavazzi"
    assert device.info.model == "EM24 (1651)"
    assert device.info.serial_number == "BX1234567"
    values = await device.read()
    assert values == {
        Q.VOLTAGE_L1: 231.2,
        Q.VOLTAGE_L2: 230.4,
        Q.VOLTAGE_L3: 229.9,
        Q.CURRENT_L1: 3.125,
        Q.CURRENT_L2: 2.5,
        Q.CURRENT_L3: 1.75,
        Q.POWER_L1: -600.5,
        Q.POWER_L2: -500.0,
        Q.POWER_L3: -400.0,
        Q.ACTIVE_POWER: -1500.5,
        Q.FREQUENCY: 50.1,
        Q.ENERGY_IMPORTED: 9_876_500,
        Q.ENERGY_EXPORTED: 4_321_000,
    }
    # the wire really is LSW first: −1500.5 W × 10 = −15005 = 0xFFFFC563
    assert em24_sim.get_registers(0x0028, 2) == [0xC563, 0xFFFF]
    em24_sim.set("power", 2200.0)
    em24_sim.set("kwh_import", 70000.1)  # beyond 16 bits: both words matter
    values = await device.read()
    assert values[Q.ACTIVE_POWER] == 2200.0
    assert values[Q.ENERGY_IMPORTED] == 70_000_100


async def test_em24_without_export_register(socket_enabled: None, connect: Connect) -> None:
    """Issue #14 item 5: a variant refusing 0x004E with exception 2 used to fail whole. The
    export counter is optional: ``None``, asked once, and power and import still read."""
    async with Em24Simulator(with_export=False) as sim:
        device = await build_device(connect(sim), 1, "em24")
        values = await device.read()
        assert values[Q.ACTIVE_POWER] == -1500.5
        assert values[Q.ENERGY_IMPORTED] == 9_876_500
        assert values[Q.ENERGY_EXPORTED] is None
        assert device.diagnostics()["refused_optional"] == ["energy_exported"]
        before = sim.requests
        assert (await device.read())[Q.ENERGY_IMPORTED] == 9_876_500
        assert sim.requests - before == 1  # the refused register is not asked again
        assert device.available


async def test_invert_and_swap_options(em24_sim: Em24Simulator, connect: Connect) -> None:
    """A meter wired the other way round: powers negated, counters swapped."""
    options = {"invert_power": True, "swap_energy": True}
    device = await build_device(connect(em24_sim), 1, "em24", options)
    values = await device.read()
    assert values[Q.ACTIVE_POWER] == 1500.5
    assert values[Q.POWER_L1] == 600.5
    assert values[Q.ENERGY_IMPORTED] == 4_321_000
    assert values[Q.ENERGY_EXPORTED] == 9_876_500
    assert values[Q.VOLTAGE_L1] == 231.2
    diagnostics = device.diagnostics()
    assert diagnostics["raw_values"]["active_power"] == -1500.5
    assert diagnostics["values"]["active_power"] == 1500.5
    assert diagnostics["raw_values"]["energy_imported"] == 9_876_500
    assert diagnostics["requests"] == [
        {"function": 3, "address": 0, "count": 54},
        {"function": 3, "address": 78, "count": 2},
    ]
    assert diagnostics["info"]["serial_number"] == "BX1234567"


async def test_missing_info_register_is_tolerated(socket_enabled: None, connect: Connect) -> None:
    """A meter without the serial register still builds (serial unknown)."""
    async with Sdm630Simulator() as sim:
        await sim.stop()
        del sim.tables[3][0xFC00], sim.tables[3][0xFC01]
        sim.tables[3][0] = 0  # keep a holding table
        await sim.start()
        device = await build_device(connect(sim), 1, "sdm630")
    assert device.info.serial_number is None


GENERIC_ROWS = [
    {"quantity": "active_power", "address": 100, "data_type": "s32", "scale": 0.1},
    {
        "quantity": "energy_imported",
        "address": 10,
        "data_type": "u32",
        "word_order": "little",
        "function": "input",
        "scale": 1000,
    },
    {"quantity": "voltage_l1", "address": 104, "data_type": "f32"},
    {
        "quantity": "frequency",
        "address": 106,
        "data_type": "u16",
        "scale": 0.01,
        "not_implemented": [65535],
    },
    {"quantity": "energy_exported", "address": 12, "data_type": "u64", "function": "input"},
    {"quantity": "current_l1", "address": 108, "data_type": "s16", "scale": -0.01},
]


async def test_generic_profile(socket_enabled: None, connect: Connect) -> None:
    """The user's map: holding and input, word orders, scales, sentinels, two reads."""
    sim = ModbusSimulator(holding=dict.fromkeys(range(100, 110), 0))
    sim.set_value(100, -12345, DataType.S32)
    sim.set_value(104, 231.25, DataType.F32)
    sim.set_value(106, 5002, DataType.U16)
    sim.set_value(108, -150, DataType.S16)
    sim.set_value(10, 123456, DataType.U32, WordOrder.LITTLE, function="input")
    sim.set_value(12, 2**40 + 5, DataType.U64, function="input")
    async with sim:
        options = {"registers": GENERIC_ROWS, "manufacturer": "ACME", "model": "X1"}
        device = await build_device(connect(sim), 3, "generic", options)
        assert device.info.manufacturer == "ACME"
        assert len(device.plan) == 2  # one holding block, one input block
        values = await device.read()
        sim.set_value(106, 0xFFFF, DataType.U16)
        later = await device.read()
    assert values == {
        Q.ACTIVE_POWER: -1234.5,
        Q.ENERGY_IMPORTED: 123_456_000,
        Q.VOLTAGE_L1: 231.25,
        Q.FREQUENCY: 50.02,
        Q.ENERGY_EXPORTED: 2**40 + 5,
        Q.CURRENT_L1: 1.5,
    }
    assert later[Q.FREQUENCY] is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"quantity": "nope", "address": 1, "data_type": "u16"}], "row 0"),
        ([{"quantity": "active_power", "address": 1, "data_type": "u17"}], "row 0"),
        ([{"quantity": "active_power", "address": 70000, "data_type": "u16"}], "out of range"),
        ([{"quantity": "active_power", "data_type": "u16"}], "row 0"),
        ([{"quantity": "active_power", "address": 1, "data_type": "string"}], "string"),
        (
            [{"quantity": "active_power", "address": 1, "data_type": "u16", "function": "coil"}],
            "row 0",
        ),
        (
            [
                {"quantity": "active_power", "address": 1, "data_type": "u16"},
                {"quantity": "active_power", "address": 2, "data_type": "u16"},
            ],
            "twice",
        ),
    ],
)
def test_generic_rows_are_validated(rows: list[dict[str, object]], message: str) -> None:
    """Bad rows are refused with a message naming the row."""
    with pytest.raises(ValueError, match=message):
        parse_generic_registers(rows)


async def test_generic_needs_registers(socket_enabled: None, connect: Connect) -> None:
    """An empty map is a configuration error."""
    async with ModbusSimulator(holding={0: 0}) as sim:
        with pytest.raises(ValueError, match="at least one register"):
            await build_device(connect(sim), 1, "generic", {"registers": []})


async def test_illegal_address_is_a_protocol_error(socket_enabled: None, connect: Connect) -> None:
    """Reading an address the device does not have: ModbusProtocolError, code 2."""
    async with ModbusSimulator(holding={0: 1}) as sim:
        rows = [{"quantity": "active_power", "address": 500, "data_type": "u16"}]
        device = await build_device(connect(sim), 1, "generic", {"registers": rows})
        with pytest.raises(ModbusProtocolError) as caught:
            await device.read()
    assert caught.value.exception_code == 2
    assert device.available is False


async def test_optional_field_refused_once(socket_enabled: None, connect: Connect) -> None:
    """An optional register the device refuses reads as None and is not asked again."""
    sim = ModbusSimulator(holding={0: 0, 1: 500})
    async with sim:
        rows = [
            {"quantity": "active_power", "address": 0, "data_type": "s32"},
            {"quantity": "energy_exported", "address": 0x5C, "data_type": "s32", "optional": True},
        ]
        device = await build_device(connect(sim), 1, "generic", {"registers": rows})
        assert len(device.plan) == 2
        values = await device.read()
        assert values == {Q.ACTIVE_POWER: 500, Q.ENERGY_EXPORTED: None}
        assert len(device.plan) == 1
        before = sim.requests
        assert await device.read() == values
        assert sim.requests - before == 1
