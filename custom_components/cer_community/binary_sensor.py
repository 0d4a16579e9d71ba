"""Binary sensor "community surplus": the community injects more than it withdraws now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .api import CommunityLive
from .compat import get_runtime_data
from .entity import CerCommunityEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CerCommunityBinarySensorDescription(BinarySensorEntityDescription):
    """A yes/no figure of the community."""

    is_on_fn: Callable[[CommunityLive], bool]


BINARY_SENSORS: tuple[CerCommunityBinarySensorDescription, ...] = (
    CerCommunityBinarySensorDescription(
        key="community_surplus",
        translation_key="community_surplus",
        is_on_fn=lambda live: live.surplus_w > 0,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Create the community binary sensors (site and community entries alike)."""
    coordinator = get_runtime_data(entry).community
    async_add_entities(
        CerCommunityBinarySensor(coordinator, description) for description in BINARY_SENSORS
    )


class CerCommunityBinarySensor(CerCommunityEntity, BinarySensorEntity):
    """On while the community has surplus power (a good time to move loads)."""

    entity_description: CerCommunityBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Whether there is surplus in the last figures."""
        data: CommunityLive | None = self.coordinator.data
        return None if data is None else self.entity_description.is_on_fn(data)
