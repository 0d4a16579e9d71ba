"""Coordinators: one per device, one per site (hourly accounting), one for community figures.

* :class:`DeviceCoordinator` reads one device (Modbus profile or existing HA entities). It has
  no timer of its own: the site coordinator refreshes every device of the site together, so
  that the accounting gets one sample of the whole site per poll. A device that does not
  answer raises :class:`UpdateFailed`: its entities become unavailable (one log line from the
  coordinator) and come back with the next good read.
* :class:`SiteCoordinator` polls the devices, feeds the hourly accounting and hands closed
  hours to the uploader. Its data is the hour so far.
* :class:`CommunityCoordinator` reads the community's live figures: from the backend, or
  computed locally across the sites of this Home Assistant when there is no backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.sun import is_up
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
from homeassistant.util.yaml import parse_yaml

from .accounting import DeviceSample, HourFigures
from .api import CerApiAuthError, CerApiClient, CerApiConnectionError, CerApiError, CommunityLive
from .asleep import SleepWatch, asleep_reading
from .compat import coordinator_entry_kwargs, update_failed
from .const import (
    COMMUNITY_SCAN_INTERVAL,
    DEFAULT_PORT,
    DEVICE_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_PLAUSIBLE_POWER_W,
    MIN_PLAUSIBLE_STEP_WH,
    DeviceRole,
    DeviceSource,
)
from .data import DeviceConfig
from .modbus.connection import ModbusConnection, acquire_connection, release_connection
from .modbus.device import ModbusDevice, build_device
from .modbus.errors import ModbusProtocolError, ModbusUnavailable
from .modbus.quantities import Quantity
from .modbus.sunspec import detect_sunspec, preferred_model
from .uploader import SiteUploader

__all__ = [
    "BackendAuthError",
    "BackendConnectionError",
    "CommunityCoordinator",
    "DeviceCoordinator",
    "EntitySourceError",
    "ModbusProtocolError",
    "ModbusUnavailable",
    "SiteCoordinator",
    "async_check_backend",
    "async_probe_device",
]

BackendAuthError = CerApiAuthError
BackendConnectionError = (CerApiConnectionError, CerApiError)

Reading = dict[Quantity, float | int | None]
LIFETIME_COUNTERS = (Quantity.ENERGY_IMPORTED, Quantity.ENERGY_EXPORTED, Quantity.ENERGY_PRODUCED)


class EntitySourceError(Exception):
    """An entity chosen as a device's source is missing, unavailable or in the wrong unit."""

    def __init__(self, field: str, reason: str, entity_id: str) -> None:
        """``field`` is the form field, ``reason`` the translation key of the error."""
        super().__init__(f"{entity_id}: {reason}")
        self.field = field
        self.reason = reason
        self.entity_id = entity_id


# --------------------------------------------------------------------------- backend


async def async_check_backend(
    hass: HomeAssistant, url: str, token: str, pod: str | None = None
) -> None:
    """Raise unless ``url`` is a backend of the contract that accepts ``token`` (and, with
    ``pod``, lets it upload that POD's readings: a site token of that POD)."""
    client = CerApiClient.from_hass(hass, url, token)
    try:
        await client.async_validate()
    except (CerApiAuthError, CerApiConnectionError):
        raise
    except CerApiError as err:  # e.g. 404: something answers there, not this contract
        raise CerApiConnectionError(f"not a CER Community backend: {err}") from err
    if pod is not None:
        await client.async_check_site(pod)


# --------------------------------------------------------------------------- sources


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


# --------------------------------------------------------------------------- counters


@dataclass(frozen=True, slots=True)
class HeldCounter:
    """A lifetime counter value held back from publication."""

    quantity: Quantity
    kind: Literal["backwards", "jump"]
    published: float
    value: float


