"""SunSpec: detection at each base address, the model chain, values against the registers."""

from __future__ import annotations

import pytest

from custom_components.cer_community.modbus import (
    ModbusProtocolError,
    Quantity,
    build_device,
    detect_sunspec,
)
from tests.modbus_sim import ModbusSimulator, SunSpecSimulator

from .conftest import Connect

Q = Quantity


@pytest.mark.parametrize("base", [40000, 50000, 0])
@pytest.mark.parametrize("common_length", [65, 66])
async def test_detect_at_each_base_and_walk_chain(
    socket_enabled: None, connect: Connect, base: int, common_length: int
) -> None:
    """``SunS`` is found at 40000, 50000 or 0; models follow at ID + L + 2 to 0xFFFF."""
    async with SunSpecSimulator(base=base, common_length=common_length) as sim:
        info = await detect_sunspec(connect(sim), 1)
    assert info.base_address == base
    common = base + 2
    inverter = common + common_length + 2  # 40069 with L = 65, 40070 with L = 66
    meter = inverter + 52
    assert [(m.model_id, m.address, m.length) for m in info.models] == [
        (1, common, common_length),
        (103, inverter, 50),
        (203, meter, 105),
    ]
    assert [m.kind for m in info.models] == ["common", "inverter", "meter"]
    assert [m.model_id for m in info.readable_models] == [103, 203]
    assert info.identity.manufacturer == "CER Simulated"
    assert info.identity.model == "SunSpec Sim 6000"
    assert info.identity.serial_number == "SIM-INV-0001"
    assert info.identity.sw_version == "1.2.3"
    assert info.identity.options is None  # empty string: not implemented


async def test_float_models(socket_enabled: None, connect: Connect) -> None:
    """Models 113 and 213 (float32) are detected and read."""
    async with SunSpecSimulator(inverter_model=113, meter_model=213) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [(m.model_id, m.length) for m in info.models[1:]] == [(113, 60), (213, 124)]
        inverter = await build_device(connection, 1, "sunspec", {"model_id": 113})
        meter = await build_device(connection, 1, "sunspec", {"model_id": 213})
        sim.inverter.set("W", 4321.5)  # type: ignore[union-attr]
        sim.meter.set("TotWhImp", 1_000_000.0)  # type: ignore[union-attr]
        inverter_values = await inverter.read()
        meter_values = await meter.read()
    assert inverter_values[Q.ACTIVE_POWER] == pytest.approx(4321.5)
    assert inverter_values[Q.VOLTAGE_L1] == pytest.approx(230.1, abs=1e-4)
    assert inverter_values[Q.ENERGY_PRODUCED] == pytest.approx(12_345_678)
    assert inverter_values[Q.INVERTER_STATE] == 4
    assert meter_values[Q.ACTIVE_POWER] == pytest.approx(-1500)
    assert meter_values[Q.ENERGY_IMPORTED] == pytest.approx(1_000_000)
    assert meter_values[Q.ENERGY_EXPORTED] == pytest.approx(4_000_000)
    assert meter_values[Q.POWER_L2] == pytest.approx(-520)


async def test_no_marker_is_a_protocol_error(socket_enabled: None, connect: Connect) -> None:
    """A device answering without ``SunS`` anywhere is not SunSpec."""
    async with ModbusSimulator(holding={40000: 1, 40001: 2, 0: 3, 1: 4}) as sim:
        with pytest.raises(ModbusProtocolError, match="no SunSpec marker"):
            await detect_sunspec(connect(sim), 1)


async def test_chain_not_starting_with_common(socket_enabled: None, connect: Connect) -> None:
    """The first model must be model 1."""
    sim = ModbusSimulator(holding={40000: 0x5375, 40001: 0x6E53, 40002: 103})
    sim.set_registers(40003, [50, *([0] * 50), 0xFFFF, 0])
    async with sim:
        with pytest.raises(ModbusProtocolError, match="model 1"):
            await detect_sunspec(connect(sim), 1)


