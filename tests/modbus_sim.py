"""Real pymodbus TCP servers on 127.0.0.1 that play Modbus devices in tests.

Works on pymodbus 3.6.6 (Home Assistant 2024.3) and the newest (Home Assistant 2026.10). One
server per simulated device, answering every unit id (several unit ids on one server break on
pymodbus 3.13.1). Values can be changed while the server runs, and a server can be stopped
(the device disappears: connection refused) and started again on the same port.

Quick use (the HA test harness blocks sockets: request the ``socket_enabled`` fixture, and
connect to the literal ``127.0.0.1``)::

    from tests.modbus_sim import SunSpecSimulator, Sdm630Simulator, Em24Simulator

    async def test_inverter(socket_enabled: None) -> None:
        async with SunSpecSimulator() as sim:        # common 1 + inverter 103 + meter 203
            sim.inverter.set("W", 2500)              # engineering units, SF applied
            sim.inverter.set("WH", 1_234_567)        # Wh
            sim.meter.set("W", -800)                 # + = import at the grid point
            ...                                      # connect to sim.host, sim.port
            await sim.stop()                         # device gone (connection refused)
            await sim.start()                        # back, same port, same values

    async with Sdm630Simulator() as sdm:   # input registers, float32 (Eastron map)
        sdm.set("total_power", -1500.0)    # names: see SDM630_POINTS
    async with Em24Simulator() as em:      # holding registers, INT32 LSW first
        em.set("kwh_import", 1234.5)       # kWh; names: see EM24_POINTS

Lower level, any register map: ``ModbusSimulator(holding={addr: word}, input={addr: word})``
with ``set_registers(address, words, function="holding"|"input")`` and
``set_value(address, value, data_type, word_order=..., function=...)``. The set of addresses
served is fixed when the server starts (addresses never set answer "illegal data address");
changing values of existing addresses works while it runs.

Register tables here are written from ``MODBUS-MAPS.md`` independently of the library's
profiles, so the tests check the profiles against the maps rather than against themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import socket
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, ClassVar

from pymodbus.server import ModbusTcpServer

from custom_components.cer_community.modbus.decode import (
    DataType,
    WordOrder,
    encode_string,
    encode_value,
)

HOST = "127.0.0.1"

try:  # newer pymodbus: servers run SimDevice/SimData (SimCore copies the datastore)
    from pymodbus.simulator import DataType as SimDataType
    from pymodbus.simulator import SimData, SimDevice
    from pymodbus.simulator.simcore import SimCore  # noqa: F401

    _SIMDEVICE = "action" in getattr(SimDevice, "__dataclass_fields__", {})
except ImportError:  # pragma: no cover - depends on the pymodbus version
    _SIMDEVICE = False

_FUNCTIONS = {"holding": 3, "input": 4}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _runs(table: Mapping[int, int]) -> list[tuple[int, list[int]]]:
    """Contiguous runs of a register table: [(start, [words…]), …]."""
    runs: list[tuple[int, list[int]]] = []
    for address in sorted(table):
        if runs and runs[-1][0] + len(runs[-1][1]) == address:
            runs[-1][1].append(table[address])
        else:
            runs.append((address, [table[address]]))
    return runs


class ModbusSimulator:
    """A pymodbus TCP server on 127.0.0.1 serving one register image (any unit id).

    ``holding`` / ``input``: wire address (0-based) → 16-bit word. ``port``: fixed port, or a
    free one chosen at construction (kept across stop/start).
    """

    def __init__(
        self,
        holding: Mapping[int, int] | None = None,
        input: Mapping[int, int] | None = None,
        *,
        port: int | None = None,
        unit: int | None = None,
    ) -> None:
        """Prepare the image; nothing listens until :meth:`start`.

        ``unit``: answer only this unit id (others get no data); ``None`` answers every id.
        """
        self.host = HOST
        self.unit = unit
        self.port = port or free_port()
        self.tables: dict[int, dict[int, int]] = {3: dict(holding or {}), 4: dict(input or {})}
        self.requests = 0  # read requests answered (any function), for tests of the planner
        self._server: Any = None
        self._task: asyncio.Task[Any] | None = None
        self._blocks: dict[int, Any] = {}
        self._served: dict[int, frozenset[int]] = {3: frozenset(), 4: frozenset()}

    # --- values ---------------------------------------------------------------------------

    def set_registers(self, address: int, words: Iterable[int], function: str = "holding") -> None:
        """Write raw words at ``address`` of the ``holding`` or ``input`` table."""
        fc = _FUNCTIONS[function]
        words = [int(word) & 0xFFFF for word in words]
        addresses = range(address, address + len(words))
        if self.running and not set(addresses) <= self._served[fc]:
            raise ValueError("new addresses need a restart of the simulator")
        for addr, word in zip(addresses, words, strict=True):
            self.tables[fc][addr] = word
        if self.running and not _SIMDEVICE:
            # older pymodbus serves our block objects directly; block address = wire + 1
            self._blocks[fc].setValues(address + 1, words)

    def set_value(
        self,
        address: int,
        value: float,
        data_type: DataType,
        word_order: WordOrder = WordOrder.BIG,
        function: str = "holding",
    ) -> None:
        """Encode ``value`` (``struct``) and write it at ``address``."""
        self.set_registers(address, encode_value(value, data_type, word_order), function)

    def get_registers(self, address: int, count: int, function: str = "holding") -> list[int]:
        """Words of the image (what the server answers)."""
        table = self.tables[_FUNCTIONS[function]]
        return [table[address + i] for i in range(count)]

    # --- server ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def _context(self) -> Any:
        """The datastore for this pymodbus version, built from the image."""
        self._served = {fc: frozenset(table) for fc, table in self.tables.items()}
        if _SIMDEVICE:
            holding = [
                SimData(start, values=words, datatype=SimDataType.REGISTERS)
                for start, words in _runs(self.tables[3]) or [(0, [0])]
            ]
            inputs = [
                SimData(start, values=words, datatype=SimDataType.REGISTERS)
                for start, words in _runs(self.tables[4]) or [(0, [0])]
            ]
            bits = [SimData(0, values=[False] * 16, datatype=SimDataType.BITS)]
            return SimDevice(
                self.unit or 0, simdata=(bits, list(bits), holding, inputs), action=self._on_request
            )
        from pymodbus import datastore  # noqa: PLC0415 - version-dependent names

        device_context = (
            getattr(datastore, "ModbusDeviceContext", None) or datastore.ModbusSlaveContext
        )
        # block addresses are wire + 1: the context adds 1 (zero_mode=False); 3.13+ rejects 0
        self._blocks = {
            fc: datastore.ModbusSparseDataBlock(
                {address + 1: word for address, word in self.tables[fc].items()} or {1: 0}
            )
            for fc in (3, 4)
        }
        context = device_context(
            di=datastore.ModbusSequentialDataBlock(1, [False] * 16),
            co=datastore.ModbusSequentialDataBlock(1, [False] * 16),
            hr=self._blocks[3],
            ir=self._blocks[4],
        )
        original = context.getValues

        def get_values(fc_as_hex: int, address: int, count: int = 1) -> Any:
            if fc_as_hex in (3, 4):
                self.requests += 1
            return original(fc_as_hex, address, count)

        context.getValues = get_values
        if self.unit is None:
            return datastore.ModbusServerContext(context, single=True)
        return datastore.ModbusServerContext({self.unit: context}, single=False)

    async def _on_request(  # noqa: PLR0917 - pymodbus calls it positionally
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        """Newer pymodbus' ``SimDevice.action``: copy the current image into the answer."""
        table = self.tables.get(function_code)
        if table is None or set_values is not None:
            return
        self.requests += 1
        for addr in range(address, address + count):
            if addr in table:
                registers[addr - start_address] = table[addr]

    async def start(self) -> None:
        """Listen on 127.0.0.1:``port`` (returns once connections are accepted)."""
        if self.running:
            return
        server = ModbusTcpServer(self._context(), address=(self.host, self.port))
        if "background" in inspect.signature(server.serve_forever).parameters:
            await server.serve_forever(background=True)
        else:
            self._task = asyncio.create_task(server.serve_forever())
            for _ in range(500):
                if server.transport is not None or self._task.done():
                    break
                await asyncio.sleep(0.01)
            if self._task.done():
                await self._task  # raises why it could not listen
        self._server = server

    async def stop(self) -> None:
        """Close the listener and every client connection (the device disappears)."""
        server, self._server = self._server, None
        if server is None:
            return
        await server.shutdown()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5)
            self._task = None
        await asyncio.sleep(0)  # let the transports finish closing

    async def __aenter__(self) -> ModbusSimulator:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()


