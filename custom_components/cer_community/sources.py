"""Where a device's readings come from: a Modbus device, or existing Home Assistant entities.

:func:`make_source` gives the reader of a configured device; :func:`async_probe_device` reads a
device once before it is saved (test before configure). Split from the coordinators: this
module knows devices, not polling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
from homeassistant.util.yaml import parse_yaml

from .const import DEFAULT_PORT, DeviceRole, DeviceSource
from .data import DeviceConfig
from .modbus.connection import ModbusConnection, acquire_connection, release_connection
from .modbus.device import ModbusDevice, build_device
from .modbus.errors import ModbusProtocolError
from .modbus.quantities import Quantity
from .modbus.sunspec import detect_sunspec, preferred_model

Reading = dict[Quantity, float | int | None]


class EntitySourceError(Exception):
    """An entity chosen as a device's source is missing, unavailable or in the wrong unit."""

    def __init__(self, field: str, reason: str, entity_id: str) -> None:
        """``field`` is the form field, ``reason`` the translation key of the error."""
        super().__init__(f"{entity_id}: {reason}")
        self.field = field
        self.reason = reason
        self.entity_id = entity_id


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What a device tells about itself (for the device registry)."""

    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    sw_version: str | None = None


class _Source:
    """Where a device's readings come from."""

    identity = DeviceIdentity()

    async def read(self) -> Reading:
        raise NotImplementedError

    async def close(self) -> None:
        """Give back what the source holds."""

    def diagnostics(self) -> dict[str, Any]:
        """What the source knows beyond the reading (for diagnostics)."""
        return {}


def generic_register_rows(text: str | None) -> list[dict[str, Any]]:
    """The generic profile's register map, written by the user as YAML (or JSON) rows."""
    try:
        rows = parse_yaml(text or "")
    except Exception as err:  # the YAML parser's own errors
        raise ValueError(f"not YAML: {err}") from err
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("the register map is a list of rows")
    return rows


class _ModbusSource(_Source):
    """A device of the Modbus layer, on the connection shared by its host and port.

    The device is built at the first read (a SunSpec device walks its model chain then), so
    a device asleep when Home Assistant starts is simply unavailable until it answers.
    """

    def __init__(self, device: DeviceConfig) -> None:
        # the flow always stores a unit (default 1): 0 would be the Modbus broadcast address
        assert device.host is not None and device.unit is not None
        assert device.profile is not None
        self._config = device
        self._unit = device.unit
        self._profile = device.profile
        self._connection: ModbusConnection | None = acquire_connection(
            device.host, device.port or DEFAULT_PORT
        )
        self._device: ModbusDevice | None = None

    async def read(self) -> Reading:
        assert self._connection is not None
        if self._device is None:
            options: dict[str, Any] = {
                **(self._config.sunspec_layout or {}),  # no scan when the layout is saved
                "name": self._config.name,
            }
            if self._config.invert_power:  # unset keeps the profile's default
                options["invert_power"] = True
            if self._config.swap_energy:
                options["swap_energy"] = True
            if self._config.model_id is not None:
                options["model_id"] = self._config.model_id
            if self._config.registers is not None:
                options["registers"] = generic_register_rows(self._config.registers)
            self._device = await build_device(self._connection, self._unit, self._profile, options)
            info = self._device.info
            self.identity = DeviceIdentity(
                manufacturer=info.manufacturer,
                model=info.model,
                serial_number=info.serial_number,
                sw_version=info.sw_version,
            )
        return await self._device.read()

    def diagnostics(self) -> dict[str, Any]:
        return {} if self._device is None else self._device.diagnostics()

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await release_connection(connection)


_POWER_UNITS = PowerConverter.VALID_UNITS
_ENERGY_UNITS = EnergyConverter.VALID_UNITS


