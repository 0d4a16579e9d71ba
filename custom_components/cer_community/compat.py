"""The few Home Assistant APIs that changed between 2024.3 and 2026.10, guarded in one place.

mypy checks this package against Home Assistant 2024.3, the oldest release we support.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult
else:
    try:  # HA 2024.4 and later
        from homeassistant.config_entries import ConfigFlowResult
    except ImportError:  # HA 2024.3
        from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult

__all__ = [
    "ConfigFlowResult",
    "coordinator_entry_kwargs",
    "get_runtime_data",
    "set_runtime_data",
    "update_failed",
    "via_device",
]


@cache
def _coordinator_takes_config_entry() -> bool:
    """Whether ``DataUpdateCoordinator`` has the ``config_entry=`` keyword (HA 2024.11+)."""
    return "config_entry" in inspect.signature(DataUpdateCoordinator.__init__).parameters


def coordinator_entry_kwargs(entry: ConfigEntry) -> dict[str, Any]:
    """Keyword arguments that tie a coordinator to its entry on every supported release.

    From 2024.11 the entry is passed explicitly; before, the coordinator takes it from the
    context variable Home Assistant sets while it sets up the entry.
    """
    return {"config_entry": entry} if _coordinator_takes_config_entry() else {}


def set_runtime_data(entry: ConfigEntry, data: object) -> None:
    """Store the entry's runtime data.

    ``ConfigEntry.runtime_data`` is declared (and generic) only from 2024.6, but assigning the
    attribute works on 2024.3 as well: ``ConfigEntry.__setattr__`` guards only its own fields.
    """
    setattr(entry, "runtime_data", data)  # noqa: B010


def get_runtime_data(entry: ConfigEntry) -> Any:
    """The entry's runtime data, or ``None`` when the entry is not loaded."""
    return getattr(entry, "runtime_data", None)


def update_failed(message: str, translation_key: str, placeholders: dict[str, str]) -> UpdateFailed:
    """An ``UpdateFailed`` with a translated message where the release supports it.

    ``UpdateFailed`` derives from ``HomeAssistantError`` (and so takes translation keywords)
    only from 2024.9; before, it is a plain ``Exception``.
    """
    if issubclass(UpdateFailed, HomeAssistantError):
        failed: UpdateFailed = cast(Any, UpdateFailed)(
            message,
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )
        return failed
    return UpdateFailed(message)


def via_device(parent_id: str, parent_identifier: tuple[str, str]) -> dict[str, Any]:
    """The ``DeviceInfo`` keys linking a device to its parent.

    ``via_device_id`` (the parent's registry id) replaces the ``via_device`` identifier in
    recent releases (the identifier is deprecated, to stop working in 2027.8); HA 2024.3
    knows only ``via_device``.
    """
    if "via_device_id" in DeviceInfo.__annotations__:
        return {"via_device_id": parent_id}
    return {"via_device": parent_identifier}