# --- SunSpec ---------------------------------------------------------------------------------

U16, S16, U32, S32, F32 = DataType.U16, DataType.S16, DataType.U32, DataType.S32, DataType.F32
U64 = DataType.U64
_SENTINEL = {
    U16: 0xFFFF, S16: 0x8000, U32: 0xFFFFFFFF, S32: 0x80000000, U64: 0xFFFFFFFFFFFFFFFF
}  # fmt: skip
_UNSIGNED = {U16: U16, S16: U16, U32: U32, S32: U32, U64: U64}

# point → (offset from the model ID register, type, scale-factor point or None)
# sunspec/models json/model_103.json (101/102 identical), L = 50
MODEL_103_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "A": (2, U16, "A_SF"), "AphA": (3, U16, "A_SF"), "AphB": (4, U16, "A_SF"),
    "AphC": (5, U16, "A_SF"), "A_SF": (6, S16, None),
    "PPVphAB": (7, U16, "V_SF"), "PPVphBC": (8, U16, "V_SF"), "PPVphCA": (9, U16, "V_SF"),
    "PhVphA": (10, U16, "V_SF"), "PhVphB": (11, U16, "V_SF"), "PhVphC": (12, U16, "V_SF"),
    "V_SF": (13, S16, None), "W": (14, S16, "W_SF"), "W_SF": (15, S16, None),
    "Hz": (16, U16, "Hz_SF"), "Hz_SF": (17, S16, None), "VA": (18, S16, "VA_SF"),
    "VA_SF": (19, S16, None), "VAr": (20, S16, "VAr_SF"), "VAr_SF": (21, S16, None),
    "PF": (22, S16, "PF_SF"), "PF_SF": (23, S16, None), "WH": (24, U32, "WH_SF"),
    "WH_SF": (26, S16, None), "DCA": (27, U16, "DCA_SF"), "DCA_SF": (28, S16, None),
    "DCV": (29, U16, "DCV_SF"), "DCV_SF": (30, S16, None), "DCW": (31, S16, "DCW_SF"),
    "DCW_SF": (32, S16, None), "TmpCab": (33, S16, "Tmp_SF"), "TmpSnk": (34, S16, "Tmp_SF"),
    "TmpTrns": (35, S16, "Tmp_SF"), "TmpOt": (36, S16, "Tmp_SF"), "Tmp_SF": (37, S16, None),
    "St": (38, U16, None), "StVnd": (39, U16, None), "Evt1": (40, U32, None),
}  # fmt: skip

