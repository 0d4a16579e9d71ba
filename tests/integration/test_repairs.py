"""A lifetime counter that jumps: held back, raised as a fixable issue, accepted by the user."""

from __future__ import annotations

import pytest
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import DOMAIN
from tests.integration.conftest import modbus_device, setup_entry, site_entry, unload_entry
from tests.modbus_sim import Sdm630Simulator

ENTITY = "sensor.municipio_grid_meter_energy_exported"


def _kwh(hass: HomeAssistant) -> float:
    state = hass.states.get(ENTITY)
    assert state is not None
    return float(state.state)


async def test_counter_jump_is_held_until_the_user_accepts_it(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    await setup_entry(hass, entry)
    runtime = get_runtime_data(entry)
    assert _kwh(hass) == pytest.approx(678.25)

    sdm630.set("kwh_export", 500_678.25)  # +500 MWh in seconds: a new meter, or a misread
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    assert _kwh(hass) == pytest.approx(678.25)
    issue_id = f"counter_{entry.entry_id}_grid_energy_exported"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "counter_jump"
    assert issue.is_fixable
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["device"] == "Grid meter"

    sdm630.set("kwh_export", 500_678.5)  # it goes on from there: still held
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    assert _kwh(hass) == pytest.approx(678.25)

    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert flow["step_id"] == "confirm"
    result = await manager.async_configure(flow["flow_id"], {})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()

    assert _kwh(hass) == pytest.approx(500_678.5)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await unload_entry(hass, entry)
