"""Config flow for CER Community."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow
from homeassistant.const import CONF_NAME

from .compat import ConfigFlowResult
from .const import CONF_POD, DOMAIN
from .pod import is_valid_pod, normalise_pod

SITE_SCHEMA = vol.Schema({vol.Required(CONF_NAME): str, vol.Required(CONF_POD): str})


class CerCommunityConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for CER Community."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the building's name and POD."""
        errors: dict[str, str] = {}
        if user_input is not None:
            pod = normalise_pod(user_input[CONF_POD])
            if not is_valid_pod(pod):
                errors[CONF_POD] = "invalid_pod"
            else:
                await self.async_set_unique_id(pod)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=user_input[CONF_NAME],
                    data={CONF_NAME: user_input[CONF_NAME], CONF_POD: pod},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, user_input),
            errors=errors,
        )
