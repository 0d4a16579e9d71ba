"""Repair flows: confirm that a held-back lifetime counter was reset or its meter replaced;
acknowledge an alert of the backend (``alerts.py``)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult

from .alerts import ISSUE_PREFIX as ALERT_ISSUE_PREFIX
from .alerts import AlertsCoordinator
from .api import CerApiAuthError, CerApiError
from .compat import get_runtime_data
from .const import LOGGER
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


class AcknowledgeAlertFlow(RepairsFlow):
    """Fixing an alert's issue acknowledges it on the backend with a note."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Which alert of which entry."""
        self._data = data

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Start with the note."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Ask for the note, then acknowledge."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self.hass.config_entries.async_get_entry(self._data["entry_id"])
            runtime = None if entry is None else get_runtime_data(entry)
            coordinator = getattr(runtime, "alerts", None)
            if not isinstance(coordinator, AlertsCoordinator):
                return self.async_abort(reason="entry_not_loaded")
            note = str(user_input.get("note", "")).strip()
            if not note:
                errors["note"] = "note_required"
            else:
                try:
                    await coordinator.client.ack_alert(int(self._data["alert_id"]), note)
                except CerApiAuthError:
                    return self.async_abort(reason="ack_forbidden")
                except CerApiError as err:
                    if err.status == 404:  # resolved meanwhile
                        await coordinator.async_request_refresh()
                        return self.async_create_entry(title="", data={})
                    LOGGER.warning("Could not acknowledge alert %s: %s", self._data, err)
                    errors["base"] = "cannot_connect"
                else:
                    await coordinator.async_request_refresh()
                    return self.async_create_entry(title="", data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({vol.Required("note"): str}),
            errors=errors,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a held counter issue, or of a backend alert (acknowledge it)."""
    if issue_id.startswith(ALERT_ISSUE_PREFIX):
        return AcknowledgeAlertFlow(data or {})
    return CounterResetRepairFlow(data or {})
