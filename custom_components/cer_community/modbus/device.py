"""A device: a profile bound to a unit on a shared connection, read in planned blocks."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .connection import ModbusConnection
from .decode import DataType, decode_string, decode_value
from .errors import ModbusError, ModbusProtocolError, ModbusUnavailable
from .planner import ReadBlock, RegisterFunction, RegisterSpan, plan_reads
from .profiles import (
    PROFILES,
    SUNSPEC_MODELS,
    Field,
    Profile,
    parse_generic_registers,
)
from .quantities import Quantity
from .sunspec import (
    SunSpecInfo,
    SunSpecModel,
    detect_sunspec,
    extension_options,
    preferred_model,
    read_common,
)

_LOGGER = logging.getLogger(__name__)

#: Exception code 2, "illegal data address".
ILLEGAL_DATA_ADDRESS = 2
#: SunSpec scale factors outside this range are treated as missing
#: (solaredge-modbus-multi const.py ``SUNSPEC_SF_RANGE``).
SUNSPEC_SF_RANGE = range(-10, 11)
#: SunSpec operating states meaning "asleep, not broken": 1 OFF, 2 SLEEPING,
#: 6 SHUTTING_DOWN, 8 STANDBY (ha-sunspec2 docs/troubleshooting.md).
ASLEEP_STATES = frozenset({1, 2, 6, 8})

_SIGNED_POWERS = (Quantity.ACTIVE_POWER, Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3)

Reading = dict[Quantity, float | int | None]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Identity of a device (``None`` where the device does not tell)."""

    manufacturer: str | None
    model: str | None
    serial_number: str | None = None
    sw_version: str | None = None


def scale_value(raw: int | float, scale: float, exponent: int = 0) -> int | float:
    """``raw × scale × 10^exponent``; integer when the result is exact, no float noise."""
    if isinstance(raw, int) and exponent >= 0 and float(scale).is_integer():
        return raw * int(scale) * int(10**exponent)
    power = float(10 ** abs(exponent))
    value = raw * scale * power if exponent >= 0 else raw * scale / power
    return round(value, 10)


def decode_field(field: Field, words: Mapping[tuple[int, int], int]) -> int | float | None:
    """The value of ``field`` from the registers read, keyed by (function, address)."""
    raw_words = [words[(field.function, field.address + i)] for i in range(field.count)]
    raw = decode_value(raw_words, field.data_type, field.word_order, field.not_implemented)
    if raw is None:
        return None
    exponent = 0
    if field.scale_factor is not None:
        sf = decode_value([words[(field.function, field.scale_factor)]], DataType.S16)
        if not isinstance(sf, int) or sf not in SUNSPEC_SF_RANGE:
            return None
        exponent = sf
    return scale_value(raw, field.scale, exponent) + field.offset