# sunspec/models json/model_203.json (201/202/204 identical), L = 105
MODEL_203_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "A": (2, S16, "A_SF"), "AphA": (3, S16, "A_SF"), "AphB": (4, S16, "A_SF"),
    "AphC": (5, S16, "A_SF"), "A_SF": (6, S16, None),
    "PhV": (7, S16, "V_SF"), "PhVphA": (8, S16, "V_SF"), "PhVphB": (9, S16, "V_SF"),
    "PhVphC": (10, S16, "V_SF"), "PPV": (11, S16, "V_SF"), "V_SF": (15, S16, None),
    "Hz": (16, S16, "Hz_SF"), "Hz_SF": (17, S16, None),
    "W": (18, S16, "W_SF"), "WphA": (19, S16, "W_SF"), "WphB": (20, S16, "W_SF"),
    "WphC": (21, S16, "W_SF"), "W_SF": (22, S16, None),
    "TotWhExp": (38, U32, "TotWh_SF"), "TotWhImp": (46, U32, "TotWh_SF"),
    "TotWh_SF": (54, S16, None), "Evt": (105, U32, None),
}  # fmt: skip

# sunspec/models json/model_113.json (111/112 identical), float32, L = 60
MODEL_113_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "A": (2, F32, None), "AphA": (4, F32, None), "AphB": (6, F32, None),
    "AphC": (8, F32, None), "PhVphA": (16, F32, None), "PhVphB": (18, F32, None),
    "PhVphC": (20, F32, None), "W": (22, F32, None), "Hz": (24, F32, None),
    "WH": (32, F32, None), "DCW": (38, F32, None), "TmpCab": (40, F32, None),
    "St": (48, U16, None), "StVnd": (49, U16, None),
}  # fmt: skip

# sunspec/models json/model_213.json (211/212/214 identical), float32, L = 124
MODEL_213_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "A": (2, F32, None), "AphA": (4, F32, None), "AphB": (6, F32, None),
    "AphC": (8, F32, None), "PhV": (10, F32, None), "PhVphA": (12, F32, None),
    "PhVphB": (14, F32, None), "PhVphC": (16, F32, None), "Hz": (26, F32, None),
    "W": (28, F32, None), "WphA": (30, F32, None), "WphB": (32, F32, None),
    "WphC": (34, F32, None), "TotWhExp": (60, F32, None), "TotWhImp": (68, F32, None),
}  # fmt: skip

# sunspec/models json/model_701.json (DER AC measurement), integer + SF, L = 153
MODEL_701_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "St": (3, U16, None), "InvSt": (4, U16, None), "W": (10, S16, "W_SF"),
    "A": (14, S16, "A_SF"), "LNV": (16, U16, "V_SF"), "Hz": (17, U32, "Hz_SF"),
    "TotWhInj": (19, U64, "TotWh_SF"), "TotWhAbs": (23, U64, "TotWh_SF"),
    "TmpCab": (36, S16, "Tmp_SF"), "WL1": (41, S16, "W_SF"), "AL1": (45, S16, "A_SF"),
    "VL1": (47, U16, "V_SF"), "WL2": (64, S16, "W_SF"), "AL2": (68, S16, "A_SF"),
    "VL2": (70, U16, "V_SF"), "WL3": (87, S16, "W_SF"), "AL3": (91, S16, "A_SF"),
    "VL3": (93, U16, "V_SF"), "A_SF": (113, S16, None), "V_SF": (114, S16, None),
    "Hz_SF": (115, S16, None), "W_SF": (116, S16, None), "TotWh_SF": (120, S16, None),
    "Tmp_SF": (122, S16, None),
}  # fmt: skip

