"""Set up and unload a config entry on the Home Assistant under test."""

from __future__ import annotations

from homeassistant import config_entries, data_entry_flow
from homeassistant.const import CONF_NAME
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.const import CONF_POD, DOMAIN

POD = "IT001E00000001"


async def test_setup_and_unload_entry(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, title="Municipio", data={CONF_NAME: "Municipio", CONF_POD: POD}
    )
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.NOT_LOADED


async def test_user_flow_creates_a_site_and_rejects_a_bad_pod(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is data_entry_flow.FlowResultType.FORM

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Municipio", CONF_POD: "IT001X0000"}
    )
    assert result["type"] is data_entry_flow.FlowResultType.FORM
    assert result["errors"] == {CONF_POD: "invalid_pod"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Municipio", CONF_POD: " it001e00000001 "}
    )
    assert result["type"] is data_entry_flow.FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_NAME: "Municipio", CONF_POD: POD}
    await hass.async_block_till_done()


async def test_same_pod_twice_is_aborted(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=POD, data={CONF_POD: POD}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Municipio", CONF_POD: POD}
    )
    assert result["type"] is data_entry_flow.FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def test_reports_home_assistant_version() -> None:
    """Print the Home Assistant version under test, so the log shows which end ran."""
    print(f"Home Assistant {HA_VERSION}")
    assert HA_VERSION.startswith(("2024.3.", "2026.10."))