class ModbusDevice:
    """Reads one device's quantities; build it with :func:`build_device`.

    Availability is logged once per transition (one line when it stops answering, one when
    it answers again), so an inverter asleep at night does not fill the log.
    """

    def __init__(
        self,
        connection: ModbusConnection,
        unit: int,
        profile: Profile,
        fields: Sequence[Field],
        info: DeviceInfo,
        *,
        invert_power: bool = False,
        swap_energy: bool = False,
        name: str | None = None,
        sunspec_model: SunSpecModel | None = None,
        sunspec_extensions: Sequence[SunSpecModel] = (),
    ) -> None:
        """Bind ``fields`` of ``profile`` to ``unit`` on ``connection``.

        ``sunspec_model``: where the SunSpec model of ``fields`` is; ``sunspec_extensions``:
        where the extension models read with it are (160 strings, 713 storage), whose
        fields are in ``fields`` too. Their IDs and lengths are read with the values on
        every poll (see :meth:`read`).
        """
        self.connection = connection
        self.unit = unit
        self.profile = profile
        self.info = info
        self.invert_power = invert_power
        self.swap_energy = swap_energy
        self.name = name or f"{profile.name} {connection.key} unit {unit}"
        self._fields = tuple(fields)
        self._missing: set[Field] = set()
        self.available = True
        self.last_reading: Reading = {}
        #: the last values before ``invert_power`` / ``swap_energy`` (for diagnostics)
        self.last_raw_reading: Reading = {}
        self.sunspec_model = sunspec_model
        self.sunspec_extensions = tuple(sunspec_extensions)
        self._plan = self._make_plan()

    @property
    def quantities(self) -> tuple[Quantity, ...]:
        """What :meth:`read` returns (the keys of the reading)."""
        return tuple(field.quantity for field in self._fields)

    @property
    def plan(self) -> tuple[ReadBlock, ...]:
        """The requests of one read."""
        return self._plan

    def _make_plan(self) -> tuple[ReadBlock, ...]:
        wanted = [f for f in self._fields if f not in self._missing]
        header = [_header_field(model) for model in self._sunspec_models]
        plan = plan_for([*header, *(f for f in wanted if not f.optional)], self.profile)
        # an optional field may be refused: alone in its block, it cannot sink the others
        for field in wanted:
            if field.optional:
                plan.extend(plan_for([field], self.profile))
        return tuple(plan)

    @property
    def _sunspec_models(self) -> tuple[SunSpecModel, ...]:
        """The SunSpec models read: the device's own, then its extensions."""
        if self.sunspec_model is None:
            return ()
        return (self.sunspec_model, *self.sunspec_extensions)

    async def read(self) -> Reading:
        """Read every quantity of the profile.

        A SunSpec device's model IDs and lengths (its own model's and its extensions')
        are read in the same requests as their values and checked every poll: when one
        changed (a firmware update, a night-time reset switching float and integer models),
        the device is scanned again once, with a log line, and read with the new layout;
        values are never decoded with the old one.

        Raises :class:`ModbusUnavailable` (no answer) or :class:`ModbusProtocolError`.
        """
        try:
            try:
                reading = await self._read()
            except _LayoutChanged as changed:
                await self._rescan(changed)
                try:
                    reading = await self._read()
                except _LayoutChanged as again:
                    raise ModbusProtocolError(
                        f"{self}: SunSpec layout changed again while rescanning ({again})"
                    ) from again
        except ModbusError as err:
            self._set_available(False, err)
            raise
        self._set_available(True, None)
        self.last_reading = reading
        return reading

    async def _read(self) -> Reading:
        words: dict[tuple[int, int], int] = {}
        replan = False
        for block in self._plan:
            try:
                registers = await self.connection.read_registers(
                    self.unit, block.address, block.count, block.function
                )
            except ModbusProtocolError as err:
                refused = [f for f in self._fields if f.optional and _in_block(f, block)]
                if err.exception_code != ILLEGAL_DATA_ADDRESS or not refused:
                    raise
                _LOGGER.debug("%s: optional registers %s refused, not read again", self, block)
                self._missing.update(refused)
                replan = True
                continue
            for offset, word in enumerate(registers):
                words[(block.function, block.address + offset)] = word
        if replan:
            self._plan = self._make_plan()
        for model in self._sunspec_models:
            _check_header(model, words)
        reading: Reading = {}
        for field in self._fields:
            reading[field.quantity] = None if field in self._missing else decode_field(field, words)
        self.last_raw_reading = dict(reading)
        return self._normalise(reading)

    async def _rescan(self, changed: _LayoutChanged) -> None:
        """Walk the model chain again and take the model of the same kind (inverter or
        meter) as before, the nearest to the old address, with the extensions the chain
        has now (a changed extension model is a changed layout too)."""
        old = self.sunspec_model
        assert old is not None  # only a SunSpec device checks model headers
        info = await detect_sunspec(self.connection, self.unit)
        candidates = [m for m in info.readable_models if m.kind == old.kind]
        if not candidates:
            raise ModbusProtocolError(
                f"{self}: SunSpec model {old.model_id} at {old.address} is gone ({changed}) "
                f"and the device has no other {old.kind} model: "
                f"{[m.model_id for m in info.models]}"
            )
        model = min(candidates, key=lambda m: abs(m.address - old.address))
        _LOGGER.warning(
            "%s: SunSpec layout changed (%s); scanned again, now reading model %s at %s",
            self,
            changed,
            model.model_id,
            model.address,
        )
        self.sunspec_model = model
        self.sunspec_extensions = info.extensions_for(model)
        self._fields = tuple(sunspec_fields(model, self.sunspec_extensions))
        self._missing.clear()
        self._plan = self._make_plan()

    @property
    def sunspec_options(self) -> dict[str, Any] | None:
        """Where the SunSpec model is now (to save, so a restart does not scan again)."""
        model = self.sunspec_model
        if model is None:
            return None
        return {
            "model_id": model.model_id,
            "model_address": model.address,
            "model_length": model.length,
            "extensions": extension_options(self.sunspec_extensions),
        }

    def _normalise(self, reading: Reading) -> Reading:
        """Apply the options ``invert_power`` (negate powers) and ``swap_energy``."""
        if self.invert_power:
            for quantity in _SIGNED_POWERS:
                value = reading.get(quantity)
                if value is not None:
                    reading[quantity] = -value
        imported, exported = Quantity.ENERGY_IMPORTED, Quantity.ENERGY_EXPORTED
        if self.swap_energy and imported in reading and exported in reading:
            reading[imported], reading[exported] = reading[exported], reading[imported]
        return reading

    def _set_available(self, available: bool, error: ModbusError | None) -> None:
        if available == self.available:
            return
        self.available = available
        if available:
            _LOGGER.info("%s is answering again", self.name)
            return
        state = self.last_reading.get(Quantity.INVERTER_STATE)
        if isinstance(error, ModbusUnavailable) and state in ASLEEP_STATES:
            # asleep at night is not an error (issue #14 item 4): debug only
            _LOGGER.debug("%s is unavailable (asleep, last state %s): %s", self.name, state, error)
        elif isinstance(error, ModbusUnavailable):
            _LOGGER.info("%s is unavailable: %s", self.name, error)
        else:
            _LOGGER.warning("%s answers with unexpected data: %s", self.name, error)

    def __str__(self) -> str:
        """The device's name."""
        return self.name

    def diagnostics(self) -> dict[str, Any]:
        """What an installer needs to check the configuration (no host redaction here)."""
        return {
            "profile": self.profile.id,
            "connection": str(self.connection.key),
            "unit": self.unit,
            "info": {
                "manufacturer": self.info.manufacturer,
                "model": self.info.model,
                "serial_number": self.info.serial_number,
                "sw_version": self.info.sw_version,
            },
            "invert_power": self.invert_power,
            "swap_energy": self.swap_energy,
            "available": self.available,
            "requests": [
                {"function": int(b.function), "address": b.address, "count": b.count}
                for b in self._plan
            ],
            "refused_optional": sorted(str(f.quantity) for f in self._missing),
            "raw_values": {str(q): v for q, v in self.last_raw_reading.items()},
            "values": {str(q): v for q, v in self.last_reading.items()},
        }


