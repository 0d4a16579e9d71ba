"""SunSpec extension models read with the inverter (issue #14 item 8): model 160 (multiple
MPPT: per-string DC current, voltage, power) and model 713 (DER storage capacity: state of
charge, energy available), against a real pymodbus server."""

from __future__ import annotations

import pytest

from custom_components.cer_community.modbus import (
    ModbusProtocolError,
    Quantity,
    build_device,
    detect_sunspec,
)
from custom_components.cer_community.modbus.profiles import SUNSPEC_MPPT_MODULES
from custom_components.cer_community.modbus.quantities import module_of, per_module
from tests.modbus_sim import SunSpecSimulator

from .conftest import Connect

Q = Quantity


def _mppt(module: int, quantity: Quantity) -> Quantity:
    return per_module(quantity, module)


#: The simulator's two strings and its battery (tests/modbus_sim.py ``_fill_defaults``).
STRINGS_AND_STORAGE = {
    _mppt(1, Q.DC_CURRENT): 8.25,
    _mppt(1, Q.DC_VOLTAGE): 380.5,
    _mppt(1, Q.DC_POWER): 3140,
    _mppt(2, Q.DC_CURRENT): 7.75,
    _mppt(2, Q.DC_VOLTAGE): 365.5,
    _mppt(2, Q.DC_POWER): 2890,
    Q.STORED_ENERGY: 8750,
    Q.STATE_OF_CHARGE: 87.5,
}


def test_module_quantities_are_enum_members() -> None:
    """``mppt_<n>_<quantity>`` is a :class:`Quantity` (the same object each time, equal to
    its text); anything else is refused like any unknown quantity."""
    power = per_module(Q.DC_POWER, 2)
    assert power is Quantity("mppt_2_dc_power")
    assert power == "mppt_2_dc_power"
    assert str(power) == "mppt_2_dc_power"
    assert {power: 1}["mppt_2_dc_power"] == 1
    assert module_of(power) == (Q.DC_POWER, 2)
    assert module_of(Q.DC_POWER) is None
    assert Q.DC_POWER in list(Quantity)
    assert power not in list(Quantity)  # made on use, not listed
    for bad in ("mppt_0_dc_power", "mppt_1000_dc_power", "mppt_1_active_power", "mppt_x"):
        with pytest.raises(ValueError, match="is not a valid Quantity"):
            Quantity(bad)
    with pytest.raises(ValueError, match="no per-module"):
        per_module(Q.ACTIVE_POWER, 1)
    with pytest.raises(ValueError, match="no per-module"):
        per_module(Q.DC_POWER, 0)


@pytest.mark.parametrize(("length", "modules"), [(8, 0), (28, 1), (48, 2), (50, 2), (208, 10)])
def test_module_count_from_the_model_length(length: int, modules: int) -> None:
    """N = (L − 8) / 20, whole modules only (pysunspec2 counts a group of count 0 so)."""
    assert SUNSPEC_MPPT_MODULES.count(length) == modules
    fields = SUNSPEC_MPPT_MODULES.expand(length)
    assert len(fields) == 3 * modules
    if modules:
        last = fields[-1]
        assert last.quantity == per_module(Q.DC_POWER, modules)
        assert last.address == 21 + 20 * (modules - 1)  # DCW of the last module
        assert last.scale_factor == 4  # DCW_SF, shared by every module


async def test_701_with_strings_and_storage(socket_enabled: None, connect: Connect) -> None:
    """An inverter exposing 1 / 701 / 160 (2 modules) / 713 / end: the 701 values with the
    strings and the battery as extra quantities, in two requests per poll; the saved
    layout has the extensions, and a start from it reads them without a scan."""
    async with SunSpecSimulator(
        inverter_model=701, meter_model=None, mppt_modules=2, storage=True
    ) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [(m.model_id, m.address, m.length) for m in info.models] == [
            (1, 40002, 66),
            (701, 40070, 153),
            (160, 40225, 48),
            (713, 40275, 7),
        ]
        assert [m.model_id for m in info.readable_models] == [701]
        (inverter,) = info.readable_models
        assert [m.kind for m in info.extensions_for(inverter)] == ["extension", "extension"]
        options = info.device_options(inverter)
        assert options["extensions"] == [
            {"model_id": 160, "address": 40225, "length": 48},
            {"model_id": 713, "address": 40275, "length": 7},
        ]
        fresh = await build_device(connection, 1, "sunspec")
        values = await fresh.read()
        assert values[Q.ACTIVE_POWER] == 5800
        assert values[Q.INVERTER_STATE] == 4
        assert {q: values[q] for q in STRINGS_AND_STORAGE} == STRINGS_AND_STORAGE
        assert len(values) == 14 + len(STRINGS_AND_STORAGE)
        # 701 in one read of 123, the 160 and 713 headers and values in another
        assert [(b.address, b.count) for b in fresh.plan] == [(40070, 123), (40225, 59)]
        assert fresh.sunspec_options is not None
        assert fresh.sunspec_options["extensions"] == options["extensions"]

        before = sim.requests
        saved = await build_device(connection, 1, "sunspec", options)
        assert sim.requests - before == 2  # model header check + common model: no scan
        before = sim.requests
        assert await saved.read() == values
        assert sim.requests - before == 2


