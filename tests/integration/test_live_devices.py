"""The site's live figures name the devices that did not answer (``unavailable_devices`` of
``POST /api/v1/live``), so the backend's ``site_silent`` alert can tell staff; an asleep
inverter is not unavailable, and with every device answering the field is left out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from homeassistant.core import HomeAssistant

from custom_components.cer_community.api import LiveReading
from custom_components.cer_community.compat import get_runtime_data
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    POD,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Sdm630Simulator, free_port


def _inverter() -> dict[str, object]:
    return modbus_device(
        "inv",
        "Inverter tetto",
        "production",
        "sunspec",
        free_port(),  # nothing listens: the inverter does not answer
        quantities=["active_power", "energy_produced"],
    )


@pytest.mark.parametrize(("sun_up", "expected"), [(True, ["Inverter tetto"]), (False, None)])
async def test_live_figures_name_the_devices_that_do_not_answer(  # noqa: PLR0917 (fixtures)
    hass: HomeAssistant,
    backend: BackendStub,
    sdm630: Sdm630Simulator,
    monkeypatch: pytest.MonkeyPatch,
    sun_up: bool,
    expected: list[str] | None,
) -> None:
    """In daylight a silent inverter is unavailable and named; at night it is asleep."""
    monkeypatch.setattr(
        "custom_components.cer_community.coordinator.is_up", lambda hass, now=None: sun_up
    )
    entry = site_entry(
        [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port), _inverter()],
        backend=backend,
    )
    await setup_entry(hass, entry)
    runtime = get_runtime_data(entry)
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    assert await runtime.uploader.async_post_live() is not None
    body = backend.live[POD]
    assert body.get("unavailable_devices") == expected
    await unload_entry(hass, entry)


async def test_every_device_answering_leaves_the_field_out(
    hass: HomeAssistant, backend: BackendStub, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry(
        [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)], backend=backend
    )
    await setup_entry(hass, entry)
    runtime = get_runtime_data(entry)
    await runtime.site.async_refresh()
    assert await runtime.uploader.async_post_live() is not None
    assert "unavailable_devices" not in backend.live[POD]
    assert backend.live[POD]["pod"] == POD
    await unload_entry(hass, entry)


def test_the_names_are_kept_within_the_contract_bounds() -> None:
    names = ("Inverter\ttetto", "x" * 150, "", "Inverter\ttetto", *(f"d{n}" for n in range(60)))
    live = LiveReading(POD, datetime(2026, 6, 1, 10, tzinfo=UTC), 0.0, 10.0, 0, 5, names)
    sent = live.as_json()["unavailable_devices"]
    assert sent[:2] == ["Invertertetto", "x" * 100]
    assert len(sent) == 50 and len(set(sent)) == 50
