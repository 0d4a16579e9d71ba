"""Issue #14 items 11 and 13 on the community entry: each local site's share of the month
(shared energy and estimated income, from the backend's summary) and the sites expected to
report (only the PODs that upload from a Home Assistant)."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.cer_community.compat import get_runtime_data
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    OTHER_POD,
    POD,
    community_entry,
    setup_entry,
    site_entry,
    unload_entry,
)

ENERGY = "sensor.cer_comune_{}_share_of_shared_energy_this_month"
INCOME = "sensor.cer_comune_{}_share_of_estimated_income_this_month"


def _state(hass: HomeAssistant, entity_id: str) -> Any:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state


async def test_each_local_site_gets_its_share_of_the_month(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    hass.config.language = "en"
    municipio = site_entry(backend=backend)
    community = community_entry(backend)
    await setup_entry(hass, municipio)
    await setup_entry(hass, community)

    energy = _state(hass, ENERGY.format("municipio"))
    assert float(energy.state) == 500.0  # 500,000 Wh shown in kWh
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert energy.attributes["state_class"] == "total"
    assert energy.attributes["pod"] == POD
    assert energy.attributes["shared_injected_wh"] == 900_000
    assert energy.attributes["shared_withdrawn_wh"] == 100_000
    assert energy.attributes["share_of_community_percent"] == 61.6  # 61.55 % of 812,345 Wh
    income = _state(hass, INCOME.format("municipio"))
    assert income.state == "59.34"
    assert income.attributes["device_class"] == "monetary"
    # the other POD of the summary has no site entry here: no sensors
    assert hass.states.get(ENERGY.format("scuola")) is None
    sensors = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), community.entry_id)
        if "share_of" in e.entity_id
    ]
    assert sorted(sensors) == sorted([ENERGY.format("municipio"), INCOME.format("municipio")])

    # a site entry added later gets its sensors at once, from the summary already read
    scuola = site_entry(pod=OTHER_POD, name="Scuola", backend=backend)
    await setup_entry(hass, scuola)
    assert _state(hass, INCOME.format("scuola")).state == "37.06"
    money = get_runtime_data(community).money

    # a site the summary no longer lists is unavailable, not 0
    backend.summaries["month"]["sites"] = backend.summaries["month"]["sites"][:1]
    await money.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, ENERGY.format("scuola")).state == STATE_UNAVAILABLE
    assert _state(hass, ENERGY.format("municipio")).state != STATE_UNAVAILABLE
    for entry in (community, scuola, municipio):
        await unload_entry(hass, entry)


async def test_sites_expected_to_report_come_from_the_backend(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    hass.config.language = "en"
    community = community_entry(backend)
    await setup_entry(hass, community)
    expected = "sensor.cer_comune_community_sites_expected_to_report"
    assert _state(hass, expected).state == "0"
    backend.live[POD] = {
        "pod": POD,
        "injection_w": 0,
        "withdrawal_w": 100,
        "hour_injected_wh": 0,
        "hour_withdrawn_wh": 10,
    }
    coordinator = get_runtime_data(community).community
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, expected).state == "1"
    assert _state(hass, "sensor.cer_comune_community_sites").state == "2"
    # a backend from before issue #14 does not say: unknown, never the total
    backend.says_sites_expected = False
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert _state(hass, expected).state == STATE_UNKNOWN
    await unload_entry(hass, community)


async def test_the_local_community_expects_every_site_of_this_home_assistant(
    hass: HomeAssistant,
) -> None:
    site = site_entry()
    await setup_entry(hass, site)
    runtime = get_runtime_data(site)
    assert runtime.community.data.sites_expected == 1
    await unload_entry(hass, site)