async def test_end_marker_without_length(socket_enabled: None, connect: Connect) -> None:
    """Some devices end the map right after the 0xFFFF ID (no L): the walk still ends."""
    async with SunSpecSimulator(meter_model=None) as sim:
        await sim.stop()
        del sim.tables[3][sim.end_address + 1]  # no L after the end marker
        await sim.start()
        info = await detect_sunspec(connect(sim), 1)
    assert [m.model_id for m in info.models] == [1, 103]


async def test_inverter_values_and_units(sunspec_sim: SunSpecSimulator, connect: Connect) -> None:
    """Model 103 points with their scale factors, in W, Wh, V, A, Hz, °C."""
    connection = connect(sunspec_sim)
    device = await build_device(connection, 1, "sunspec")  # fresh scan: first inverter
    assert device.info.manufacturer == "CER Simulated"
    assert device.info.serial_number == "SIM-INV-0001"
    values = await device.read()
    assert values == {
        Q.CURRENT_L1: 8.5,
        Q.CURRENT_L2: 8.6,
        Q.CURRENT_L3: 8.4,
        Q.VOLTAGE_L1: 230.1,
        Q.VOLTAGE_L2: 229.8,
        Q.VOLTAGE_L3: 231.0,
        Q.ACTIVE_POWER: 5800,
        Q.FREQUENCY: 50.01,
        Q.ENERGY_PRODUCED: 12_345_678,
        Q.DC_POWER: 6000,
        Q.TEMPERATURE: 41.5,
        Q.INVERTER_STATE: 4,
    }
    # one request per poll: the planner reads the model's points and SFs in one block
    before = sunspec_sim.requests
    await device.read()
    assert sunspec_sim.requests - before == 1


async def test_values_change_and_scale_factors_follow(
    sunspec_sim: SunSpecSimulator, connect: Connect
) -> None:
    """Values set during the test, a changed SF, sentinels and a bad SF."""
    inverter = sunspec_sim.inverter
    assert inverter is not None
    device = await build_device(connect(sunspec_sim), 1, "sunspec")
    inverter.set("W_SF", 1)  # the device changes its scale: raw 123 × 10^1
    inverter.set("W", 1230)
    inverter.set("WH", 20_000_000)
    inverter.set("St", 2)  # SLEEPING
    inverter.set("AphB", None)  # not implemented (0xFFFF)
    inverter.set("TmpCab", None)  # not implemented (0x8000)
    inverter.set_raw("V_SF", [0x8000])  # SF not implemented: voltages unavailable
    values = await device.read()
    assert values[Q.ACTIVE_POWER] == 1230
    assert inverter.sim.get_registers(inverter.point_address("W"), 1) == [123]
    assert values[Q.ENERGY_PRODUCED] == 20_000_000
    assert values[Q.INVERTER_STATE] == 2
    assert values[Q.CURRENT_L2] is None
    assert values[Q.TEMPERATURE] is None
    assert values[Q.VOLTAGE_L1] is None
    inverter.set_raw("V_SF", [12])  # outside −10…10
    assert (await device.read())[Q.VOLTAGE_L1] is None
    inverter.set_raw("WH", [0, 0])  # acc32 0: not implemented
    assert (await device.read())[Q.ENERGY_PRODUCED] is None


async def test_meter_signs_and_counters(sunspec_sim: SunSpecSimulator, connect: Connect) -> None:
    """Model 203 at the grid: W + = import, TotWhImp / TotWhExp as counters."""
    connection = connect(sunspec_sim)
    info = await detect_sunspec(connection, 1)
    meter_model = info.readable_models[1]
    options = info.device_options(meter_model)
    assert options["invert_power"] is False
    assert options["model_id"] == 203
    meter = await build_device(connection, 1, "sunspec", options)
    values = await meter.read()
    assert values[Q.ACTIVE_POWER] == -1500  # exporting
    assert values[Q.POWER_L1] == -500
    assert values[Q.ENERGY_IMPORTED] == 2_500_000
    assert values[Q.ENERGY_EXPORTED] == 4_000_000
    assert values[Q.VOLTAGE_L2] == 231.0
    assert values[Q.CURRENT_L3] == 2.6
    assert values[Q.FREQUENCY] == 50.0
    assert meter.info.model == "SunSpec Sim 6000"