class _EntitySource(_Source):
    """Existing Home Assistant sensors as a device (an inverter that allows one client)."""

    def __init__(self, hass: HomeAssistant, device: DeviceConfig) -> None:
        self._hass = hass
        counter = (
            Quantity.ENERGY_PRODUCED
            if device.role is DeviceRole.PRODUCTION
            else Quantity.ENERGY_IMPORTED
        )
        self._map: list[tuple[str, str, Quantity]] = [
            (field, entity_id, quantity)
            for field, entity_id, quantity in (
                ("power_entity", device.power_entity, Quantity.ACTIVE_POWER),
                ("import_entity", device.import_entity, counter),
                ("export_entity", device.export_entity, Quantity.ENERGY_EXPORTED),
            )
            if entity_id
        ]

    async def read(self) -> Reading:
        reading: Reading = {}
        for form_field, entity_id, quantity in self._map:
            reading[quantity] = self._value(form_field, entity_id, quantity)
        return reading

    def _value(self, form_field: str, entity_id: str, quantity: Quantity) -> float:
        state = self._hass.states.get(entity_id)
        if state is None:
            raise EntitySourceError(form_field, "entity_not_found", entity_id)
        if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            raise EntitySourceError(form_field, "entity_unavailable", entity_id)
        unit = state.attributes.get("unit_of_measurement")
        power = quantity is Quantity.ACTIVE_POWER
        if unit not in (_POWER_UNITS if power else _ENERGY_UNITS):
            raise EntitySourceError(form_field, "invalid_unit", entity_id)
        try:
            value = float(state.state)
        except ValueError as err:
            raise EntitySourceError(form_field, "entity_unavailable", entity_id) from err
        if power:
            return PowerConverter.convert(value, unit, "W")
        return EnergyConverter.convert(value, unit, "Wh")


def make_source(hass: HomeAssistant, device: DeviceConfig) -> _Source:
    """The reader of a configured device."""
    if device.source is DeviceSource.ENTITIES:
        return _EntitySource(hass, device)
    return _ModbusSource(device)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a test read found: the quantities the device has, who it is, its SunSpec layout."""

    quantities: tuple[Quantity, ...]
    identity: DeviceIdentity
    sunspec_layout: dict[str, Any] | None = None


async def async_probe_device(hass: HomeAssistant, device: DeviceConfig) -> ProbeResult:
    """Read the device once (test before configure); raise what the read raised.

    A SunSpec device is scanned here, once: its layout (where the chosen model is) is
    returned to be saved, so that starting Home Assistant does not scan it again.
    """
    if device.registers is not None:
        try:
            generic_register_rows(device.registers)
        except ValueError as err:
            raise EntitySourceError("registers", "invalid_registers", "") from err
    layout = None
    if device.source is DeviceSource.MODBUS and device.profile == "sunspec":
        layout = await _async_sunspec_layout(device)
        device = replace(device, sunspec_layout=layout)
    source = make_source(hass, device)
    try:
        reading = await source.read()
        refused = set(source.diagnostics().get("refused_optional", ()))
    except ValueError as err:  # the generic map, refused by the Modbus layer
        raise EntitySourceError("registers", "invalid_registers", "") from err
    finally:
        await source.close()
    # an optional register the device refused (EM24 without kWh(−)) gets no entity
    quantities = tuple(quantity for quantity in reading if str(quantity) not in refused)
    return ProbeResult(quantities, source.identity, layout)


async def _async_sunspec_layout(device: DeviceConfig) -> dict[str, Any]:
    """Scan a SunSpec device; the layout of the model asked for (default: the inverter)."""
    assert device.host is not None and device.unit is not None
    connection = acquire_connection(device.host, device.port or DEFAULT_PORT)
    try:
        info = await detect_sunspec(connection, device.unit)
    finally:
        await release_connection(connection)
    models = [
        model
        for model in info.readable_models
        if device.model_id is None or model.model_id == device.model_id
    ]
    if not models:
        raise ModbusProtocolError(
            f"no readable SunSpec model {device.model_id or ''} in "
            f"{[model.model_id for model in info.models]}"
        )
    chosen = preferred_model(models)
    return info.device_options(chosen)