@dataclass(slots=True)
class CounterGuard:
    """Holds back lifetime counter values that go backwards or jump implausibly.

    A held counter keeps showing its last good value. It is published again when it comes
    back in line (the odd value was a misread), or from the value read after the user
    confirmed in the repair flow that the meter was reset or replaced.
    """

    max_power_w: float = MAX_PLAUSIBLE_POWER_W
    min_step_wh: float = MIN_PLAUSIBLE_STEP_WH
    _good: dict[Quantity, tuple[float, float]] = field(default_factory=dict)
    held: dict[Quantity, HeldCounter] = field(default_factory=dict)
    _rebase: set[Quantity] = field(default_factory=set)

    def filter(self, reading: Reading, now: float) -> tuple[Reading, list[HeldCounter]]:
        """The reading to publish, and the counters newly held back by it."""
        published = dict(reading)
        newly_held: list[HeldCounter] = []
        for quantity in LIFETIME_COUNTERS:
            value = reading.get(quantity)
            if value is None:
                continue
            good = self._good.get(quantity)
            if good is None or quantity in self._rebase:
                self._rebase.discard(quantity)
                self._accept(quantity, float(value), now)
                continue
            last, at = good
            delta = float(value) - last
            allowed = max(self.min_step_wh, self.max_power_w * max(now - at, 0.0) / 3600)
            kind: Literal["backwards", "jump"] | None = (
                "backwards" if delta < 0 else "jump" if delta > allowed else None
            )
            if kind is None:
                self._accept(quantity, float(value), now)
                continue
            published[quantity] = last
            if quantity not in self.held:
                held = HeldCounter(quantity, kind, last, float(value))
                self.held[quantity] = held
                newly_held.append(held)
        return published, newly_held

    def _accept(self, quantity: Quantity, value: float, now: float) -> None:
        self._good[quantity] = (value, now)
        self.held.pop(quantity, None)

    def accept_next(self, quantity: Quantity) -> None:
        """The user confirmed a reset: take the next value as the new base."""
        self._rebase.add(quantity)


def counter_issue_id(entry_id: str, device_id: str, quantity: Quantity) -> str:
    """Repair issue id of a held counter."""
    return f"counter_{entry_id}_{device_id}_{quantity}"


# --------------------------------------------------------------------------- coordinators


class DeviceCoordinator(DataUpdateCoordinator[Reading]):
    """Readings of one device; refreshed by its site's coordinator."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, device: DeviceConfig) -> None:
        """Create the coordinator (its source connects at the first read)."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{entry.title} {device.name}",
            update_interval=None,
            **coordinator_entry_kwargs(entry),
        )
        self.entry = entry
        self.device = device
        self.source = make_source(hass, device)
        self.guard = CounterGuard()
        self.raw: Reading = {}
        self.sleep = SleepWatch()
        self.asleep = False
        """An inverter that does not answer because it sleeps (see :mod:`.asleep`): its
        reading is synthetic (power 0, counters held)."""

    @property
    def identity(self) -> DeviceIdentity:
        """What the device told about itself (after its first read)."""
        return self.source.identity

    async def _async_update_data(self) -> Reading:
        try:
            raw = await self.source.read()
        except ModbusUnavailable as err:
            if self._is_asleep():
                if not self.asleep:
                    LOGGER.debug("%s is asleep (no answer: %s): power 0", self.device.name, err)
                self.asleep = True
                return asleep_reading(self.data or {}, self._quantities())
            raise update_failed(
                f"{self.device.name} does not answer: {err}",
                "device_unavailable",
                {"device": self.device.name, "error": str(err)},
            ) from err
        except (ModbusProtocolError, ValueError) as err:
            raise update_failed(
                f"{self.device.name} answered with unexpected data: {err}",
                "device_invalid_response",
                {"device": self.device.name, "error": str(err)},
            ) from err
        except EntitySourceError as err:
            raise update_failed(
                f"{self.device.name}: source entity {err.entity_id} is not usable ({err.reason})",
                "source_entity_unavailable",
                {"device": self.device.name, "entity": err.entity_id},
            ) from err
        self.raw = raw
        self.sleep.answered()
        self.asleep = False
        held_before = set(self.guard.held)
        published, newly_held = self.guard.filter(raw, time.monotonic())
        for held in newly_held:
            self._raise_counter_issue(held)
        for quantity in held_before - set(self.guard.held):
            issue_id = counter_issue_id(self.entry.entry_id, self.device.device_id, quantity)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        return published

    @property
    def accounted_reading(self) -> Reading:
        """What the site's accounting gets: the raw reading, or while asleep the asleep
        reading (power 0, counters held: no energy, no gap)."""
        return (self.data or {}) if self.asleep else self.raw

    def _is_asleep(self) -> bool:
        """Whether this silent device is an inverter asleep (night, or idle before), see
        :mod:`.asleep`; meters and loads are never asleep."""
        if self.device.role is not DeviceRole.PRODUCTION:
            return False
        now = dt_util.utcnow()
        return self.sleep.is_asleep(self.data or {}, now, sun_up=is_up(self.hass, now))

    def _quantities(self) -> list[Quantity]:
        """The device's quantities (found by its test read, else its last reading)."""
        return [Quantity(q) for q in self.device.quantities] or list(self.data or {})

    def _raise_counter_issue(self, held: HeldCounter) -> None:
        LOGGER.warning(
            "%s: lifetime counter %s %s (%.0f Wh after %.0f Wh); the last good value is kept",
            self.device.name,
            held.quantity,
            "went backwards" if held.kind == "backwards" else "jumped implausibly",
            held.value,
            held.published,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            counter_issue_id(self.entry.entry_id, self.device.device_id, held.quantity),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"counter_{held.kind}",
            translation_placeholders={
                "device": self.device.name,
                "site": self.entry.title,
                "quantity": str(held.quantity),
                "published": f"{held.published:.0f}",
                "value": f"{held.value:.0f}",
            },
            data={
                "entry_id": self.entry.entry_id,
                "device_id": self.device.device_id,
                "quantity": str(held.quantity),
            },
        )

    async def async_close(self) -> None:
        """Give back the source's connection; forget the held counters with their issues
        (the guard starts again from the first value read after a reload)."""
        for quantity in self.guard.held:
            issue_id = counter_issue_id(self.entry.entry_id, self.device.device_id, quantity)
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        await self.source.close()