# sunspec/models json/model_713.json (DER storage capacity), integer + SF, L = 7
MODEL_713_POINTS: dict[str, tuple[int, DataType, str | None]] = {
    "WHRtg": (2, U16, "WH_SF"), "WHAvail": (3, U16, "WH_SF"), "SoC": (4, U16, "Pct_SF"),
    "SoH": (5, U16, "Pct_SF"), "Sta": (6, U16, None), "WH_SF": (7, S16, None),
    "Pct_SF": (8, S16, None),
}  # fmt: skip


def model_160_points(modules: int) -> dict[str, tuple[int, DataType, str | None]]:
    """Points of a model 160 (multiple MPPT) with ``modules`` modules (sunspec/models
    json/model_160.json; MODBUS-MAPS §1.6): the module points are named ``DCW_1`` … for
    module 1 …, each module 20 registers from +10."""
    points: dict[str, tuple[int, DataType, str | None]] = {
        "DCA_SF": (2, S16, None), "DCV_SF": (3, S16, None), "DCW_SF": (4, S16, None),
        "DCWH_SF": (5, S16, None), "Evt": (6, U32, None), "N": (8, U16, None),
        "TmsPer": (9, U16, None),
    }  # fmt: skip
    for module in range(1, modules + 1):
        start = 10 + 20 * (module - 1)
        points |= {
            f"ID_{module}": (start, U16, None), f"DCA_{module}": (start + 9, U16, "DCA_SF"),
            f"DCV_{module}": (start + 10, U16, "DCV_SF"),
            f"DCW_{module}": (start + 11, U16, "DCW_SF"),
            f"DCWH_{module}": (start + 12, U32, "DCWH_SF"),
            f"Tmp_{module}": (start + 16, S16, None), f"DCSt_{module}": (start + 17, U16, None),
        }  # fmt: skip
    return points


SUNSPEC_MODEL_POINTS = {
    701: MODEL_701_POINTS,
    713: MODEL_713_POINTS,
    **dict.fromkeys((101, 102, 103), MODEL_103_POINTS),
    **dict.fromkeys((111, 112, 113), MODEL_113_POINTS),
    **dict.fromkeys((201, 202, 203, 204), MODEL_203_POINTS),
    **dict.fromkeys((211, 212, 213, 214), MODEL_213_POINTS),
}
SUNSPEC_MODEL_LENGTH = {
    701: 153,
    713: 7,
    **dict.fromkeys((101, 102, 103), 50),
    **dict.fromkeys((111, 112, 113), 60),
    **dict.fromkeys((201, 202, 203, 204), 105),
    **dict.fromkeys((211, 212, 213, 214), 124),
}
# scale factors the simulated devices use (engineering value = raw × 10^SF)
DEFAULT_SCALE_FACTORS = {
    "A_SF": -2, "V_SF": -1, "W_SF": 0, "Hz_SF": -2, "VA_SF": 0, "VAr_SF": 0, "PF_SF": -2,
    "WH_SF": 0, "DCA_SF": -2, "DCV_SF": -1, "DCW_SF": 0, "Tmp_SF": -1, "TotWh_SF": 0,
    "DCWH_SF": 0, "Pct_SF": -1,
}  # fmt: skip


class SunSpecModelImage:
    """One model of a :class:`SunSpecSimulator`; ``set`` points by their SunSpec name."""

    def __init__(
        self,
        sim: ModbusSimulator,
        model_id: int,
        address: int,
        points: dict[str, tuple[int, DataType, str | None]] | None = None,
        length: int | None = None,
    ) -> None:
        """Model ``model_id`` whose ID register is at ``address`` (``points`` and
        ``length`` for a model with repeating groups, such as 160)."""
        self.sim = sim
        self.model_id = model_id
        self.address = address
        self.length = length or SUNSPEC_MODEL_LENGTH[model_id]
        self.points = points or SUNSPEC_MODEL_POINTS[model_id]

    def point_address(self, point: str) -> int:
        """Wire address of ``point``."""
        return self.address + self.points[point][0]

    def set(self, point: str, value: float | None) -> None:
        """Set ``point`` in engineering units (``None``: the "not implemented" sentinel)."""
        offset, data_type, sf_point = self.points[point]
        if value is None:
            if data_type is F32:
                self.sim.set_value(self.address + offset, math.nan, F32)
            else:
                self.sim.set_value(
                    self.address + offset, _SENTINEL[data_type], _UNSIGNED[data_type]
                )
            return
        raw = value
        if sf_point is not None:
            (sf_word,) = self.sim.get_registers(self.address + self.points[sf_point][0], 1)
            sf = sf_word - 0x10000 if sf_word & 0x8000 else sf_word
            raw = round(value / 10**sf)
        self.sim.set_value(self.address + offset, raw, data_type)

    def set_raw(self, point: str, words: list[int]) -> None:
        """Write raw words at ``point`` (e.g. a scale factor out of range)."""
        self.sim.set_registers(self.point_address(point), words)


