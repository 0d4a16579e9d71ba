"""SunSpec discovery: find the ``SunS`` marker, walk the model chain, read model 1.

Algorithm from sunspec/pysunspec2 ``sunspec2/modbus/client.py`` (``scan``): probe the base
addresses with FC3; the map is there when the first two registers read ``SunS``
(0x5375 0x6E53). The first model header (ID, L) is at base + 2, each model occupies L + 2
registers, and the chain ends at model ID 0xFFFF (some devices give no usable L after it, so
an ID read alone decides). Never assume the second model's address: it is 40069 (common
L = 65) or 40070 (L = 66).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from .connection import ModbusConnection
from .decode import decode_string
from .errors import ModbusProtocolError, ModbusUnavailable
from .planner import MAX_REGISTERS_PER_READ, RegisterFunction
from .profiles import SUNSPEC_COMMON_POINTS, SUNSPEC_MODELS

#: Probe order of pysunspec2 (``base_addr_list``).
SUNSPEC_BASE_ADDRESSES: Final = (40000, 0, 50000)
SUNSPEC_MARKER: Final = (0x5375, 0x6E53)  # "SunS"
SUNSPEC_END_MODEL_ID: Final = 0xFFFF
COMMON_MODEL_ID: Final = 1
#: Bound on the walk, against devices that never send the end marker.
MAX_MODELS: Final = 64


@dataclass(frozen=True, slots=True)
class SunSpecModel:
    """One model of the chain: its ID, the address of its ID register, its length L."""

    model_id: int
    address: int
    length: int

    @property
    def kind(self) -> str:
        """``inverter``, ``meter``, ``extension`` (read with an inverter), ``common`` or
        ``other`` (not read by this library)."""
        if self.model_id == COMMON_MODEL_ID:
            return "common"
        model_map = SUNSPEC_MODELS.get(self.model_id)
        return model_map.kind if model_map else "other"

    @property
    def end(self) -> int:
        """Address after the model."""
        return self.address + self.length + 2


@dataclass(frozen=True, slots=True)
class SunSpecIdentity:
    """Strings of a common model 1 (``None`` when not implemented)."""

    manufacturer: str | None
    model: str | None
    options: str | None
    sw_version: str | None
    serial_number: str | None


@dataclass(frozen=True, slots=True)
class SunSpecInfo:
    """The discovered layout of a SunSpec device, and its identity."""

    base_address: int
    models: tuple[SunSpecModel, ...]
    identity: SunSpecIdentity

    @property
    def readable_models(self) -> tuple[SunSpecModel, ...]:
        """Inverter and meter models this library can read, in chain order."""
        return tuple(m for m in self.models if m.kind in {"inverter", "meter"})

    def common_for(self, model: SunSpecModel) -> SunSpecModel | None:
        """The common model describing ``model``: the last one before it in the chain.

        SolarEdge puts each meter's own common block right before its meter model.
        """
        common = None
        for candidate in self.models:
            if candidate.address >= model.address:
                break
            if candidate.model_id == COMMON_MODEL_ID:
                common = candidate
        return common

    def extensions_for(self, model: SunSpecModel) -> tuple[SunSpecModel, ...]:
        """The extension models read with ``model`` (an inverter): the strings of model 160,
        the storage of model 713; the first of each, in chain order. A meter has none."""
        if model.kind != "inverter":
            return ()
        first: dict[int, SunSpecModel] = {}
        for candidate in self.models:
            if candidate.kind == "extension":
                first.setdefault(candidate.model_id, candidate)
        return tuple(first.values())

    def invert_power_default(self, model: SunSpecModel) -> bool:
        """Whether the meter's power sign must be inverted by default.

        SolarEdge meters report W + = export (solaredge-modbus-multi issue #69; evcc
        solaredge-inverter.yaml scales power by −1); other SunSpec meters + = import.
        """
        manufacturer = (self.identity.manufacturer or "").lower()
        return model.kind == "meter" and "solaredge" in manufacturer

    def device_options(self, model: SunSpecModel) -> dict[str, Any]:
        """Options for ``build_device(..., "sunspec", options)`` that skip a new scan."""
        common = self.common_for(model)
        return {
            "base_address": self.base_address,
            "model_id": model.model_id,
            "model_address": model.address,
            "model_length": model.length,
            "common_address": common.address if common else None,
            "invert_power": self.invert_power_default(model),
            "extensions": extension_options(self.extensions_for(model)),
        }


def extension_options(models: Sequence[SunSpecModel]) -> list[dict[str, int]]:
    """Where the extension models are, as saved in a layout (JSON)."""
    return [{"model_id": m.model_id, "address": m.address, "length": m.length} for m in models]


def preferred_model(models: Sequence[SunSpecModel]) -> SunSpecModel:
    """The model to read when none is asked for: an inverter first (meters come after it
    in the chain), and of inverters a 101–103 / 111–113 model before a 701 (newer SMA
    firmware lists the 700 series first and the classic models after it)."""
    inverters = [m for m in models if m.kind == "inverter"]
    if not inverters:
        return models[0]
    return min(inverters, key=lambda m: (m.model_id >= 700, m.address))


async def find_base_address(connection: ModbusConnection, unit: int) -> int:
    """The base address holding ``SunS``; raises when none does.

    :class:`ModbusUnavailable` when the device did not answer any probe (it may be asleep:
    retry later), :class:`ModbusProtocolError` when it answered without the marker.
    """
    unavailable: ModbusUnavailable | None = None
    for base in SUNSPEC_BASE_ADDRESSES:
        try:
            words = await connection.read_registers(unit, base, 2, RegisterFunction.HOLDING)
        except ModbusProtocolError:
            continue
        except ModbusUnavailable as err:
            # some firmware time out instead of answering "illegal address"
            unavailable = err
            continue
        if tuple(words) == SUNSPEC_MARKER:
            return base
    if unavailable is not None:
        raise unavailable
    raise ModbusProtocolError(f"unit {unit}: no SunSpec marker at {SUNSPEC_BASE_ADDRESSES}")


async def walk_models(
    connection: ModbusConnection, unit: int, base_address: int
) -> tuple[SunSpecModel, ...]:
    """The model chain from ``base_address + 2`` to the end marker."""
    models: list[SunSpecModel] = []
    address = base_address + 2
    while len(models) < MAX_MODELS and address < 0xFFFF:
        try:
            model_id, length = await connection.read_registers(unit, address, 2)
        except ModbusProtocolError:
            # the end marker may sit just before the end of the map: read the ID alone
            (model_id,) = await connection.read_registers(unit, address, 1)
            if model_id != SUNSPEC_END_MODEL_ID:
                raise
            break
        if model_id == SUNSPEC_END_MODEL_ID:
            break
        if model_id == 0 or length == 0:
            raise ModbusProtocolError(f"unit {unit}: bad SunSpec model header at {address}")
        models.append(SunSpecModel(model_id, address, length))
        address += length + 2
    if not models or models[0].model_id != COMMON_MODEL_ID:
        raise ModbusProtocolError(f"unit {unit}: SunSpec chain does not start with model 1")
    return tuple(models)


async def read_common(
    connection: ModbusConnection, unit: int, common_address: int
) -> SunSpecIdentity:
    """Manufacturer, model, options, version and serial number from a model 1."""
    count = max(offset + size for offset, size in SUNSPEC_COMMON_POINTS.values())
    words = await connection.read_registers(
        unit, common_address, min(count, MAX_REGISTERS_PER_READ)
    )
    if words[0] != COMMON_MODEL_ID:
        raise ModbusProtocolError(f"unit {unit}: no SunSpec model 1 at {common_address}")
    text = {
        name: decode_string(words[offset : offset + size])
        for name, (offset, size) in SUNSPEC_COMMON_POINTS.items()
    }
    return SunSpecIdentity(
        manufacturer=text["manufacturer"],
        model=text["model"],
        options=text["options"],
        sw_version=text["sw_version"],
        serial_number=text["serial_number"],
    )


async def detect_sunspec(connection: ModbusConnection, unit: int) -> SunSpecInfo:
    """Find the SunSpec map of ``unit``, walk its models and read its identity.

    Costs a few dozen requests: run it at setup (config flow) and persist
    :meth:`SunSpecInfo.device_options` rather than scanning at every start.
    """
    base = await find_base_address(connection, unit)
    models = await walk_models(connection, unit, base)
    identity = await read_common(connection, unit, models[0].address)
    return SunSpecInfo(base, models, identity)
