"""Fixtures of the integration tests (real Home Assistant test harness).

Devices are real pymodbus TCP servers on 127.0.0.1 (:mod:`tests.modbus_sim`) and the backend
is a real aiohttp server (:mod:`tests.integration.backend_stub`); both need sockets, so the
fixtures that start them request ``socket_enabled``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.const import (
    CONF_BACKEND_URL,
    CONF_DEVICE_ID,
    CONF_DEVICES,
    CONF_ENTRY_TYPE,
    CONF_POD,
    CONF_PROFILE,
    CONF_QUANTITIES,
    CONF_ROLE,
    CONF_SITE_ROLE,
    CONF_SOURCE,
    CONF_TOKEN,
    CONF_UNIT,
    DOMAIN,
)
from tests.integration.backend_stub import BackendStub, Token
from tests.modbus_sim import Em24Simulator, Sdm630Simulator, SunSpecSimulator

POD = "IT001E00000001"
OTHER_POD = "IT001E00000002"
SITE_TOKEN = "site-token-municipio"
VIEWER_TOKEN = "viewer-token-comune"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/cer_community in every test."""


@pytest.fixture
async def backend(socket_enabled: None) -> AsyncIterator[BackendStub]:
    """A real aiohttp server of the HTTP contract on 127.0.0.1, with a site and a viewer token."""
    stub = BackendStub(
        {POD, OTHER_POD},
        {SITE_TOKEN: Token("site", {POD}), VIEWER_TOKEN: Token("viewer")},
    )
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
async def sunspec(socket_enabled: None) -> AsyncIterator[SunSpecSimulator]:
    """A SunSpec inverter (common 1, inverter 103, meter 203) on 127.0.0.1."""
    async with SunSpecSimulator(meter_model=None) as sim:
        yield sim


@pytest.fixture
async def sdm630(socket_enabled: None) -> AsyncIterator[Sdm630Simulator]:
    """An Eastron SDM630 on 127.0.0.1."""
    async with Sdm630Simulator() as sim:
        yield sim


@pytest.fixture
async def em24(socket_enabled: None) -> AsyncIterator[Em24Simulator]:
    """A Carlo Gavazzi EM24 on 127.0.0.1."""
    async with Em24Simulator() as sim:
        yield sim


def modbus_device(
    device_id: str,
    name: str,
    role: str,
    profile: str,
    port: int,
    *,
    quantities: Iterable[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """A device as the options flow stores it."""
    return {
        CONF_DEVICE_ID: device_id,
        CONF_NAME: name,
        CONF_SOURCE: "modbus",
        CONF_ROLE: role,
        CONF_PROFILE: profile,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_UNIT: 1,
        CONF_QUANTITIES: list(quantities),
        **extra,
    }


def site_entry(
    devices: Iterable[dict[str, Any]] = (),
    *,
    backend: BackendStub | None = None,
    token: str = SITE_TOKEN,
    pod: str = POD,
    name: str = "Municipio",
) -> MockConfigEntry:
    """A site entry as the config flow creates it."""
    data: dict[str, Any] = {
        CONF_ENTRY_TYPE: "site",
        CONF_NAME: name,
        CONF_POD: pod,
        CONF_SITE_ROLE: "prosumer",
    }
    if backend is not None:
        data |= {CONF_BACKEND_URL: backend.url, CONF_TOKEN: token}
    return MockConfigEntry(
        domain=DOMAIN,
        title=name,
        unique_id=pod,
        data=data,
        options={CONF_DEVICES: list(devices)},
    )


def community_entry(backend: BackendStub, token: str = VIEWER_TOKEN) -> MockConfigEntry:
    """A community dashboard entry as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="CER Comune",
        data={
            CONF_ENTRY_TYPE: "community",
            CONF_NAME: "CER Comune",
            CONF_BACKEND_URL: backend.url,
            CONF_TOKEN: token,
        },
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def unload_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the entry (its timers, tasks and connections end with it)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
