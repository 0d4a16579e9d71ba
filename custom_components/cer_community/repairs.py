"""Repair flows: confirm that a held-back lifetime counter was reset or its meter replaced."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult

from .compat import get_runtime_data
from .modbus.quantities import Quantity
from .runtime import SiteRuntimeData


class CounterResetRepairFlow(RepairsFlow):
    """The user confirms the new counter value: it becomes the base from the next poll."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Remember which counter of which device of which entry."""
        self._data = data

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Accept the counter's new value."""
        if user_input is not None:
            entry = self.hass.config_entries.async_get_entry(self._data["entry_id"])
            runtime = None if entry is None else get_runtime_data(entry)
            if isinstance(runtime, SiteRuntimeData):
                coordinator = runtime.devices.get(self._data["device_id"])
                if coordinator is not None:
                    coordinator.guard.accept_next(Quantity(self._data["quantity"]))
                    await coordinator.async_request_refresh()
            return self.async_create_entry(title="", data={})
        return self.async_show_form(step_id="confirm", data_schema=vol.Schema({}))


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a held counter issue."""
    return CounterResetRepairFlow(data or {})
