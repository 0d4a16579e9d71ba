"""Device profiles as data: which registers hold which quantity, and how to decode them.

Every row cites its source as recorded in ``MODBUS-MAPS.md`` of the project (verified maps;
rows marked *unverified* there are not shipped here). Addresses are **wire addresses**
(0-based, what goes in the request). ``scale`` converts the raw number to the unit of the
:class:`~.quantities.Quantity` (e.g. kWh ÷ 10 on the wire → Wh is ``scale=100``).

Sign conventions are those of :mod:`.quantities` (grid meter: import positive); a profile
undoes a vendor convention with a negative ``scale``. Installations that wire a meter or CT
the other way round set the per-device option ``invert_power``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .decode import REGISTER_COUNT, SUNSPEC_NOT_IMPLEMENTED, DataType, WordOrder
from .planner import MAX_REGISTERS_PER_READ, RegisterFunction, RegisterSpan
from .quantities import Quantity, per_module

HOLDING = RegisterFunction.HOLDING
INPUT = RegisterFunction.INPUT


@dataclass(frozen=True, slots=True)
class Field:
    """One value of a profile: where it is and how to turn its words into the quantity.

    value = raw × ``scale`` × 10 ^ (the int16 at ``scale_factor``, if given: SunSpec ``_SF``).
    A raw value in ``not_implemented`` (compared as the unsigned integer of the words), a NaN
    float, or a SunSpec scale factor outside −10…10 gives ``None``. An ``optional`` field that
    the device refuses (illegal data address) is read as ``None`` and not asked again.
    """

    quantity: Quantity
    address: int
    data_type: DataType
    function: RegisterFunction = HOLDING
    word_order: WordOrder = WordOrder.BIG
    scale: float = 1.0
    scale_factor: int | None = None
    not_implemented: frozenset[int] = frozenset()
    optional: bool = False
    offset: int = 0
    """Added after scaling: SunSpec 701 counts its inverter states from 0, 103 from 1."""

    @property
    def count(self) -> int:
        """Registers occupied by the value."""
        return REGISTER_COUNT[self.data_type]

    def spans(self) -> list[RegisterSpan]:
        """Registers to read for this value (with its scale factor register)."""
        spans = [RegisterSpan(self.function, self.address, self.count)]
        if self.scale_factor is not None:
            spans.append(RegisterSpan(self.function, self.scale_factor, 1))
        return spans

    def shifted(self, offset: int) -> Field:
        """The same field ``offset`` registers further (SunSpec offsets → addresses)."""
        return replace(
            self,
            address=self.address + offset,
            scale_factor=None if self.scale_factor is None else self.scale_factor + offset,
        )


@dataclass(frozen=True, slots=True)
class InfoField:
    """A static register read once at setup for the device information."""

    name: str  # "model", "serial_number", "sw_version", "model_code"
    address: int
    count: int
    function: RegisterFunction = HOLDING
    data_type: DataType = DataType.STRING
    word_order: WordOrder = WordOrder.BIG


@dataclass(frozen=True, slots=True)
class Profile:
    """A device type: its fields, device information and request limits.

    ``sunspec`` and ``generic`` have no fixed fields: they come from the detected model chain
    and from the user's register map, respectively.
    """

    id: str
    name: str
    manufacturer: str | None
    model: str | None
    fields: tuple[Field, ...] = ()
    info_fields: tuple[InfoField, ...] = ()
    max_registers: int = MAX_REGISTERS_PER_READ
    max_gap: int = 16
    unreadable: tuple[RegisterSpan, ...] = ()
    description: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def _sunspec(
    quantity: Quantity,
    offset: int,
    data_type: DataType,
    sf: int | None = None,
    *,
    acc: bool = False,
    value_offset: int = 0,
) -> Field:
    """A SunSpec point at ``offset`` from its model's ID register, with the type's sentinel.

    ``acc``: an accumulator (acc32; the uint64 counters of model 701), whose "not
    implemented" value is 0, besides the type's own sentinel (all ones for 701's uint64).
    ``value_offset``: added to the value (state numbering of another model).
    """
    return Field(
        quantity,
        offset,
        data_type,
        scale_factor=sf,
        not_implemented=(
            frozenset({0}) | SUNSPEC_NOT_IMPLEMENTED[data_type]
            if acc
            else SUNSPEC_NOT_IMPLEMENTED[data_type]
        ),
        offset=value_offset,
    )


U16, S16, U32, S32, F32 = DataType.U16, DataType.S16, DataType.U32, DataType.S32, DataType.F32
U64 = DataType.U64
Q = Quantity

# --- SunSpec, offsets from the model's ID register -------------------------------------------

#: Inverter models 101/102/103, integer + SF, L = 50 (sunspec/models json/model_103.json;
#: 101 and 102 have the same offsets, unused phases hold the sentinel).
SUNSPEC_INVERTER_INT: tuple[Field, ...] = (
    _sunspec(Q.CURRENT_L1, 3, U16, 6),  # AphA, A_SF +6
    _sunspec(Q.CURRENT_L2, 4, U16, 6),  # AphB
    _sunspec(Q.CURRENT_L3, 5, U16, 6),  # AphC
    _sunspec(Q.VOLTAGE_L1, 10, U16, 13),  # PhVphA, V_SF +13
    _sunspec(Q.VOLTAGE_L2, 11, U16, 13),  # PhVphB
    _sunspec(Q.VOLTAGE_L3, 12, U16, 13),  # PhVphC
    _sunspec(Q.ACTIVE_POWER, 14, S16, 15),  # W, + = AC output (evcc sunspec-inverter.yaml)
    _sunspec(Q.FREQUENCY, 16, U16, 17),  # Hz is uint16 in 103 (0xFFFF sentinel)
    _sunspec(Q.ENERGY_PRODUCED, 24, U32, 26, acc=True),  # WH acc32, WH_SF +26
    _sunspec(Q.DC_POWER, 31, S16, 32),  # DCW, DCW_SF +32
    _sunspec(Q.TEMPERATURE, 33, S16, 37),  # TmpCab, Tmp_SF +37
    _sunspec(Q.INVERTER_STATE, 38, U16),  # St enum16: 1 OFF … 8 STANDBY
)

#: Inverter models 111/112/113, float32 BE, no SF, L = 60 (sunspec/models json/model_113.json).
SUNSPEC_INVERTER_FLOAT: tuple[Field, ...] = (
    _sunspec(Q.CURRENT_L1, 4, F32),  # AphA
    _sunspec(Q.CURRENT_L2, 6, F32),  # AphB
    _sunspec(Q.CURRENT_L3, 8, F32),  # AphC
    _sunspec(Q.VOLTAGE_L1, 16, F32),  # PhVphA
    _sunspec(Q.VOLTAGE_L2, 18, F32),  # PhVphB
    _sunspec(Q.VOLTAGE_L3, 20, F32),  # PhVphC
    _sunspec(Q.ACTIVE_POWER, 22, F32),  # W
    _sunspec(Q.FREQUENCY, 24, F32),  # Hz
    _sunspec(Q.ENERGY_PRODUCED, 32, F32),  # WH (Wh)
    _sunspec(Q.DC_POWER, 38, F32),  # DCW
    _sunspec(Q.TEMPERATURE, 40, F32),  # TmpCab
    _sunspec(Q.INVERTER_STATE, 48, U16),  # St enum16
)

#: Model 701, DER AC measurement (newer inverters, e.g. SMA ennexOS), integer + SF, L = 153
#: (sunspec/models json/model_701.json): +0…+122 is one read of 123 registers. InvSt counts
#: OFF = 0 … STANDBY = 7, one less than 103's St: shifted to the same states.
SUNSPEC_DER_AC: tuple[Field, ...] = (
    _sunspec(Q.ACTIVE_POWER, 10, S16, 116),  # W, W_SF +116
    _sunspec(Q.FREQUENCY, 17, U32, 115),  # Hz uint32, Hz_SF +115
    _sunspec(Q.ENERGY_PRODUCED, 19, U64, 120, acc=True),  # TotWhInj, TotWh_SF +120
    _sunspec(Q.TEMPERATURE, 36, S16, 122),  # TmpCab, Tmp_SF +122
    _sunspec(Q.POWER_L1, 41, S16, 116),  # WL1
    _sunspec(Q.CURRENT_L1, 45, S16, 113),  # AL1, A_SF +113
    _sunspec(Q.VOLTAGE_L1, 47, U16, 114),  # VL1, V_SF +114
    _sunspec(Q.POWER_L2, 64, S16, 116),  # WL2
    _sunspec(Q.CURRENT_L2, 68, S16, 113),  # AL2
    _sunspec(Q.VOLTAGE_L2, 70, U16, 114),  # VL2
    _sunspec(Q.POWER_L3, 87, S16, 116),  # WL3
    _sunspec(Q.CURRENT_L3, 91, S16, 113),  # AL3
    _sunspec(Q.VOLTAGE_L3, 93, U16, 114),  # VL3
    _sunspec(Q.INVERTER_STATE, 4, U16, value_offset=1),  # InvSt enum16, 0 OFF … 7 STANDBY
)

#: Meter models 201/202/203/204, integer + SF, L = 105 (sunspec/models json/model_203.json).
#: W: + = import at the grid point (evcc sunspec-meter.yaml); SolarEdge meters are inverted
#: (solaredge-modbus-multi issue #69): see ``SunSpecModel.invert_power_default``.
SUNSPEC_METER_INT: tuple[Field, ...] = (
    _sunspec(Q.CURRENT_L1, 3, S16, 6),  # AphA int16 in 203, A_SF +6
    _sunspec(Q.CURRENT_L2, 4, S16, 6),
    _sunspec(Q.CURRENT_L3, 5, S16, 6),
    _sunspec(Q.VOLTAGE_L1, 8, S16, 15),  # PhVphA, V_SF +15
    _sunspec(Q.VOLTAGE_L2, 9, S16, 15),
    _sunspec(Q.VOLTAGE_L3, 10, S16, 15),
    _sunspec(Q.FREQUENCY, 16, S16, 17),  # Hz is int16 in 203 (0x8000 sentinel)
    _sunspec(Q.ACTIVE_POWER, 18, S16, 22),  # W, W_SF +22
    _sunspec(Q.POWER_L1, 19, S16, 22),  # WphA
    _sunspec(Q.POWER_L2, 20, S16, 22),
    _sunspec(Q.POWER_L3, 21, S16, 22),
    _sunspec(Q.ENERGY_EXPORTED, 38, U32, 54, acc=True),  # TotWhExp acc32, TotWh_SF +54
    _sunspec(Q.ENERGY_IMPORTED, 46, U32, 54, acc=True),  # TotWhImp acc32
)

#: Meter models 211/212/213/214, float32 BE, L = 124: the whole model (126 registers) does
#: not fit one read; only +4…+69 is needed (sunspec/models json/model_213.json).
SUNSPEC_METER_FLOAT: tuple[Field, ...] = (
    _sunspec(Q.CURRENT_L1, 4, F32),  # AphA
    _sunspec(Q.CURRENT_L2, 6, F32),
    _sunspec(Q.CURRENT_L3, 8, F32),
    _sunspec(Q.VOLTAGE_L1, 12, F32),  # PhVphA
    _sunspec(Q.VOLTAGE_L2, 14, F32),
    _sunspec(Q.VOLTAGE_L3, 16, F32),
    _sunspec(Q.FREQUENCY, 26, F32),  # Hz
    _sunspec(Q.ACTIVE_POWER, 28, F32),  # W
    _sunspec(Q.POWER_L1, 30, F32),  # WphA
    _sunspec(Q.POWER_L2, 32, F32),
    _sunspec(Q.POWER_L3, 34, F32),
    _sunspec(Q.ENERGY_EXPORTED, 60, F32),  # TotWhExp
    _sunspec(Q.ENERGY_IMPORTED, 68, F32),  # TotWhImp
)


@dataclass(frozen=True, slots=True)
class RepeatingBlock:
    """A SunSpec group repeated to the end of its model (the modules of model 160).

    ``fields`` are those of the first repetition: their offsets count from the model's ID
    register, their scale factors are the model's own (shared by every repetition). The
    n-th repetition (from 1) is ``size`` × (n − 1) registers further and gives the
    quantities of input n (:func:`~.quantities.per_module`).
    """

    start: int
    """Offset of the first repetition from the model's ID register."""
    size: int
    fields: tuple[Field, ...]

    def count(self, length: int) -> int:
        """Repetitions in a model of length ``L``: those that fit whole after the fixed
        points, as pysunspec2 counts a group whose count is 0 (``sunspec2/device.py``)."""
        return max(0, (length + 2 - self.start) // self.size)

    def expand(self, length: int) -> tuple[Field, ...]:
        """The fields of every repetition of a model of length ``L``."""
        return tuple(
            replace(
                field,
                quantity=per_module(field.quantity, index + 1),
                address=field.address + index * self.size,
            )
            for index in range(self.count(length))
            for field in self.fields
        )


@dataclass(frozen=True, slots=True)
class SunSpecModelMap:
    """What this library reads from a SunSpec model.

    ``kind``: ``inverter`` or ``meter`` (a device of its own), or ``extension``: read with
    the inverter model of the same unit, as diagnostics (strings, storage).
    """

    kind: str
    fields: tuple[Field, ...]
    repeating: RepeatingBlock | None = None

    def fields_for(self, length: int) -> tuple[Field, ...]:
        """The fields of a model of length ``L`` (with its repetitions)."""
        if self.repeating is None:
            return self.fields
        return self.fields + self.repeating.expand(length)


#: Model 160, multiple MPPT inverter extension, integer + SF, L = 8 + 20 × N
#: (sunspec/models json/model_160.json; MODBUS-MAPS §1.6). Module k (from 0) at
#: +10 + 20k; DCA_SF, DCV_SF, DCW_SF at +2, +3, +4 are shared by every module.
SUNSPEC_MPPT_MODULES = RepeatingBlock(
    start=10,
    size=20,
    fields=(
        _sunspec(Q.DC_CURRENT, 19, U16, 2),  # module 0 DCA, DCA_SF +2
        _sunspec(Q.DC_VOLTAGE, 20, U16, 3),  # module 0 DCV, DCV_SF +3
        _sunspec(Q.DC_POWER, 21, U16, 4),  # module 0 DCW (uint16), DCW_SF +4
    ),
)

#: Model 713, DER storage capacity, integer + SF, L = 7
#: (sunspec/models json/model_713.json): WHRtg +2, WHAvail +3, SoC +4, SoH +5, Sta +6,
#: WH_SF +7, Pct_SF +8.
SUNSPEC_STORAGE_CAPACITY: tuple[Field, ...] = (
    _sunspec(Q.STORED_ENERGY, 3, U16, 7),  # WHAvail, WH_SF +7
    _sunspec(Q.STATE_OF_CHARGE, 4, U16, 8),  # SoC, Pct_SF +8
)

#: SunSpec model id → fields (offsets from the model's ID register).
SUNSPEC_MODELS: dict[int, SunSpecModelMap] = {
    **dict.fromkeys((101, 102, 103), SunSpecModelMap("inverter", SUNSPEC_INVERTER_INT)),
    **dict.fromkeys((111, 112, 113), SunSpecModelMap("inverter", SUNSPEC_INVERTER_FLOAT)),
    701: SunSpecModelMap("inverter", SUNSPEC_DER_AC),
    **dict.fromkeys((201, 202, 203, 204), SunSpecModelMap("meter", SUNSPEC_METER_INT)),
    **dict.fromkeys((211, 212, 213, 214), SunSpecModelMap("meter", SUNSPEC_METER_FLOAT)),
    160: SunSpecModelMap("extension", (), SUNSPEC_MPPT_MODULES),
    713: SunSpecModelMap("extension", SUNSPEC_STORAGE_CAPACITY),
}

#: Model 1 (common) point offsets from its ID register, sizes in registers
#: (sunspec/models json/model_1.json; SolarEdge technical note v3.2).
SUNSPEC_COMMON_POINTS: dict[str, tuple[int, int]] = {
    "manufacturer": (2, 16),  # Mn
    "model": (18, 16),  # Md
    "options": (34, 8),  # Opt
    "sw_version": (42, 8),  # Vr
    "serial_number": (50, 16),  # SN
}


# --- Eastron SDM120 / SDM630: FC4, float32 high word first -----------------------------------
# Sources: Eastron protocol PDFs (nmakel/sdm_modbus documents/sdm120_modbus_protocol_v2.5.pdf,
# sdm630_modbus_protocol_v2.0.pdf) and nmakel/sdm_modbus src/sdm_modbus/sdm.py.
# Power + = import in the wired direction (evcc eastron-sdm120.yaml). kWh → Wh: × 1000.


def _eastron(quantity: Quantity, address: int, scale: float = 1.0) -> Field:
    return Field(quantity, address, F32, INPUT, scale=scale)


EASTRON_INFO = (
    # 0xFC00 (FC3, uint32) serial number (nmakel/sdm_modbus sdm.py)
    InfoField("serial_number", 0xFC00, 2, HOLDING, DataType.U32),
)

SDM120 = Profile(
    id="sdm120",
    name="Eastron SDM120",
    manufacturer="Eastron",
    model="SDM120",
    fields=(
        _eastron(Q.VOLTAGE_L1, 0x0000),  # voltage
        _eastron(Q.CURRENT_L1, 0x0006),  # current
        _eastron(Q.ACTIVE_POWER, 0x000C),  # active power
        _eastron(Q.FREQUENCY, 0x0046),  # frequency
        _eastron(Q.ENERGY_IMPORTED, 0x0048, 1000),  # import active energy, kWh
        _eastron(Q.ENERGY_EXPORTED, 0x004A, 1000),  # export active energy, kWh
    ),
    info_fields=EASTRON_INFO,
    max_registers=80,  # at most 40 values = 80 registers per request (Eastron PDFs)
    max_gap=80,  # every register 0x0000–0x004B answers: one read of 76 (MODBUS-MAPS §6)
    description="Single-phase meter, input registers, float32.",
)

SDM630 = Profile(
    id="sdm630",
    name="Eastron SDM630",
    manufacturer="Eastron",
    model="SDM630",
    fields=(
        _eastron(Q.VOLTAGE_L1, 0x0000),  # L1 to N voltage
        _eastron(Q.VOLTAGE_L2, 0x0002),
        _eastron(Q.VOLTAGE_L3, 0x0004),
        _eastron(Q.CURRENT_L1, 0x0006),  # L1 current
        _eastron(Q.CURRENT_L2, 0x0008),
        _eastron(Q.CURRENT_L3, 0x000A),
        _eastron(Q.POWER_L1, 0x000C),  # L1 active power
        _eastron(Q.POWER_L2, 0x000E),
        _eastron(Q.POWER_L3, 0x0010),
        _eastron(Q.ACTIVE_POWER, 0x0034),  # total system power
        _eastron(Q.FREQUENCY, 0x0046),  # frequency
        _eastron(Q.ENERGY_IMPORTED, 0x0048, 1000),  # import active energy, kWh
        _eastron(Q.ENERGY_EXPORTED, 0x004A, 1000),  # export active energy, kWh
    ),
    info_fields=EASTRON_INFO,
    max_registers=80,
    max_gap=80,
    description="Three-phase meter, input registers, float32.",
)

# --- Carlo Gavazzi EM24 Ethernet (EM24_E1; same layout as EM330/EM340/ET330/ET340) ------------
# Sources: victronenergy/dbus-modbus-client carlo_gavazzi.py; volkszaehler/mbmd
# meters/rs485/carlogavazzi-em24_e1.go, carlogavazzi-ex3x0.go; nmakel/sdm_modbus
# carlogavazzi.py. INT32 are LSW first ("EM24-DIN Communication Protocol" data format page).
# W sys: + import, − export (evcc cg-em24.yaml, cg-em24_e1.yaml). The RS-485 EM24-DIN uses a
# different layout (import energy address unverified): not shipped, use "generic".


def _gavazzi(
    quantity: Quantity,
    address: int,
    scale: float,
    data_type: DataType = S32,
    *,
    optional: bool = False,
) -> Field:
    return Field(
        quantity, address, data_type, HOLDING, WordOrder.LITTLE, scale=scale, optional=optional
    )


EM24 = Profile(
    id="em24",
    name="Carlo Gavazzi EM24 Ethernet (also EM330/EM340)",
    manufacturer="Carlo Gavazzi",
    model="EM24",
    fields=(
        _gavazzi(Q.VOLTAGE_L1, 0x0000, 0.1),  # V L1-N, INT32 ÷10
        _gavazzi(Q.VOLTAGE_L2, 0x0002, 0.1),
        _gavazzi(Q.VOLTAGE_L3, 0x0004, 0.1),
        _gavazzi(Q.CURRENT_L1, 0x000C, 0.001),  # A L1, INT32 ÷1000
        _gavazzi(Q.CURRENT_L2, 0x000E, 0.001),
        _gavazzi(Q.CURRENT_L3, 0x0010, 0.001),
        _gavazzi(Q.POWER_L1, 0x0012, 0.1),  # W L1, INT32 ÷10
        _gavazzi(Q.POWER_L2, 0x0014, 0.1),
        _gavazzi(Q.POWER_L3, 0x0016, 0.1),
        _gavazzi(Q.ACTIVE_POWER, 0x0028, 0.1),  # W total, INT32 ÷10
        _gavazzi(Q.FREQUENCY, 0x0033, 0.1, U16),  # Hz, UINT16 ÷10
        _gavazzi(Q.ENERGY_IMPORTED, 0x0034, 100),  # kWh(+) total, INT32 ÷10 kWh → Wh
        # kWh(−) total, INT32 ÷10 kWh → Wh; absent on some variants (exception 2: evcc
        # issue #31143), so optional: refused, it reads as None and power/import still work
        _gavazzi(Q.ENERGY_EXPORTED, 0x004E, 100, optional=True),
    ),
    info_fields=(
        InfoField("model_code", 0x000B, 1, HOLDING, DataType.U16),  # victron carlo_gavazzi.py
        InfoField("serial_number", 0x5000, 7),  # 7 registers of text, same source
    ),
    # maximum request size unverified (MODBUS-MAPS §6): keep blocks small
    max_registers=60,
    description="Three-phase meter, holding registers, INT32 LSW first.",
)

SUNSPEC = Profile(
    id="sunspec",
    name="SunSpec inverter or meter",
    manufacturer=None,
    model=None,
    # every register of a model answers: read a model's points in one request, as
    # pysunspec2, solaredge-modbus-multi and the ABB integration do (MODBUS-MAPS §6)
    max_gap=MAX_REGISTERS_PER_READ,
    description=(
        "Auto-detected: base 40000, 0 or 50000; inverter models 101–103, 111–113, 701 "
        "(with the strings of model 160 and the storage of model 713), meter models "
        "201–204, 211–214; identity from common model 1."
    ),
)

GENERIC = Profile(
    id="generic",
    name="Generic register map",
    manufacturer=None,
    model=None,
    description="Registers mapped to quantities by the user (options['registers']).",
)

#: Profiles by id.
PROFILES: dict[str, Profile] = {
    profile.id: profile for profile in (SUNSPEC, SDM120, SDM630, EM24, GENERIC)
}


def parse_generic_registers(rows: Sequence[Mapping[str, Any]]) -> tuple[Field, ...]:
    """Fields of the generic profile from the user's map, validated.

    Each row: ``quantity`` (a :class:`Quantity` value), ``address`` (wire address, 0-based),
    ``data_type`` (``u16``, ``s16``, ``u32``, ``s32``, ``u64``, ``s64``, ``f32``), optional
    ``scale`` (default 1; negative inverts the sign), ``word_order`` (``big``/``little``,
    default big), ``function`` (``holding``/``input``, default holding) and
    ``not_implemented`` (list of raw values meaning "no value") and ``optional`` (the device
    may refuse it with "illegal data address": then ``None``, not an error). Raises
    ``ValueError``.
    """
    functions = {"holding": HOLDING, "input": INPUT}
    fields: list[Field] = []
    for index, row in enumerate(rows):
        try:
            data_type = DataType(row["data_type"])
            if data_type is DataType.STRING:
                raise ValueError("string is not a measurement type")
            address = int(row["address"])
            if not 0 <= address <= 0xFFFF - REGISTER_COUNT[data_type] + 1:
                raise ValueError(f"address {address} out of range")
            fields.append(
                Field(
                    Quantity(row["quantity"]),
                    address,
                    data_type,
                    functions[str(row.get("function", "holding"))],
                    WordOrder(row.get("word_order", WordOrder.BIG)),
                    scale=float(row.get("scale", 1.0)),
                    not_implemented=frozenset(int(v) for v in row.get("not_implemented", ())),
                    optional=bool(row.get("optional", False)),
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"register row {index}: {err!r}") from err
    quantities = [f.quantity for f in fields]
    if len(set(quantities)) != len(quantities):
        raise ValueError("a quantity is mapped twice")
    return tuple(fields)