class SunSpecSimulator(ModbusSimulator):
    """A SunSpec device: ``SunS``, common model 1, an inverter, a meter, the end marker.

    ``base``: 40000, 50000 or 0. ``common_length``: 65 (SolarEdge, Fronius) or 66 (with Pad).
    ``inverter_model`` (101–103, 111–113) / ``meter_model`` (201–204, 211–214): ``None``
    leaves the model out. Identity strings: ``manufacturer``, ``model``, ``serial``.
    ``meter_identity``: (model, serial) of a common model 1 (L = 65) placed right before the
    meter model, as SolarEdge does for the meters behind its inverters.
    ``mppt_modules``: a model 160 (multiple MPPT, L = 8 + 20 × N) with that many modules
    right after the inverter model (as SolarEdge Synergy and Fronius place it), image
    ``sim.mppt`` (points ``DCW_1``, ``DCV_2``…); ``storage``: a model 713 (DER storage
    capacity) after it, image ``sim.storage``.
    """

    def __init__(
        self,
        *,
        base: int = 40000,
        common_length: int = 66,
        inverter_model: int | None = 103,
        meter_model: int | None = 203,
        manufacturer: str = "CER Simulated",
        model: str = "SunSpec Sim 6000",
        serial: str = "SIM-INV-0001",
        version: str = "1.2.3",
        meter_identity: tuple[str, str] | None = None,
        mppt_modules: int = 0,
        storage: bool = False,
        port: int | None = None,
    ) -> None:
        """Lay out the model chain and fill realistic values."""
        super().__init__(port=port)
        self.base = base
        self.set_registers(base, [0x5375, 0x6E53])  # "SunS"
        address = base + 2
        self.common_address = address
        self._common(address, common_length, manufacturer, model, serial, version)
        address += common_length + 2
        self.inverter: SunSpecModelImage | None = None
        self.meter: SunSpecModelImage | None = None
        self.mppt: SunSpecModelImage | None = None
        self.storage: SunSpecModelImage | None = None
        self.mppt_modules = mppt_modules
        chain = (
            (inverter_model, "inverter"),
            (160 if mppt_modules else None, "mppt"),
            (713 if storage else None, "storage"),
            (meter_model, "meter"),
        )
        for model_id, kind in chain:
            if model_id is None:
                continue
            if kind == "meter" and meter_identity is not None:
                self._common(address, 65, manufacturer, *meter_identity, version)
                address += 65 + 2
            if kind == "mppt":
                address = self._lay_model(
                    kind, 160, address, model_160_points(mppt_modules), 8 + 20 * mppt_modules
                )
                continue
            address = self._lay_model(kind, model_id, address)
        self.end_address = address
        self.set_registers(address, [0xFFFF, 0])
        self._fill_defaults()

    def _lay_model(
        self,
        kind: str,
        model_id: int,
        address: int,
        points: dict[str, tuple[int, DataType, str | None]] | None = None,
        length: int | None = None,
    ) -> int:
        """Write model ``model_id`` (header, sentinels, scale factors) at ``address`` as the
        ``kind`` ("inverter", "meter", "mppt", "storage") image; the address after it."""
        image = SunSpecModelImage(self, model_id, address, points, length)
        length = image.length
        self.set_registers(address, [model_id, length, *([0] * length)])
        for name, (_, data_type, _) in image.points.items():
            if name.endswith("_SF"):
                image.set(name, DEFAULT_SCALE_FACTORS[name])
            elif data_type is not F32:
                image.set(name, None)
        setattr(self, kind, image)
        return address + length + 2

    def replace_model(self, kind: str, model_id: int) -> None:
        """While running, put ``model_id`` where the ``kind`` model is (a firmware update or
        a setting switching float and integer models), with the default values and the end
        marker right after it. The new model must not be longer than the old one."""
        old: SunSpecModelImage | None = getattr(self, kind)
        if old is None:
            raise ValueError(f"no {kind} model to replace")
        if SUNSPEC_MODEL_LENGTH[model_id] > old.length:
            raise ValueError("the new model must fit where the old one was")
        end = self._lay_model(kind, model_id, old.address)
        self.set_registers(end, [0xFFFF, 0])
        self._fill_defaults()

    def _common(  # noqa: PLR0917 - the five strings of model 1
        self, address: int, length: int, manufacturer: str, model: str, serial: str, version: str
    ) -> None:
        """A common model 1 at ``address`` with ``L = length`` (65, or 66 with Pad)."""
        common = [1, length, *encode_string(manufacturer, 16)]
        common += encode_string(model, 16) + encode_string("", 8) + encode_string(version, 8)
        common += [*encode_string(serial, 16), 1]  # SN, DA
        common += [0] * (length + 2 - len(common))  # Pad when L = 66
        self.set_registers(address, common)

    def _fill_defaults(self) -> None:
        """A sunny afternoon: 3-phase 230 V, inverter producing, grid exporting."""
        if self.inverter is not None:
            inverter = self.inverter
            for point, value in {
                "AphA": 8.5, "AphB": 8.6, "AphC": 8.4, "PhVphA": 230.1, "PhVphB": 229.8,
                "PhVphC": 231.0, "W": 5800, "Hz": 50.01, "WH": 12_345_678, "DCW": 6000,
                "TmpCab": 41.5, "St": 4,
                # model 701's own names (W, Hz, TmpCab as above); InvSt 3 = RUNNING
                "AL1": 8.5, "AL2": 8.6, "AL3": 8.4, "VL1": 230.1, "VL2": 229.8, "VL3": 231.0,
                "WL1": 1930, "WL2": 1935, "WL3": 1935, "TotWhInj": 12_345_678, "InvSt": 3,
            }.items():  # fmt: skip
                if point in inverter.points:
                    inverter.set(point, value)
        if self.mppt is not None:
            mppt = self.mppt
            modules = self.mppt_modules
            mppt.set("N", modules)
            # two strings on a sunny afternoon (DCW is a uint16 in model 160)
            for module in range(1, modules + 1):
                for point, value in {
                    "ID": module, "DCA": 8.25 - 0.5 * (module - 1),
                    "DCV": 380.5 - 15 * (module - 1), "DCW": 3140 - 250 * (module - 1),
                    "DCWH": 6_000_000 + module, "DCSt": 4,
                }.items():  # fmt: skip
                    mppt.set(f"{point}_{module}", value)
        if self.storage is not None:
            for point, value in {
                "WHRtg": 10_000, "WHAvail": 8_750, "SoC": 87.5, "SoH": 100, "Sta": 0,
            }.items():  # fmt: skip
                self.storage.set(point, value)
        if self.meter is not None:
            meter = self.meter
            for point, value in {
                "AphA": 2.5, "AphB": 2.4, "AphC": 2.6, "PhVphA": 230.0, "PhVphB": 231.0,
                "PhVphC": 229.0, "Hz": 50.0, "W": -1500, "WphA": -500, "WphB": -520,
                "WphC": -480, "TotWhExp": 4_000_000, "TotWhImp": 2_500_000,
            }.items():  # fmt: skip
                if point in meter.points:
                    meter.set(point, value)