class _LayoutChanged(Exception):
    """Internal: the SunSpec model header read with the values is not the expected one."""

    def __init__(self, expected: SunSpecModel, found_id: int, found_length: int) -> None:
        super().__init__(
            f"expected model {expected.model_id} (L = {expected.length}) at "
            f"{expected.address}, found {found_id} (L = {found_length})"
        )
        self.expected = expected


def _header_field(model: SunSpecModel) -> Field:
    """The model's ID and L registers, read with its values on every poll."""
    return Field(Quantity.INVERTER_STATE, model.address, DataType.U32)


def _check_header(model: SunSpecModel, words: Mapping[tuple[int, int], int]) -> None:
    """Raise :class:`_LayoutChanged` unless the model's ID (and its L, when known) are
    still those of the layout."""
    found_id = words[(RegisterFunction.HOLDING, model.address)]
    found_length = words[(RegisterFunction.HOLDING, model.address + 1)]
    if found_id != model.model_id or (model.length and found_length != model.length):
        raise _LayoutChanged(model, found_id, found_length)


def sunspec_fields(model: SunSpecModel, extensions: Sequence[SunSpecModel] = ()) -> list[Field]:
    """The fields of a SunSpec model, and of its extension models, at their addresses."""
    fields: list[Field] = []
    for each in (model, *extensions):
        model_map = SUNSPEC_MODELS.get(each.model_id)
        if model_map is None:
            raise ModbusProtocolError(f"SunSpec model {each.model_id} is not supported")
        fields.extend(field.shifted(each.address) for field in model_map.fields_for(each.length))
    return fields


