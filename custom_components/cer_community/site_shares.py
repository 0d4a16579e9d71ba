"""Each site's share of the month on the community entry (issue #14 item 11).

The backend's month summary says, per POD, its part of the community's shared energy and of
the estimated income (half of what the settlement attributes to it on the injection side, its
plants' first-in allocation, and on the withdrawal side, its coincident withdrawal; shares
that add up exactly to the community's figures).

Two sensors per site, each one value with its own long-term statistics (Home Assistant keeps
history and statistics per entity, not per attribute): the site's share of the month's
shared energy (with both sides and the percentage of the community as attributes) and its
share of the month's estimated income. The sites are the site entries of this Home Assistant
whose POD the summary lists (named after the entry); a site entry set up later gets its
sensors at once, from the summary already read; households (no Home Assistant) none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import SiteShare
from .const import CONF_ENTRY_TYPE, CONF_POD, DOMAIN, SIGNAL_SITE_SET_UP
from .entity import community_device_info
from .money import MoneyCoordinator


@dataclass(frozen=True, kw_only=True)
class SiteShareDescription(SensorEntityDescription):
    """A site's share of the month."""

    value_fn: Callable[[SiteShare], int | Decimal]


SITE_SHARE_SENSORS: tuple[SiteShareDescription, ...] = (
    SiteShareDescription(
        key="site_share_energy_month",
        translation_key="site_share_energy_month",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda share: share.share_wh,
    ),
    SiteShareDescription(
        key="site_share_income_month",
        translation_key="site_share_income_month",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement="EUR",
        suggested_display_precision=2,
        value_fn=lambda share: share.share_estimated_eur,
    ),
)


def local_sites(hass: HomeAssistant) -> dict[str, str]:
    """The site entries of this Home Assistant: POD → title."""
    return {
        entry.data[CONF_POD]: entry.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_ENTRY_TYPE) == "site" and entry.data.get(CONF_POD)
    }


@callback
def async_track_site_shares(
    hass: HomeAssistant,
    entry: ConfigEntry,
    coordinator: MoneyCoordinator,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the share sensors of each local site the summary lists: now, at each update, and
    when a site entry is set up."""
    added: set[str] = set()

    @callback
    def add_new_sites() -> None:
        listed = coordinator.data.month_sites if coordinator.data else {}
        new = {
            pod: title
            for pod, title in local_sites(hass).items()
            if pod in listed and pod not in added
        }
        if not new:
            return
        added.update(new)
        async_add_entities(
            SiteShareSensor(coordinator, description, pod, title)
            for pod, title in sorted(new.items(), key=lambda item: item[1])
            for description in SITE_SHARE_SENSORS
        )

    add_new_sites()
    entry.async_on_unload(coordinator.async_add_listener(add_new_sites))
    entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_SITE_SET_UP, add_new_sites))


class SiteShareSensor(CoordinatorEntity[MoneyCoordinator], SensorEntity):
    """A site's share of the month's shared energy or estimated income."""

    _attr_has_entity_name = True
    entity_description: SiteShareDescription

    def __init__(
        self,
        coordinator: MoneyCoordinator,
        description: SiteShareDescription,
        pod: str,
        site: str,
    ) -> None:
        """On the community's device, named after the site entry."""
        super().__init__(coordinator)
        self.entity_description = description
        self._pod = pod
        entry = coordinator.entry
        self._attr_unique_id = f"community_{entry.entry_id}_{pod}_{description.key}"
        self._attr_translation_placeholders = {"site": site}
        self._attr_device_info = community_device_info(entry, coordinator.hass.config.language)

    @property
    def _share(self) -> SiteShare | None:
        data = self.coordinator.data
        return None if data is None else data.month_sites.get(self._pod)

    @property
    def available(self) -> bool:
        """Unavailable while the summary does not list the site."""
        return super().available and self._share is not None

    @property
    def native_value(self) -> int | Decimal | None:
        """The site's share of the month so far."""
        share = self._share
        return None if share is None else self.entity_description.value_fn(share)

    @property
    def last_reset(self) -> datetime | None:
        """The start of the month the share counts from."""
        data = self.coordinator.data
        return None if data is None else data.month_start

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The POD, both sides the settlement attributes to it and its part of the
        community's month (energy sensor only)."""
        share = self._share
        data = self.coordinator.data
        if (
            share is None
            or data is None
            or self.entity_description.key != "site_share_energy_month"
        ):
            return None
        percent = share.share_wh * 100 / data.month_shared_wh if data.month_shared_wh else 0
        return {
            "pod": self._pod,
            "shared_injected_wh": share.shared_injected_wh,
            "shared_withdrawn_wh": share.shared_withdrawn_wh,
            "share_of_community_percent": round(percent, 1),
        }
