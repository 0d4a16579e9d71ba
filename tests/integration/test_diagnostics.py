"""Diagnostics: useful content, secrets redacted."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant

from custom_components.cer_community.diagnostics import async_get_config_entry_diagnostics
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    POD,
    SITE_TOKEN,
    VIEWER_TOKEN,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import SunSpecSimulator

REDACTED = "**REDACTED**"


async def test_site_diagnostics(
    hass: HomeAssistant, backend: BackendStub, sunspec: SunSpecSimulator
) -> None:
    entry = site_entry(
        [modbus_device("inv", "Inverter", "production", "sunspec", sunspec.port)],
        backend=backend,
    )
    await setup_entry(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics, default=str)
    for secret in (SITE_TOKEN, POD, "127.0.0.1", "SIM-INV-0001", backend.url):
        assert secret not in text, secret

    assert diagnostics["entry"]["data"]["token"] == REDACTED
    assert diagnostics["entry"]["data"]["pod"] == REDACTED
    device = diagnostics["entry"]["options"]["devices"][0]
    assert device["host"] == REDACTED
    inverter = diagnostics["devices"]["inv"]
    assert inverter["last_update_success"] is True
    assert inverter["identity"]["serial_number"] == REDACTED
    assert inverter["identity"]["manufacturer"] == "CER Simulated"
    assert inverter["reading"]["active_power"] == 5800
    assert inverter["source"]["profile"] == "sunspec"
    assert inverter["source"]["connection"] == REDACTED
    assert inverter["source"]["info"]["serial_number"] == REDACTED
    assert inverter["source"]["requests"]
    assert diagnostics["upload"]["pending_hours"] == 0
    assert diagnostics["community"]["source"] == "backend"
    assert diagnostics["hour_so_far"] is not None
    await unload_entry(hass, entry)


async def test_community_diagnostics(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert VIEWER_TOKEN not in json.dumps(diagnostics, default=str)
    assert diagnostics["community"]["data"]["sites_total"] == 2
    await unload_entry(hass, entry)