async def test_103_strings_storage_and_a_meter(socket_enabled: None, connect: Connect) -> None:
    """1 / 103 / 160 / 713 / 203 / end (SolarEdge Synergy places 160 right after 103):
    the inverter reads its extensions in its single request; the meter has none."""
    async with SunSpecSimulator(mppt_modules=2, storage=True) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert [m.model_id for m in info.models] == [1, 103, 160, 713, 203]
        inverter_model, meter_model = info.readable_models
        assert info.device_options(meter_model)["extensions"] == []
        inverter = await build_device(connection, 1, "sunspec", info.device_options(inverter_model))
        meter = await build_device(connection, 1, "sunspec", info.device_options(meter_model))
        before = sim.requests
        values = await inverter.read()
        assert sim.requests - before == 1
        assert [(b.address, b.count) for b in inverter.plan] == [(40070, 111)]
        assert values[Q.ACTIVE_POWER] == 5800
        assert {q: values[q] for q in STRINGS_AND_STORAGE} == STRINGS_AND_STORAGE
        meter_values = await meter.read()
        assert Q.STATE_OF_CHARGE not in meter_values
        assert not any(module_of(q) for q in meter_values)
        assert meter_values[Q.ACTIVE_POWER] == -1500


async def test_extension_sentinels_and_scale_factors(
    socket_enabled: None, connect: Connect
) -> None:
    """Not-implemented values (0xFFFF), scale factors −32768 or out of range, and a changed
    scale factor: no value is made up, the others are still read."""
    async with SunSpecSimulator(
        inverter_model=701, meter_model=None, mppt_modules=2, storage=True
    ) as sim:
        mppt, storage = sim.mppt, sim.storage
        assert mppt is not None
        assert storage is not None
        device = await build_device(connect(sim), 1, "sunspec")
        mppt.set("DCW_2", None)  # uint16 0xFFFF
        mppt.set_raw("DCV_SF", [0x8000])  # SF not implemented: every module's voltage
        mppt.set("DCA_SF", 12)  # outside −10…10
        storage.set("WHAvail", None)
        storage.set_raw("Pct_SF", [0xFFFE])  # −2: the same raw 875 is 8.75 %
        values = await device.read()
        assert values[_mppt(1, Q.DC_POWER)] == 3140
        assert values[_mppt(2, Q.DC_POWER)] is None
        assert values[_mppt(1, Q.DC_VOLTAGE)] is None
        assert values[_mppt(2, Q.DC_VOLTAGE)] is None
        assert values[_mppt(1, Q.DC_CURRENT)] is None
        assert values[Q.STORED_ENERGY] is None
        assert values[Q.STATE_OF_CHARGE] == 8.75
        storage.set_raw("Pct_SF", [0x8000])
        storage.set_raw("WHAvail", [9000])
        values = await device.read()
        assert values[Q.STATE_OF_CHARGE] is None
        assert values[Q.STORED_ENERGY] == 9000
        assert values[Q.ACTIVE_POWER] == 5800


async def test_changed_extension_header_rescans_once(
    socket_enabled: None, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """The 160 and 713 headers are checked on every poll like the inverter's own (item 2):
    a 713 replaced by a vendor model is a layout change: one scan, one log line, the
    values of the new layout (no state of charge) and never the old decoding."""
    async with SunSpecSimulator(
        inverter_model=103, meter_model=None, mppt_modules=2, storage=True
    ) as sim:
        storage = sim.storage
        assert storage is not None
        device = await build_device(connect(sim), 1, "sunspec")
        assert (await device.read())[Q.STATE_OF_CHARGE] == 87.5
        sim.set_registers(storage.address, [64, 7])  # a vendor model of the same length
        caplog.clear()
        values = await device.read()
        assert Q.STATE_OF_CHARGE not in values
        assert values[_mppt(2, Q.DC_POWER)] == 2890
        assert values[Q.ACTIVE_POWER] == 5800
        changed = [r for r in caplog.records if "SunSpec layout changed" in r.getMessage()]
        assert len(changed) == 1
        assert "expected model 713 (L = 7) at 40172, found 64 (L = 7)" in changed[0].getMessage()
        assert device.sunspec_options is not None
        assert device.sunspec_options["extensions"] == [
            {"model_id": 160, "address": 40122, "length": 48}
        ]
        before = sim.requests
        await device.read()
        assert sim.requests - before == 1  # no further scan


async def test_extension_model_alone_is_not_a_device(
    socket_enabled: None, connect: Connect
) -> None:
    """Models 160 and 713 are read with an inverter, never as a device of their own."""
    async with SunSpecSimulator(
        inverter_model=None, meter_model=None, mppt_modules=1, storage=True
    ) as sim:
        connection = connect(sim)
        info = await detect_sunspec(connection, 1)
        assert info.readable_models == ()
        with pytest.raises(ModbusProtocolError, match="no readable SunSpec model"):
            await build_device(connection, 1, "sunspec")
        with pytest.raises(ModbusProtocolError, match="not supported"):
            await build_device(
                connection,
                1,
                "sunspec",
                {"model_id": 713, "model_address": 40070 + 30, "model_length": 7},
            )
