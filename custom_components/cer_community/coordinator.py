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

Where readings come from is :mod:`.sources`, the counter plausibility guard
:mod:`.counter_guard`, when a silent inverter is asleep :mod:`.asleep`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Literal

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.sun import is_up
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .accounting import DeviceSample, HourFigures
from .api import CerApiAuthError, CerApiClient, CerApiConnectionError, CerApiError, CommunityLive
from .asleep import SleepWatch, asleep_reading
from .backend_errors import backend_update
from .compat import coordinator_entry_kwargs, update_failed
from .const import COMMUNITY_SCAN_INTERVAL, DEVICE_SCAN_INTERVAL, DOMAIN, LOGGER, DeviceRole
from .counter_guard import CounterGuard, HeldCounter, counter_issue_id
from .data import DeviceConfig
from .modbus.errors import ModbusProtocolError, ModbusUnavailable
from .modbus.quantities import Quantity
from .sources import (
    DeviceIdentity,
    EntitySourceError,
    Reading,
    async_probe_device,
    make_source,
)
from .uploader import SiteUploader

__all__ = [
    "BackendAuthError",
    "BackendConnectionError",
    "CommunityCoordinator",
    "DeviceCoordinator",
    "DeviceIdentity",
    "EntitySourceError",
    "ModbusProtocolError",
    "ModbusUnavailable",
    "Reading",
    "SiteCoordinator",
    "async_check_backend",
    "async_probe_device",
]

BackendAuthError = CerApiAuthError
BackendConnectionError = (CerApiConnectionError, CerApiError)


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
        self.uploader.unavailable_devices = tuple(
            coordinator.device.name
            for coordinator in self.devices.values()
            if not coordinator.last_update_success
        )
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

    @backend_update("the community's live figures")
    async def _async_update_data(self) -> CommunityLive:
        return await self._reader()


def hour_start(now: datetime | None = None) -> datetime:
    """Start of the current local hour (for the local community figures)."""
    moment = dt_util.as_local(now or dt_util.utcnow())
    return moment.replace(minute=0, second=0, microsecond=0)
