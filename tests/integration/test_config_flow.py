"""Config, options, reauth and reconfigure flows, every error path included.

The backend is a real aiohttp server and the devices real pymodbus servers, all on 127.0.0.1;
"cannot connect" is a port where nothing listens.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.const import (
    CONF_BACKEND_URL,
    CONF_DEVICE_ID,
    CONF_DEVICES,
    CONF_EXPORT_ENTITY,
    CONF_IMPORT_ENTITY,
    CONF_INVERT_POWER,
    CONF_MEMBER_ID,
    CONF_MODEL_ID,
    CONF_POD,
    CONF_POWER_ENTITY,
    CONF_PROFILE,
    CONF_REGISTERS,
    CONF_ROLE,
    CONF_SITE_ROLE,
    CONF_SOURCE,
    CONF_SWAP_ENERGY,
    CONF_TOKEN,
    CONF_UNIT,
    DOMAIN,
)
from tests.integration.backend_stub import BackendStub, Token
from tests.integration.conftest import (
    OTHER_POD,
    POD,
    SITE_TOKEN,
    VIEWER_TOKEN,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Sdm630Simulator, SunSpecSimulator, free_port

FLOW = "custom_components.cer_community.config_flow"
UNKNOWN_POD = "IT001E00000003"  # a valid POD the backend's community does not have
SITE_INPUT = {CONF_NAME: "Municipio", CONF_POD: POD, CONF_SITE_ROLE: "prosumer"}


async def _start(hass: HomeAssistant, step: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["site", "community"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return dict(result)


async def _configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(flow_id, data))


# --------------------------------------------------------------------------- site


async def test_site_without_backend(hass: HomeAssistant) -> None:
    result = await _start(hass, "site")
    result = await _configure(
        hass, result["flow_id"], {**SITE_INPUT, CONF_POD: "IT001X0000", CONF_MEMBER_ID: " "}
    )
    assert result["errors"] == {CONF_POD: "invalid_pod"}

    with patch("custom_components.cer_community.async_setup_entry", return_value=True):
        result = await _configure(
            hass,
            result["flow_id"],
            {**SITE_INPUT, CONF_POD: " it001e00000001 ", CONF_MEMBER_ID: "comune"},
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Municipio"
    assert result["data"] == {
        "entry_type": "site",
        CONF_NAME: "Municipio",
        CONF_POD: POD,
        CONF_SITE_ROLE: "prosumer",
        CONF_MEMBER_ID: "comune",
    }
    assert result["options"] == {CONF_DEVICES: []}
    assert result["result"].unique_id == POD


async def test_site_pod_already_configured(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=POD, data={CONF_POD: POD}).add_to_hass(hass)
    result = await _start(hass, "site")
    result = await _configure(hass, result["flow_id"], SITE_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("backend_input", "errors"),
    [
        ({CONF_BACKEND_URL: "http://127.0.0.1:1"}, {CONF_TOKEN: "token_required"}),
        ({CONF_TOKEN: SITE_TOKEN}, {CONF_BACKEND_URL: "url_required"}),
        ({CONF_BACKEND_URL: "ftp://x", CONF_TOKEN: "t"}, {CONF_BACKEND_URL: "invalid_url"}),
        ({CONF_BACKEND_URL: "http://[bad", CONF_TOKEN: "t"}, {CONF_BACKEND_URL: "invalid_url"}),
    ],
)
async def test_site_backend_fields(
    hass: HomeAssistant, backend_input: dict[str, str], errors: dict[str, str]
) -> None:
    result = await _start(hass, "site")
    result = await _configure(hass, result["flow_id"], {**SITE_INPUT, **backend_input})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_site_with_backend_errors_then_success(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    result = await _start(hass, "site")
    flow_id = result["flow_id"]

    result = await _configure(
        hass, flow_id, {**SITE_INPUT, CONF_BACKEND_URL: backend.url, CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    nowhere = f"http://127.0.0.1:{free_port()}"
    result = await _configure(
        hass, flow_id, {**SITE_INPUT, CONF_BACKEND_URL: nowhere, CONF_TOKEN: SITE_TOKEN}
    )
    # the backend's own error, not the Modbus device's "no answer" (issue #14 item 10)
    assert result["errors"] == {"base": "backend_unreachable"}

    # a URL that answers, but not with the contract (404)
    result = await _configure(
        hass,
        flow_id,
        {**SITE_INPUT, CONF_BACKEND_URL: f"{backend.url}/other", CONF_TOKEN: SITE_TOKEN},
    )
    assert result["errors"] == {"base": "backend_unreachable"}

    # a viewer token reads the community but may not upload: refused now, not a minute later
    result = await _configure(
        hass, flow_id, {**SITE_INPUT, CONF_BACKEND_URL: backend.url, CONF_TOKEN: VIEWER_TOKEN}
    )
    assert result["errors"] == {"base": "token_not_site"}
    # a site token, but of another POD
    backend.tokens["site-of-other-pod"] = Token("site", {OTHER_POD})
    result = await _configure(
        hass,
        flow_id,
        {**SITE_INPUT, CONF_BACKEND_URL: backend.url, CONF_TOKEN: "site-of-other-pod"},
    )
    assert result["errors"] == {"base": "token_not_site"}
    # a POD the backend's community does not have (an admin token may write any POD)
    backend.tokens["admin"] = Token("admin")
    result = await _configure(
        hass,
        flow_id,
        {**SITE_INPUT, CONF_POD: UNKNOWN_POD, CONF_BACKEND_URL: backend.url, CONF_TOKEN: "admin"},
    )
    assert result["errors"] == {"base": "pod_not_in_backend"}
    assert not backend.arrivals  # the checks store nothing

    with patch(f"{FLOW}.async_check_backend", side_effect=RuntimeError("boom")):
        result = await _configure(
            hass, flow_id, {**SITE_INPUT, CONF_BACKEND_URL: backend.url, CONF_TOKEN: SITE_TOKEN}
        )
    assert result["errors"] == {"base": "unknown"}

    with patch("custom_components.cer_community.async_setup_entry", return_value=True):
        result = await _configure(
            hass,
            flow_id,
            {**SITE_INPUT, CONF_BACKEND_URL: f" {backend.url}/ ", CONF_TOKEN: f" {SITE_TOKEN} "},
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BACKEND_URL] == backend.url
    assert result["data"][CONF_TOKEN] == SITE_TOKEN


# --------------------------------------------------------------------------- community


async def test_community_dashboard(hass: HomeAssistant, backend: BackendStub) -> None:
    # a site of the same community on the same backend, with the same token: no conflict
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=POD,
        data={
            "entry_type": "site",
            CONF_NAME: "Municipio",
            CONF_POD: POD,
            CONF_BACKEND_URL: backend.url,
            CONF_TOKEN: VIEWER_TOKEN,
        },
    ).add_to_hass(hass)
    result = await _start(hass, "community")
    flow_id = result["flow_id"]
    user_input = {CONF_NAME: "CER Comune", CONF_BACKEND_URL: backend.url, CONF_TOKEN: "bad"}
    result = await _configure(hass, flow_id, user_input)
    assert result["errors"] == {"base": "invalid_auth"}

    with patch("custom_components.cer_community.async_setup_entry", return_value=True):
        result = await _configure(hass, flow_id, {**user_input, CONF_TOKEN: VIEWER_TOKEN})
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CER Comune"
    assert result["data"] == {
        "entry_type": "community",
        CONF_NAME: "CER Comune",
        CONF_BACKEND_URL: backend.url,
        CONF_TOKEN: VIEWER_TOKEN,
    }
    assert result["result"].supports_options is False

    # the same backend and token again
    result = await _start(hass, "community")
    result = await _configure(hass, result["flow_id"], {**user_input, CONF_TOKEN: VIEWER_TOKEN})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# --------------------------------------------------------------------------- reauth


async def test_reauth_of_a_loaded_site(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = site_entry(backend=backend)
    await setup_entry(hass, entry)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_REAUTH, "entry_id": entry.entry_id},
        data=dict(entry.data),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    result = await _configure(hass, result["flow_id"], {CONF_TOKEN: "wrong"})
    assert result["errors"] == {"base": "invalid_auth"}

    backend.tokens["new-token"] = backend.tokens[SITE_TOKEN]
    result = await _configure(hass, result["flow_id"], {CONF_TOKEN: "new-token"})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == "new-token"
    assert entry.state is config_entries.ConfigEntryState.LOADED
    await unload_entry(hass, entry)


async def test_reauth_reloads_a_community_whose_token_was_refused(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    entry = community_entry(backend, token="revoked")
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    result = await _configure(hass, flows[0]["flow_id"], {CONF_TOKEN: VIEWER_TOKEN})
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.state is config_entries.ConfigEntryState.LOADED
    await unload_entry(hass, entry)


# --------------------------------------------------------------------------- reconfigure


async def _reconfigure(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    return dict(
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "reconfigure", "entry_id": entry.entry_id}
        )
    )


async def test_reconfigure_community_backend(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = community_entry(backend)
    entry.add_to_hass(hass)
    result = await _reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure_backend"
    result = await _configure(
        hass, result["flow_id"], {CONF_BACKEND_URL: backend.url, CONF_TOKEN: "bad"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await _configure(
        hass, result["flow_id"], {CONF_BACKEND_URL: f"{backend.url}/", CONF_TOKEN: VIEWER_TOKEN}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_BACKEND_URL] == backend.url


async def test_reconfigure_site_backend_to_local(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = site_entry(backend=backend)
    entry.add_to_hass(hass)
    result = await _reconfigure(hass, entry)
    assert result["type"] is FlowResultType.MENU
    result = await _configure(hass, result["flow_id"], {"next_step_id": "reconfigure_backend"})
    assert result["step_id"] == "reconfigure_backend"
    result = await _configure(hass, result["flow_id"], {})
    assert result["reason"] == "reconfigure_successful"
    assert CONF_BACKEND_URL not in entry.data
    assert CONF_TOKEN not in entry.data
    assert entry.data[CONF_POD] == POD


async def test_reconfigure_device_without_modbus_devices(hass: HomeAssistant) -> None:
    entry = site_entry()
    entry.add_to_hass(hass)
    result = await _reconfigure(hass, entry)
    result = await _configure(hass, result["flow_id"], {"next_step_id": "reconfigure_device"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_modbus_devices"


async def test_reconfigure_the_only_device(hass: HomeAssistant, sdm630: Sdm630Simulator) -> None:
    nowhere = free_port()
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", nowhere)])
    entry.add_to_hass(hass)
    result = await _reconfigure(hass, entry)
    result = await _configure(hass, result["flow_id"], {"next_step_id": "reconfigure_device"})
    assert result["step_id"] == "reconfigure_connection"
    assert result["description_placeholders"] == {CONF_NAME: "Grid meter"}

    connection = {CONF_HOST: "127.0.0.1", CONF_PORT: nowhere, CONF_UNIT: 1}
    result = await _configure(hass, result["flow_id"], connection)
    assert result["errors"] == {"base": "cannot_connect"}

    result = await _configure(hass, result["flow_id"], {**connection, CONF_PORT: sdm630.port})
    assert result["reason"] == "reconfigure_successful"
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_PORT] == sdm630.port
    assert device[CONF_DEVICE_ID] == "grid"
    assert "energy_imported" in device["quantities"]
    assert device["serial_number"]


async def test_reconfigure_one_of_two_devices(hass: HomeAssistant, sdm630: Sdm630Simulator) -> None:
    entry = site_entry(
        [
            modbus_device("grid", "Grid meter", "grid", "sdm630", free_port()),
            modbus_device("light", "Lighting", "load", "em24", free_port()),
            {
                CONF_DEVICE_ID: "pv",
                CONF_NAME: "PV",
                CONF_SOURCE: "entities",
                CONF_ROLE: "production",
                CONF_POWER_ENTITY: "sensor.pv_power",
            },
        ]
    )
    entry.add_to_hass(hass)
    result = await _reconfigure(hass, entry)
    result = await _configure(hass, result["flow_id"], {"next_step_id": "reconfigure_device"})
    assert result["step_id"] == "reconfigure_device"
    result = await _configure(hass, result["flow_id"], {CONF_DEVICE_ID: "grid"})
    assert result["step_id"] == "reconfigure_connection"
    result = await _configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: sdm630.port, CONF_UNIT: 1}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.options[CONF_DEVICES][0][CONF_PORT] == sdm630.port
    assert len(entry.options[CONF_DEVICES]) == 3


# --------------------------------------------------------------------------- options


async def _options(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    return dict(result)


async def _opt(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.options.async_configure(flow_id, data))


async def test_options_menu(hass: HomeAssistant) -> None:
    entry = site_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["menu_options"] == ["add_device"]

    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", 502)], pod=OTHER_POD)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["menu_options"] == ["add_device", "edit_device", "remove_device"]


async def test_add_modbus_device_errors_then_success(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    other = site_entry(
        [modbus_device("taken", "Taken", "grid", "sdm630", sdm630.port, unit=7)], pod=OTHER_POD
    )
    other.add_to_hass(hass)
    entry = site_entry()
    entry.add_to_hass(hass)

    result = await _options(hass, entry, "add_device")
    assert result["step_id"] == "add_device"
    result = await _opt(
        hass,
        result["flow_id"],
        {CONF_NAME: " Grid meter ", CONF_SOURCE: "modbus", CONF_ROLE: "grid"},
    )
    assert result["step_id"] == "modbus"
    flow_id = result["flow_id"]
    good = {
        CONF_PROFILE: "sdm630",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sdm630.port,
        CONF_UNIT: 1,
    }

    result = await _opt(hass, flow_id, {**good, CONF_PORT: free_port()})
    assert result["errors"] == {"base": "cannot_connect"}

    result = await _opt(hass, flow_id, {**good, CONF_PROFILE: "sunspec"})
    assert result["errors"] == {"base": "invalid_response"}

    result = await _opt(hass, flow_id, {**good, CONF_UNIT: 7})
    assert result["errors"] == {"base": "device_already_configured"}
    # the same device spelt "localhost" (no read: the harness only allows 127.0.0.1)
    result = await _opt(hass, flow_id, {**good, CONF_HOST: "LocalHost", CONF_UNIT: 7})
    assert result["errors"] == {"base": "device_already_configured"}

    # unit 0 is the broadcast address: refused with its own error, before any request
    requests = sdm630.requests
    result = await _opt(hass, flow_id, {**good, CONF_UNIT: 0})
    assert result["errors"] == {CONF_UNIT: "unit_broadcast"}
    assert sdm630.requests == requests

    with patch(f"{FLOW}.async_probe_device", side_effect=RuntimeError("boom")):
        result = await _opt(hass, flow_id, good)
    assert result["errors"] == {"base": "unknown"}

    result = await _opt(hass, flow_id, good)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_NAME] == "Grid meter"
    assert device[CONF_PROFILE] == "sdm630"
    assert device[CONF_ROLE] == "grid"
    assert set(device["quantities"]) >= {"active_power", "energy_imported", "energy_exported"}
    assert device["manufacturer"] == "Eastron"


async def test_add_generic_device(hass: HomeAssistant, sdm630: Sdm630Simulator) -> None:
    entry = site_entry()
    entry.add_to_hass(hass)
    result = await _options(hass, entry, "add_device")
    result = await _opt(
        hass, result["flow_id"], {CONF_NAME: "Meter", CONF_SOURCE: "modbus", CONF_ROLE: "load"}
    )
    result = await _opt(
        hass,
        result["flow_id"],
        {CONF_PROFILE: "generic", CONF_HOST: "127.0.0.1", CONF_PORT: sdm630.port, CONF_UNIT: 1},
    )
    assert result["step_id"] == "generic"
    flow_id = result["flow_id"]

    result = await _opt(hass, flow_id, {CONF_REGISTERS: "[unclosed"})
    assert result["errors"] == {CONF_REGISTERS: "invalid_registers"}
    result = await _opt(hass, flow_id, {CONF_REGISTERS: "just text"})
    assert result["errors"] == {CONF_REGISTERS: "invalid_registers"}
    result = await _opt(
        hass, flow_id, {CONF_REGISTERS: "- {quantity: no_such, address: 0, data_type: f32}"}
    )
    assert result["errors"] == {CONF_REGISTERS: "invalid_registers"}

    registers = (
        "- {quantity: active_power, address: 52, data_type: f32, function: input}\n"
        "- {quantity: energy_imported, address: 72, data_type: f32, function: input,"
        " scale: 1000}\n"
    )
    result = await _opt(hass, flow_id, {CONF_REGISTERS: registers})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_REGISTERS] == registers
    assert device["quantities"] == ["active_power", "energy_imported"]


async def test_add_entities_device(hass: HomeAssistant) -> None:
    entry = site_entry()
    entry.add_to_hass(hass)
    hass.states.async_set("sensor.pv_power", "2.5", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.pv_energy", "unavailable", {"unit_of_measurement": "kWh"})
    hass.states.async_set("sensor.pv_temp", "21", {"unit_of_measurement": "°C"})

    result = await _options(hass, entry, "add_device")
    result = await _opt(
        hass, result["flow_id"], {CONF_NAME: "PV", CONF_SOURCE: "entities", CONF_ROLE: "production"}
    )
    assert result["step_id"] == "entities"
    flow_id = result["flow_id"]

    result = await _opt(hass, flow_id, {CONF_POWER_ENTITY: "sensor.missing"})
    assert result["errors"] == {CONF_POWER_ENTITY: "entity_not_found"}
    result = await _opt(
        hass,
        flow_id,
        {CONF_POWER_ENTITY: "sensor.pv_power", CONF_IMPORT_ENTITY: "sensor.pv_energy"},
    )
    assert result["errors"] == {CONF_IMPORT_ENTITY: "entity_unavailable"}
    result = await _opt(
        hass, flow_id, {CONF_POWER_ENTITY: "sensor.pv_power", CONF_EXPORT_ENTITY: "sensor.pv_temp"}
    )
    assert result["errors"] == {CONF_EXPORT_ENTITY: "invalid_unit"}

    hass.states.async_set("sensor.pv_energy", "1234.5", {"unit_of_measurement": "kWh"})
    result = await _opt(
        hass,
        flow_id,
        {CONF_POWER_ENTITY: "sensor.pv_power", CONF_IMPORT_ENTITY: "sensor.pv_energy"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_SOURCE] == "entities"
    assert device[CONF_POWER_ENTITY] == "sensor.pv_power"
    assert device["quantities"] == ["active_power", "energy_produced"]


async def test_edit_device_keeps_its_id(hass: HomeAssistant, sdm630: Sdm630Simulator) -> None:
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    entry.add_to_hass(hass)
    result = await _options(hass, entry, "edit_device")
    assert result["step_id"] == "edit_device"
    result = await _opt(hass, result["flow_id"], {CONF_DEVICE_ID: "grid"})
    assert result["step_id"] == "add_device"
    result = await _opt(
        hass, result["flow_id"], {CONF_NAME: "POD meter", CONF_SOURCE: "modbus", CONF_ROLE: "grid"}
    )
    assert result["step_id"] == "modbus"
    result = await _opt(
        hass,
        result["flow_id"],
        {CONF_PROFILE: "sdm630", CONF_HOST: "127.0.0.1", CONF_PORT: sdm630.port, CONF_UNIT: 1},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_DEVICE_ID] == "grid"
    assert device[CONF_NAME] == "POD meter"


async def test_edit_device_changing_its_source(hass: HomeAssistant) -> None:
    entry = site_entry([modbus_device("pv", "PV", "production", "sunspec", 502)])
    entry.add_to_hass(hass)
    hass.states.async_set("sensor.pv_power", "2500", {"unit_of_measurement": "W"})
    result = await _options(hass, entry, "edit_device")
    result = await _opt(hass, result["flow_id"], {CONF_DEVICE_ID: "pv"})
    result = await _opt(
        hass, result["flow_id"], {CONF_NAME: "PV", CONF_SOURCE: "entities", CONF_ROLE: "production"}
    )
    result = await _opt(hass, result["flow_id"], {CONF_POWER_ENTITY: "sensor.pv_power"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (device,) = entry.options[CONF_DEVICES]
    assert device[CONF_DEVICE_ID] == "pv"
    assert CONF_HOST not in device


async def test_remove_device(hass: HomeAssistant) -> None:
    entry = site_entry(
        [
            modbus_device("grid", "Grid meter", "grid", "sdm630", 502),
            modbus_device("light", "Lighting", "load", "em24", 503),
        ]
    )
    entry.add_to_hass(hass)
    result = await _options(hass, entry, "remove_device")
    assert result["step_id"] == "remove_device"
    result = await _opt(hass, result["flow_id"], {CONF_DEVICE_ID: "grid"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [d[CONF_DEVICE_ID] for d in entry.options[CONF_DEVICES]] == ["light"]


async def test_options_change_reloads_a_loaded_site(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry()
    await setup_entry(hass, entry)
    assert hass.states.get("sensor.municipio_grid_meter_power") is None
    result = await _options(hass, entry, "add_device")
    result = await _opt(
        hass, result["flow_id"], {CONF_NAME: "Grid meter", CONF_SOURCE: "modbus", CONF_ROLE: "grid"}
    )
    result = await _opt(
        hass,
        result["flow_id"],
        {CONF_PROFILE: "sdm630", CONF_HOST: "127.0.0.1", CONF_PORT: sdm630.port, CONF_UNIT: 1},
    )
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED
    state = hass.states.get("sensor.municipio_grid_meter_power")
    assert state is not None
    assert float(state.state) == pytest.approx(2700)
    await unload_entry(hass, entry)


async def test_sunspec_inverter_and_its_meter_are_two_devices(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """One SunSpec address with inverter 103 and meter 203: each model is its own device."""
    async with SunSpecSimulator() as sim:
        entry = site_entry()
        entry.add_to_hass(hass)
        for name, role, model_id in (("Inverter", "production", 103), ("Meter", "grid", 203)):
            result = await _options(hass, entry, "add_device")
            result = await _opt(
                hass, result["flow_id"], {CONF_NAME: name, CONF_SOURCE: "modbus", CONF_ROLE: role}
            )
            connection = {
                CONF_PROFILE: "sunspec",
                CONF_HOST: "127.0.0.1",
                CONF_PORT: sim.port,
                CONF_UNIT: 1,
                CONF_MODEL_ID: model_id,
                CONF_INVERT_POWER: False,
                CONF_SWAP_ENERGY: False,
            }
            result = await _opt(hass, result["flow_id"], connection)
            assert result["type"] is FlowResultType.CREATE_ENTRY
        # a model the device does not have
        result = await _options(hass, entry, "add_device")
        result = await _opt(
            hass, result["flow_id"], {CONF_NAME: "Other", CONF_SOURCE: "modbus", CONF_ROLE: "load"}
        )
        result = await _opt(hass, result["flow_id"], {**connection, CONF_MODEL_ID: 201})
        assert result["errors"] == {"base": "invalid_response"}

        inverter, meter = entry.options[CONF_DEVICES]
        assert inverter["sunspec_layout"]["model_id"] == 103
        assert meter["sunspec_layout"]["model_id"] == 203
        assert inverter[CONF_MODEL_ID] == 103
        assert "energy_produced" in inverter["quantities"]
        assert meter[CONF_MODEL_ID] == 203
        assert "energy_imported" in meter["quantities"]
        assert inverter["serial_number"] == "SIM-INV-0001"

        # started from the saved layout (no scan): both read on the same address
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        inverter_power = hass.states.get("sensor.municipio_inverter_power")
        meter_power = hass.states.get("sensor.municipio_meter_power")
        assert inverter_power is not None
        assert meter_power is not None
        assert float(inverter_power.state) == 5800
        assert float(meter_power.state) == -1500
        await unload_entry(hass, entry)


# --------------------------------------------------------------------------- icons


async def test_action_icon_in_the_form_both_ends_read(hass: HomeAssistant) -> None:
    """Issue #14 item 10: ``icons.json`` gives the action icon as the shorthand string, the
    form Home Assistant 2024.3's frontend reads and that 2026.10 converts to
    ``{"service": ...}``; the object form alone shows no icon on 2024.3."""
    from homeassistant.helpers import icon as icon_helper  # noqa: PLC0415

    icons = await icon_helper.async_get_icons(hass, "services", integrations=[DOMAIN])
    icon = icons[DOMAIN]["upload_now"]
    if hasattr(icon_helper, "convert_shorthand_service_icon"):  # newer: normalised
        assert icon == {"service": "mdi:cloud-upload"}
    else:  # 2024.3 hands the file's value to its frontend, which reads a string
        assert icon == "mdi:cloud-upload"
