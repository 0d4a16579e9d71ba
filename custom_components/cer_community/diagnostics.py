"""Diagnostics of a site or community entry: configuration, devices, hours and uploads.

Tokens, PODs, member ids, hosts and serial numbers are redacted.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .compat import get_runtime_data
from .const import (
    CONF_BACKEND_URL,
    CONF_MEMBER_ID,
    CONF_POD,
    CONF_SERIAL_NUMBER,
    CONF_TOKEN,
)
from .runtime import CommunityRuntimeData, SiteRuntimeData

TO_REDACT = {
    CONF_TOKEN,
    CONF_POD,
    "pod",
    CONF_MEMBER_ID,
    CONF_HOST,
    CONF_SERIAL_NUMBER,
    CONF_BACKEND_URL,
    "unique_id",
    "connection",
}


def _community(runtime: Any) -> dict[str, Any]:
    coordinator = runtime.community
    return {
        "source": coordinator.source,
        "last_update_success": coordinator.last_update_success,
        "data": None if coordinator.data is None else asdict(coordinator.data),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """What a maintainer needs to understand a problem, without the secrets."""
    result: dict[str, Any] = {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        )
    }
    runtime = get_runtime_data(entry)
    if isinstance(runtime, CommunityRuntimeData):
        result["community"] = _community(runtime)
    elif isinstance(runtime, SiteRuntimeData):
        result["devices"] = {
            device_id: async_redact_data(
                {
                    "name": coordinator.device.name,
                    "profile": coordinator.device.profile,
                    "role": str(coordinator.device.role),
                    "last_update_success": coordinator.last_update_success,
                    "identity": asdict(coordinator.identity),
                    "reading": {str(k): v for k, v in (coordinator.raw or {}).items()},
                    "source": coordinator.source.diagnostics(),
                    "held_counters": {
                        str(quantity): asdict(held)
                        for quantity, held in coordinator.guard.held.items()
                    },
                },
                TO_REDACT,
            )
            for device_id, coordinator in runtime.devices.items()
        }
        figures = runtime.site.data
        result["hour_so_far"] = None if figures is None else asdict(figures)
        result["upload"] = asdict(runtime.uploader.status)
        result["community"] = _community(runtime)
    return result