async def test_persisted_layout_skips_scan(sunspec_sim: SunSpecSimulator, connect: Connect) -> None:
    """With the options of a previous scan, setup costs two requests, not a walk."""
    connection = connect(sunspec_sim)
    options = (await detect_sunspec(connection, 1)).device_options(
        (await detect_sunspec(connection, 1)).readable_models[0]
    )
    before = sunspec_sim.requests
    device = await build_device(connection, 1, "sunspec", options)
    assert sunspec_sim.requests - before == 2  # model ID check + common model
    assert device.info.serial_number == "SIM-INV-0001"


async def test_moved_model_is_scanned_again(
    sunspec_sim: SunSpecSimulator, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """A persisted layout that no longer matches (firmware update) is replaced by a new scan
    at start-up, with a log line: the inverter model is found where it now is."""
    options = {"model_id": 103, "model_address": 40122, "common_address": 40002}
    device = await build_device(connect(sunspec_sim), 1, "sunspec", options)
    assert device.sunspec_options == {
        "model_id": 103,
        "model_address": 40070,
        "model_length": 50,
        "extensions": [],
    }
    assert (await device.read())[Q.ACTIVE_POWER] == 5800
    assert "expected SunSpec model 103 at 40122, found 203" in caplog.text


async def test_layout_change_while_running_is_rescanned_never_misdecoded(
    socket_enabled: None, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #14 item 2: a Fronius inverter switched from float model 113 to integer 103
    while running was published as −221 V and 0 W. The model ID and L are read with the
    values on every poll; on a change the device is scanned once and read with the new
    layout in the same poll."""
    async with SunSpecSimulator(inverter_model=113, meter_model=None) as sim:
        connection = connect(sim)
        device = await build_device(connection, 1, "sunspec")
        first = await device.read()
        assert first[Q.ACTIVE_POWER] == 5800.0
        assert first[Q.VOLTAGE_L1] == pytest.approx(230.1)
        before = sim.requests
        await device.read()
        assert sim.requests - before == 1  # the header check costs no request
        sim.replace_model("inverter", 103)
        sim.inverter.set("W", 2000)  # type: ignore[union-attr]
        caplog.clear()
        values = await device.read()
        assert values[Q.ACTIVE_POWER] == 2000
        assert values[Q.VOLTAGE_L1] == 230.1
        assert values[Q.ENERGY_PRODUCED] == 12_345_678
        assert device.sunspec_options == {
            "model_id": 103,
            "model_address": 40070,
            "model_length": 50,
            "extensions": [],
        }
        changed = [r for r in caplog.records if "SunSpec layout changed" in r.getMessage()]
        assert len(changed) == 1
        assert "expected model 113 (L = 60) at 40070, found 103 (L = 50)" in (
            changed[0].getMessage()
        )
        before = sim.requests
        assert (await device.read())[Q.ACTIVE_POWER] == 2000
        assert sim.requests - before == 1  # no further scan


async def test_layout_change_to_nothing_readable_is_an_error(
    socket_enabled: None, connect: Connect
) -> None:
    """The inverter model replaced by a model this library does not read (a vendor model
    64): no inverter any more, an error rather than its registers published as values."""
    async with SunSpecSimulator(inverter_model=113, meter_model=None) as sim:
        device = await build_device(connect(sim), 1, "sunspec")
        await device.read()
        sim.set_registers(40070, [64, 60])
        with pytest.raises(ModbusProtocolError, match="no other inverter model"):
            await device.read()
        assert device.available is False
        assert device.last_reading[Q.ACTIVE_POWER] == 5800.0


async def test_solaredge_meter_inverted_by_default(socket_enabled: None, connect: Connect) -> None:
    """SolarEdge meters report W + = export: the default options invert them."""
    async with SunSpecSimulator(manufacturer="SolarEdge", common_length=65) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        inverter_model, meter_model = info.readable_models
        assert info.device_options(inverter_model)["invert_power"] is False
        assert info.device_options(meter_model)["invert_power"] is True
        assert inverter_model.address == 40069  # SolarEdge: inverter model at 40069
        sim.meter.set("W", 700)  # type: ignore[union-attr]  # SolarEdge: exporting 700 W
        meter = await build_device(connection, 1, "sunspec", info.device_options(meter_model))
        values = await meter.read()
    assert values[Q.ACTIVE_POWER] == -700
    assert values[Q.POWER_L1] == 500
    # only the power sign is SolarEdge's: its TotWhImp / TotWhExp are as named
    assert values[Q.ENERGY_IMPORTED] == 2_500_000
    assert values[Q.ENERGY_EXPORTED] == 4_000_000


async def test_no_readable_model(socket_enabled: None, connect: Connect) -> None:
    """A SunSpec device with only the common model cannot be built."""
    async with SunSpecSimulator(inverter_model=None, meter_model=None) as sim:
        with pytest.raises(ModbusProtocolError, match="no readable SunSpec model"):
            await build_device(connect(sim), 1, "sunspec")


async def test_meter_with_its_own_common_model(socket_enabled: None, connect: Connect) -> None:
    """SolarEdge layout: the meter's own model 1 precedes it and gives its identity."""
    async with SunSpecSimulator(
        manufacturer="SolarEdge", common_length=65, meter_identity=("SE-RGMTR-3D", "M-42")
    ) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [m.model_id for m in info.models] == [1, 103, 1, 203]
        meter_model = info.readable_models[1]
        assert meter_model.address == 40000 + 2 + 67 + 52 + 67  # 40188, as on SolarEdge
        options = info.device_options(meter_model)
        assert options["common_address"] == 40121
        meter = await build_device(connection, 1, "sunspec", options)
        inverter = await build_device(connection, 1, "sunspec")
        values = await meter.read()
    assert meter.info.model == "SE-RGMTR-3D"
    assert meter.info.serial_number == "M-42"
    assert inverter.info.serial_number == "SIM-INV-0001"
    assert values[Q.ENERGY_IMPORTED] == 2_500_000


async def test_der_model_701_alone(socket_enabled: None, connect: Connect) -> None:
    """Issue #14 item 8: an inverter offering only SunSpec 701 (DER AC measurement, as SMA
    ennexOS firmware does) is read: one request per poll, states aligned with model 103's."""
    async with SunSpecSimulator(inverter_model=701, meter_model=None) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [m.model_id for m in info.readable_models] == [701]
        assert info.readable_models[0].length == 153
        device = await build_device(connection, 1, "sunspec")
        values = await device.read()
        assert values == {
            Q.ACTIVE_POWER: 5800,
            Q.FREQUENCY: 50.01,
            Q.ENERGY_PRODUCED: 12_345_678,
            Q.TEMPERATURE: 41.5,
            Q.POWER_L1: 1930,
            Q.POWER_L2: 1935,
            Q.POWER_L3: 1935,
            Q.CURRENT_L1: 8.5,
            Q.CURRENT_L2: 8.6,
            Q.CURRENT_L3: 8.4,
            Q.VOLTAGE_L1: 230.1,
            Q.VOLTAGE_L2: 229.8,
            Q.VOLTAGE_L3: 231.0,
            Q.INVERTER_STATE: 4,  # InvSt 3 RUNNING = St 4 MPPT of model 103
        }
        assert [(b.address, b.count) for b in device.plan] == [(40070, 123)]
        sim.inverter.set("InvSt", 1)  # type: ignore[union-attr]  # SLEEPING
        sim.inverter.set("TotWhInj", None)  # type: ignore[union-attr]  # all ones: sentinel
        values = await device.read()
        assert values[Q.INVERTER_STATE] == 2  # SLEEPING, as in 103
        assert values[Q.ENERGY_PRODUCED] is None


async def test_classic_inverter_model_preferred_over_701(
    socket_enabled: None, connect: Connect
) -> None:
    """With both a 701 and a 103 (newer SMA firmware lists the 700 series first), the
    103 is read unless the 701 is asked for."""
    async with SunSpecSimulator(inverter_model=701, meter_model=103) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [m.model_id for m in info.readable_models] == [701, 103]
        device = await build_device(connection, 1, "sunspec")
        assert device.sunspec_model is not None
        assert device.sunspec_model.model_id == 103
        der = await build_device(connection, 1, "sunspec", {"model_id": 701})
        assert (await der.read())[Q.ACTIVE_POWER] == 5800