class SiteCoordinator(DataUpdateCoordinator["HourFigures | None"]):
    """Polls the devices of a site together and feeds the hourly accounting.

    The accounting and upload pipeline is the site's :class:`SiteUploader`; it is given one
    sample of the whole site per poll (the devices that answered). Data: the hour so far.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        devices: Mapping[str, DeviceCoordinator],
        uploader: SiteUploader,
    ) -> None:
        """Create the site's poller."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{entry.title} site",
            update_interval=DEVICE_SCAN_INTERVAL,
            **coordinator_entry_kwargs(entry),
        )
        self.entry = entry
        self.devices = devices
        self.uploader = uploader

    async def _async_update_data(self) -> HourFigures | None:
        await asyncio.gather(*(device.async_refresh() for device in self.devices.values()))
        now = dt_util.utcnow()
        samples = [
            DeviceSample(device_id, coordinator.device.role, reading)
            for device_id, coordinator in self.devices.items()
            if coordinator.last_update_success and (reading := coordinator.accounted_reading)
        ]
        if samples:
            self.uploader.record(now, samples)
        return self.uploader.hour_so_far(now) if self.uploader.accountant.last_sample else None


CommunityReader = Callable[[], Awaitable[CommunityLive]]


class CommunityCoordinator(DataUpdateCoordinator[CommunityLive]):
    """The community's live figures (shared energy this hour, surplus, TIP estimate)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        reader: CommunityReader,
        *,
        source: Literal["backend", "local"],
    ) -> None:
        """``reader`` is the backend client's ``get_community_live`` or a local computation."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{entry.title} community",
            update_interval=COMMUNITY_SCAN_INTERVAL,
            **coordinator_entry_kwargs(entry),
        )
        self.entry = entry
        self.source = source
        self._reader = reader

    async def _async_update_data(self) -> CommunityLive:
        try:
            return await self._reader()
        except CerApiAuthError as err:
            raise ConfigEntryAuthFailed(
                f"The backend refused the token: {err}",
                translation_domain=DOMAIN,
                translation_key="backend_auth_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except CerApiError as err:
            raise update_failed(
                f"The backend is not reachable: {err}",
                "backend_unavailable",
                {"error": str(err)},
            ) from err


def hour_start(now: datetime | None = None) -> datetime:
    """Start of the current local hour (for the local community figures)."""
    moment = dt_util.as_local(now or dt_util.utcnow())
    return moment.replace(minute=0, second=0, microsecond=0)