# --- Eastron SDM630 / SDM120: input registers, float32 high word first ------------------------

# Eastron protocol PDFs (sdm630_modbus_protocol_v2.0.pdf): name → FC4 address; values in the
# meter's units (V, A, W, Hz, kWh).
SDM630_POINTS: dict[str, int] = {
    "voltage_l1": 0x0000, "voltage_l2": 0x0002, "voltage_l3": 0x0004,
    "current_l1": 0x0006, "current_l2": 0x0008, "current_l3": 0x000A,
    "power_l1": 0x000C, "power_l2": 0x000E, "power_l3": 0x0010,
    "total_power": 0x0034, "frequency": 0x0046,
    "kwh_import": 0x0048, "kwh_export": 0x004A, "kwh_total": 0x0156,
}  # fmt: skip
# sdm120_modbus_protocol_v2.5.pdf
SDM120_POINTS: dict[str, int] = {
    "voltage": 0x0000, "current": 0x0006, "power": 0x000C, "frequency": 0x0046,
    "kwh_import": 0x0048, "kwh_export": 0x004A, "kwh_total": 0x0156,
}  # fmt: skip


class EastronSimulator(ModbusSimulator):
    """Eastron meter: input registers 0x0000–0x004B and 0x0156–0x0165 (float32), serial at
    holding 0xFC00 (uint32); nothing in between (reads there get "illegal data address")."""

    POINTS: ClassVar[dict[str, int]] = SDM630_POINTS
    DEFAULTS: ClassVar[dict[str, float]] = {}

    def __init__(self, *, serial: int = 20260001, port: int | None = None) -> None:
        """All measurements 0.0, then the defaults."""
        super().__init__(port=port)
        for address in (*range(0x0000, 0x004C, 2), *range(0x0156, 0x0166, 2)):
            self.set_value(address, 0.0, F32, function="input")
        self.set_value(0xFC00, serial, U32)
        for name, value in self.DEFAULTS.items():
            self.set(name, value)

    def set(self, name: str, value: float) -> None:
        """Set a point of ``POINTS`` in the meter's units."""
        self.set_value(self.POINTS[name], value, F32, function="input")


