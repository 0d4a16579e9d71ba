"""Base entities: a device of a site, the site itself, the community."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .compat import via_device
from .const import CONF_ENTRY_TYPE, CONF_POD, DOMAIN, EntryType
from .coordinator import CommunityCoordinator, DeviceCoordinator, SiteCoordinator

MANUFACTURER = "CER Community"

#: The model shown for the integration's own devices, by language of Home Assistant (the
#: device registry has no translation for models); English for other languages.
DEVICE_MODELS: dict[str, dict[str, str]] = {
    "site": {"en": "Site (POD)", "it": "Sito (POD)"},
    "community": {"en": "Community dashboard", "it": "Cruscotto della comunità"},
}


def device_model(kind: str, language: str) -> str:
    """The model name of a site or community device in ``language`` (``it``, ``en-GB``…)."""
    names = DEVICE_MODELS[kind]
    return names.get(language.split("-", maxsplit=1)[0].lower(), names["en"])


def site_device_info(entry: ConfigEntry, language: str) -> DeviceInfo:
    """The device standing for a site (its POD), parent of the site's meters."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.data[CONF_POD])},
        name=entry.data.get(CONF_NAME, entry.title),
        manufacturer=MANUFACTURER,
        model=device_model("site", language),
        entry_type=DeviceEntryType.SERVICE,
    )


def community_device_info(entry: ConfigEntry, language: str) -> DeviceInfo:
    """The device standing for the community of a community-dashboard entry."""
    return DeviceInfo(
        identifiers={(DOMAIN, f"community_{entry.entry_id}")},
        name=entry.data.get(CONF_NAME, entry.title),
        manufacturer=MANUFACTURER,
        model=device_model("community", language),
        entry_type=DeviceEntryType.SERVICE,
    )


def device_identifier(entry: ConfigEntry, device_id: str) -> tuple[str, str]:
    """Device registry identifier of a meter or inverter of a site."""
    return (DOMAIN, f"{entry.data[CONF_POD]}_{device_id}")


class CerDeviceEntity(CoordinatorEntity[DeviceCoordinator]):
    """An entity of a meter or inverter of a site."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: DeviceCoordinator,
        description: EntityDescription,
        site_device_id: str,
    ) -> None:
        """Bind the entity to its device: unique id from the POD, device id and quantity."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.entry
        device = coordinator.device
        identity = coordinator.identity  # what the device told at its first read
        self._attr_unique_id = f"{entry.data[CONF_POD]}_{device.device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={device_identifier(entry, device.device_id)},
            name=f"{entry.data.get(CONF_NAME, entry.title)} {device.name}",
            manufacturer=device.manufacturer or identity.manufacturer,
            model=device.model or identity.model or device.profile,
            serial_number=device.serial_number or identity.serial_number,
            sw_version=identity.sw_version,
            **via_device(site_device_id, (DOMAIN, entry.data[CONF_POD])),  # type: ignore[typeddict-item]
        )


class CerSiteEntity(CoordinatorEntity[SiteCoordinator]):
    """An entity of a site: its hour so far and its uploads."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: SiteCoordinator, description: EntityDescription) -> None:
        """Unique id from the POD and the figure."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.entry
        self._attr_unique_id = f"{entry.data[CONF_POD]}_{description.key}"
        self._attr_device_info = site_device_info(entry, coordinator.hass.config.language)


class CerCommunityEntity(CoordinatorEntity[CommunityCoordinator]):
    """A community figure, on a community entry or on a site (the site's view of it)."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CommunityCoordinator, description: EntityDescription) -> None:
        """Unique id from the entry (community) or the POD (site)."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.entry
        if entry.data.get(CONF_ENTRY_TYPE) == EntryType.COMMUNITY:
            self._attr_unique_id = f"community_{entry.entry_id}_{description.key}"
            self._attr_device_info = community_device_info(entry, coordinator.hass.config.language)
        else:
            self._attr_unique_id = f"{entry.data[CONF_POD]}_{description.key}"
            self._attr_device_info = site_device_info(entry, coordinator.hass.config.language)