def _in_block(field: Field, block: ReadBlock) -> bool:
    return any(block.covers(span) for span in field.spans())


async def _read_info(connection: ModbusConnection, unit: int, profile: Profile) -> DeviceInfo:
    """Static identity of a fixed-map device; a refused register leaves ``None``."""
    values: dict[str, str | None] = {}
    for info_field in profile.info_fields:
        try:
            words = await connection.read_registers(
                unit, info_field.address, info_field.count, info_field.function
            )
        except ModbusProtocolError:
            values[info_field.name] = None
            continue
        if info_field.data_type is DataType.STRING:
            values[info_field.name] = decode_string(words)
        else:
            number = decode_value(words, info_field.data_type, info_field.word_order)
            values[info_field.name] = None if number is None else str(number)
    model = profile.model
    if values.get("model_code"):
        model = f"{model} ({values['model_code']})"
    return DeviceInfo(profile.manufacturer, model, values.get("serial_number"))


def _sunspec_model_from_options(options: Mapping[str, Any]) -> SunSpecModel | None:
    if options.get("model_id") is None or options.get("model_address") is None:
        return None
    return SunSpecModel(
        int(options["model_id"]),
        int(options["model_address"]),
        int(options.get("model_length") or 0),
    )


def _sunspec_extensions_from_options(options: Mapping[str, Any]) -> tuple[SunSpecModel, ...]:
    """The extension models of a saved layout (none in a layout saved before they were
    read: the device's next test read finds them)."""
    return tuple(
        SunSpecModel(int(raw["model_id"]), int(raw["address"]), int(raw["length"]))
        for raw in options.get("extensions") or ()
    )


async def _build_sunspec(
    connection: ModbusConnection, unit: int, options: Mapping[str, Any]
) -> tuple[SunSpecModel, tuple[SunSpecModel, ...], DeviceInfo, bool]:
    """Model, extension models and identity of a SunSpec device, from the persisted layout
    or a new scan.

    A persisted layout whose model header no longer matches (a firmware update moved or
    changed the model) is replaced by a new scan, with a log line. The extensions' headers
    are checked by the first read (see :meth:`ModbusDevice.read`).
    """
    model = _sunspec_model_from_options(options)
    extensions = _sunspec_extensions_from_options(options)
    common_address = options.get("common_address")
    invert_default = False
    info: SunSpecInfo | None = None
    if model is not None:
        # the model ID (and L) must still be where the layout says
        found_id, found_length = await connection.read_registers(unit, model.address, 2)
        if found_id != model.model_id or (model.length and found_length != model.length):
            _LOGGER.warning(
                "%s unit %s: expected SunSpec model %s at %s, found %s: scanning again",
                connection.key,
                unit,
                model.model_id,
                model.address,
                found_id,
            )
            wanted_kind = model.kind
            model = None
            options = {
                key: value
                for key, value in options.items()
                if key not in {"model_id", "model_address", "model_length"}
            }
            info = await detect_sunspec(connection, unit)
            candidates = [m for m in info.readable_models if m.kind == wanted_kind]
            if not candidates:
                raise ModbusProtocolError(
                    f"unit {unit}: no SunSpec {wanted_kind} model any more in "
                    f"{[m.model_id for m in info.models]}"
                )
            model = candidates[0]
            extensions = info.extensions_for(model)
            common = info.common_for(model)
            common_address = common.address if common else None
    if model is None:
        info = await detect_sunspec(connection, unit)
        wanted = options.get("model_id")
        candidates = [
            m for m in info.readable_models if wanted is None or m.model_id == int(wanted)
        ]
        if not candidates:
            raise ModbusProtocolError(
                f"unit {unit}: no readable SunSpec model in {[m.model_id for m in info.models]}"
            )
        model = preferred_model(candidates)
        extensions = info.extensions_for(model)
        common = info.common_for(model)
        common_address = common.address if common else None
        invert_default = info.invert_power_default(model)
    if model.kind not in {"inverter", "meter"}:  # an extension is read with its inverter
        raise ModbusProtocolError(f"SunSpec model {model.model_id} is not supported")
    if info is not None and common_address == info.models[0].address:
        identity = info.identity
    elif common_address is not None:
        identity = await read_common(connection, unit, int(common_address))
    else:
        identity = None
    device_info = DeviceInfo(
        identity.manufacturer if identity else None,
        identity.model if identity else None,
        identity.serial_number if identity else None,
        identity.sw_version if identity else None,
    )
    return model, extensions, device_info, invert_default