class Sdm630Simulator(EastronSimulator):
    """Eastron SDM630, three-phase."""

    POINTS = SDM630_POINTS
    DEFAULTS: ClassVar[dict[str, float]] = {
        "voltage_l1": 230.5, "voltage_l2": 231.5, "voltage_l3": 229.5,
        "current_l1": 5.0, "current_l2": 4.0, "current_l3": 3.0,
        "power_l1": 1100.0, "power_l2": 900.0, "power_l3": 700.0, "total_power": 2700.0,
        "frequency": 50.0, "kwh_import": 12345.5, "kwh_export": 678.25, "kwh_total": 13023.75,
    }  # fmt: skip


class Sdm120Simulator(EastronSimulator):
    """Eastron SDM120, single-phase."""

    POINTS = SDM120_POINTS
    DEFAULTS: ClassVar[dict[str, float]] = {
        "voltage": 229.5, "current": 1.5, "power": 320.0, "frequency": 49.98,
        "kwh_import": 1500.5, "kwh_export": 0.0, "kwh_total": 1500.5,
    }  # fmt: skip


# --- Carlo Gavazzi EM24 Ethernet: holding registers, INT32 least significant word first -------

# victronenergy/dbus-modbus-client carlo_gavazzi.py; volkszaehler/mbmd carlogavazzi-em24_e1.go:
# name → (address, type, divisor): value on the wire = meter unit × divisor.
EM24_POINTS: dict[str, tuple[int, DataType, int]] = {
    "voltage_l1": (0x0000, S32, 10), "voltage_l2": (0x0002, S32, 10),
    "voltage_l3": (0x0004, S32, 10),
    "current_l1": (0x000C, S32, 1000), "current_l2": (0x000E, S32, 1000),
    "current_l3": (0x0010, S32, 1000),
    "power_l1": (0x0012, S32, 10), "power_l2": (0x0014, S32, 10), "power_l3": (0x0016, S32, 10),
    "power": (0x0028, S32, 10), "frequency": (0x0033, U16, 10),
    "kwh_import": (0x0034, S32, 10), "kwh_export": (0x004E, S32, 10),
}  # fmt: skip


class Em24Simulator(ModbusSimulator):
    """Carlo Gavazzi EM24 Ethernet: 0x0000–0x0035 and 0x004E–0x004F, model code at 0x000B,
    serial text at 0x5000 (7 registers)."""

    DEFAULTS: ClassVar[dict[str, float]] = {
        "voltage_l1": 231.2, "voltage_l2": 230.4, "voltage_l3": 229.9,
        "current_l1": 3.125, "current_l2": 2.5, "current_l3": 1.75,
        "power_l1": -600.5, "power_l2": -500.0, "power_l3": -400.0, "power": -1500.5,
        "frequency": 50.1, "kwh_import": 9876.5, "kwh_export": 4321.0,
    }  # fmt: skip

    def __init__(
        self,
        *,
        serial: str = "BX1234567",
        model_code: int = 1651,
        port: int | None = None,
        with_export: bool = True,
    ) -> None:
        """Every register of the blocks 0, then the defaults.

        ``with_export=False``: a variant without the kWh(−) register 0x004E (reads of it get
        exception 2, "illegal data address", as evcc issue #31143 reports).
        """
        super().__init__(port=port)
        self.set_registers(0x0000, [0] * 0x36)
        if with_export:
            self.set_registers(0x004E, [0, 0])
        self.set_registers(0x000B, [model_code])
        self.set_registers(0x5000, encode_string(serial, 7))
        for name, value in self.DEFAULTS.items():
            if with_export or name != "kwh_export":
                self.set(name, value)

    def set(self, name: str, value: float) -> None:
        """Set a point of ``EM24_POINTS`` in the meter's units (V, A, W, Hz, kWh)."""
        address, data_type, divisor = EM24_POINTS[name]
        self.set_value(address, round(value * divisor), data_type, WordOrder.LITTLE)


# --- a hand-written Modbus TCP server, for misbehaviour pymodbus servers cannot play --------


