"""Types of the integration's configuration: the devices of a site as stored in its options.

The runtime data of a loaded entry is in :mod:`.runtime` (this module imports no
coordinator: the coordinators import it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.const import CONF_HOST, CONF_MODEL, CONF_NAME, CONF_PORT

from .const import (
    CONF_DEVICE_ID,
    CONF_DEVICES,
    CONF_EXPORT_ENTITY,
    CONF_IMPORT_ENTITY,
    CONF_INVERT_POWER,
    CONF_MANUFACTURER,
    CONF_MODEL_ID,
    CONF_POWER_ENTITY,
    CONF_PROFILE,
    CONF_QUANTITIES,
    CONF_REGISTERS,
    CONF_ROLE,
    CONF_SERIAL_NUMBER,
    CONF_SOURCE,
    CONF_SUNSPEC_LAYOUT,
    CONF_SWAP_ENERGY,
    CONF_UNIT,
    DeviceRole,
    DeviceSource,
)
from .modbus.connection import canonical_host


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One device of a site, as stored in the entry options."""

    device_id: str
    name: str
    source: DeviceSource
    role: DeviceRole
    profile: str | None = None
    host: str | None = None
    port: int | None = None
    unit: int | None = None
    registers: str | None = None
    power_entity: str | None = None
    import_entity: str | None = None
    export_entity: str | None = None
    invert_power: bool = False
    swap_energy: bool = False
    model_id: int | None = None
    """SunSpec model to read when the device has several (an inverter and its meter)."""
    sunspec_layout: dict[str, Any] | None = None
    """Where the SunSpec model is (saved at the test read: no scan at start-up)."""
    quantities: tuple[str, ...] = ()
    """Quantities found by the test read: the entities created even while it sleeps."""
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DeviceConfig:
        """Read a device from the entry options."""
        return cls(
            device_id=raw[CONF_DEVICE_ID],
            name=raw[CONF_NAME],
            source=DeviceSource(raw[CONF_SOURCE]),
            role=DeviceRole(raw[CONF_ROLE]),
            profile=raw.get(CONF_PROFILE),
            host=raw.get(CONF_HOST),
            port=raw.get(CONF_PORT),
            unit=raw.get(CONF_UNIT),
            registers=raw.get(CONF_REGISTERS),
            power_entity=raw.get(CONF_POWER_ENTITY),
            import_entity=raw.get(CONF_IMPORT_ENTITY),
            export_entity=raw.get(CONF_EXPORT_ENTITY),
            invert_power=bool(raw.get(CONF_INVERT_POWER, False)),
            swap_energy=bool(raw.get(CONF_SWAP_ENERGY, False)),
            model_id=raw.get(CONF_MODEL_ID),
            sunspec_layout=raw.get(CONF_SUNSPEC_LAYOUT),
            quantities=tuple(raw.get(CONF_QUANTITIES, ())),
            manufacturer=raw.get(CONF_MANUFACTURER),
            model=raw.get(CONF_MODEL),
            serial_number=raw.get(CONF_SERIAL_NUMBER),
        )

    def as_dict(self) -> dict[str, Any]:
        """The form stored in the entry options (keys without a value left out)."""
        raw: dict[str, Any] = {
            CONF_DEVICE_ID: self.device_id,
            CONF_NAME: self.name,
            CONF_SOURCE: str(self.source),
            CONF_ROLE: str(self.role),
            CONF_PROFILE: self.profile,
            CONF_HOST: self.host,
            CONF_PORT: self.port,
            CONF_UNIT: self.unit,
            CONF_REGISTERS: self.registers,
            CONF_POWER_ENTITY: self.power_entity,
            CONF_IMPORT_ENTITY: self.import_entity,
            CONF_EXPORT_ENTITY: self.export_entity,
            CONF_INVERT_POWER: self.invert_power or None,
            CONF_SWAP_ENERGY: self.swap_energy or None,
            CONF_MODEL_ID: self.model_id,
            CONF_SUNSPEC_LAYOUT: self.sunspec_layout,
            CONF_QUANTITIES: list(self.quantities) or None,
            CONF_MANUFACTURER: self.manufacturer,
            CONF_MODEL: self.model,
            CONF_SERIAL_NUMBER: self.serial_number,
        }
        return {key: value for key, value in raw.items() if value is not None}

    @property
    def connection_key(self) -> tuple[str, int, int, int | None] | None:
        """Host, port, unit (and SunSpec model) of a Modbus device: what makes it the same
        device. An inverter and its meter behind one SunSpec address differ by model."""
        if self.source is DeviceSource.MODBUS and self.host is not None:
            host = canonical_host(self.host)  # localhost and 127.0.0.1 are one device
            return (host, self.port or 0, self.unit or 0, self.model_id)
        return None


def devices_of(options: Mapping[str, Any]) -> list[DeviceConfig]:
    """The devices stored in an entry's options."""
    return [DeviceConfig.from_dict(raw) for raw in options.get(CONF_DEVICES, [])]