async def build_device(
    connection: ModbusConnection,
    unit: int,
    profile_id: str,
    options: Mapping[str, Any] | None = None,
) -> ModbusDevice:
    """Create a device of profile ``profile_id`` (a key of ``PROFILES``) on ``unit``.

    Reads the device identity (and, for SunSpec without a persisted layout, scans the model
    chain), so it raises :class:`ModbusUnavailable` / :class:`ModbusProtocolError` like
    :meth:`ModbusDevice.read`, and ``ValueError`` / ``KeyError`` for bad options.

    Options (all optional unless stated):

    * ``invert_power`` (bool): negate the powers (a vendor sign convention: SolarEdge meters
      default to ``True``; or a meter/CT wired the other way round).
    * ``swap_energy`` (bool): swap the import and export counters (a meter wired the other
      way round counts export as import: set both options then).
    * ``name`` (str): used in log lines.
    * sunspec: ``model_id``, ``model_address``, ``model_length``, ``common_address`` and
      ``extensions`` (the inverter's models 160 and 713) as given by
      :meth:`SunSpecInfo.device_options` (no scan at start-up); only ``model_id`` to pick a
      model of a fresh scan (default: the first inverter, else the first meter).
    * generic: ``registers`` (list of rows, see :func:`parse_generic_registers`, required),
      ``manufacturer``, ``model``, ``max_registers`` (default 125).
    """
    options = options or {}
    profile = PROFILES[profile_id]
    invert_default = False
    sunspec_model: SunSpecModel | None = None
    extensions: tuple[SunSpecModel, ...] = ()
    if profile_id == "sunspec":
        sunspec_model, extensions, info, invert_default = await _build_sunspec(
            connection, unit, options
        )
        fields = sunspec_fields(sunspec_model, extensions)
    elif profile_id == "generic":
        fields = list(parse_generic_registers(options.get("registers") or ()))
        if not fields:
            raise ValueError("the generic profile needs at least one register")
        profile = replace(
            profile,
            max_registers=int(options.get("max_registers") or profile.max_registers),
        )
        info = DeviceInfo(options.get("manufacturer"), options.get("model"))
    else:
        fields = list(profile.fields)
        info = await _read_info(connection, unit, profile)
    return ModbusDevice(
        connection,
        unit,
        profile,
        fields,
        info,
        invert_power=bool(options.get("invert_power", invert_default)),
        swap_energy=bool(options.get("swap_energy", False)),
        name=options.get("name"),
        sunspec_model=sunspec_model,
        sunspec_extensions=extensions,
    )


def plan_for(fields: Sequence[Field], profile: Profile) -> list[ReadBlock]:
    """The read plan of ``fields`` under ``profile``'s limits (for diagnostics and tests)."""
    spans: list[RegisterSpan] = [span for field in fields for span in field.spans()]
    return plan_reads(
        spans,
        max_registers=profile.max_registers,
        max_gap=profile.max_gap,
        unreadable=profile.unreadable,
    )