class HandWrittenModbusServer:
    """A minimal Modbus TCP server (FC3/FC4 only) written with ``asyncio`` streams.

    Each unit id has a behaviour, changeable while it runs: ``"answer"`` (registers from
    ``registers``, 0 where unset), ``"silent"`` (reads the request, never answers: a unit a
    gateway cannot reach), ``"close"`` (closes the session when it gets a request: a device
    dropping the connection in the middle of a request), ``"exception:N"`` (exception code
    N). Units not listed are silent. Counts connections and requests per unit.
    """

    def __init__(
        self, behaviour: Mapping[int, str], registers: Mapping[int, int] | None = None
    ) -> None:
        """Prepare the server; nothing listens until :meth:`start`."""
        self.host = HOST
        self.port = 0
        self.behaviour = dict(behaviour)
        self.registers = dict(registers or {})
        self.connections = 0
        self.requests: dict[int, int] = {}
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _pid, length, unit = (
                    int.from_bytes(header[0:2], "big"),
                    header[2:4],
                    int.from_bytes(header[4:6], "big"),
                    header[6],
                )
                pdu = await reader.readexactly(length - 1)
                self.requests[unit] = self.requests.get(unit, 0) + 1
                mode = self.behaviour.get(unit, "silent")
                if mode == "silent":
                    continue
                if mode == "close":
                    break
                function = pdu[0]
                if mode.startswith("exception:"):
                    answer = bytes([function | 0x80, int(mode.split(":")[1])])
                else:
                    address = int.from_bytes(pdu[1:3], "big")
                    count = int.from_bytes(pdu[3:5], "big")
                    words = [self.registers.get(address + i, 0) for i in range(count)]
                    data = b"".join(word.to_bytes(2, "big") for word in words)
                    answer = bytes([function, len(data)]) + data
                frame = tid.to_bytes(2, "big") + b"\x00\x00"
                frame += (len(answer) + 1).to_bytes(2, "big") + bytes([unit]) + answer
                writer.write(frame)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every session."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> HandWrittenModbusServer:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()


# --- serial RTU over a pseudo-terminal pair ----------------------------------------------------


class PtyPair:
    """Two pseudo-terminals joined back to back (what ``socat pty pty`` does), in-process.

    ``device_path`` is the simulated meter's end, ``client_path`` the integration's: bytes
    written on one come out of the other. The relay runs on the event loop.
    """

    def __init__(self) -> None:
        """Open both terminals in raw mode (no echo, no line discipline)."""
        import os  # noqa: PLC0415
        import tty  # noqa: PLC0415

        self._os = os
        self._masters: list[int] = []
        self._slaves: list[int] = []
        self.paths: list[str] = []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            tty.setraw(master)
            self._masters.append(master)
            self._slaves.append(slave)
            self.paths.append(os.ttyname(slave))
        self.device_path, self.client_path = self.paths
        self._loop: asyncio.AbstractEventLoop | None = None

    def _relay(self, source: int, target: int) -> None:
        try:
            data = self._os.read(source, 4096)
        except OSError:
            return
        if data:
            self._os.write(target, data)

    def start(self) -> None:
        """Relay bytes both ways on the running loop."""
        self._loop = asyncio.get_running_loop()
        first, second = self._masters
        self._loop.add_reader(first, self._relay, first, second)
        self._loop.add_reader(second, self._relay, second, first)

    def close(self) -> None:
        """Stop relaying and close every descriptor."""
        if self._loop is not None:
            for master in self._masters:
                self._loop.remove_reader(master)
        for fd in (*self._masters, *self._slaves):
            with contextlib.suppress(OSError):
                self._os.close(fd)


class SerialSimulator(ModbusSimulator):
    """A real pymodbus **serial RTU** server on the device end of a :class:`PtyPair`.

    Same register image and ``set`` helpers as :class:`ModbusSimulator`; the client connects
    to ``client_path`` with ``baudrate`` (8 data bits, ``parity``, ``stopbits``).
    """

    def __init__(
        self,
        holding: Mapping[int, int] | None = None,
        input: Mapping[int, int] | None = None,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
    ) -> None:
        """Prepare the image and the terminals; nothing runs until :meth:`start`."""
        super().__init__(holding, input, port=1)
        self.baudrate = baudrate
        self.parity = parity
        self.stopbits = stopbits
        self.pty = PtyPair()
        self.client_path = self.pty.client_path

    async def start(self) -> None:
        """Serve the image as an RTU device on the terminal."""
        if self.running:
            return
        from pymodbus.server import ModbusSerialServer  # noqa: PLC0415

        self.pty.start()
        server = ModbusSerialServer(
            self._context(),
            port=self.pty.device_path,
            baudrate=self.baudrate,
            parity=self.parity,
            stopbits=self.stopbits,
            bytesize=8,
        )
        if "background" in inspect.signature(server.serve_forever).parameters:
            await server.serve_forever(background=True)
        else:
            self._task = asyncio.create_task(server.serve_forever())
            await asyncio.sleep(0.2)
            if self._task.done():
                await self._task
        self._server = server

    async def stop(self) -> None:
        """Stop the server and close the terminals."""
        await super().stop()
        self.pty.close()
