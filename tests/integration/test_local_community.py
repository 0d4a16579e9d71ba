"""Shared energy across the sites of this Home Assistant, without a backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.accounting import DeviceSample
from custom_components.cer_community.const import DOMAIN, DeviceRole
from custom_components.cer_community.local_community import (
    LocalCommunity,
    async_get_local_community,
)
from custom_components.cer_community.modbus.quantities import Quantity
from custom_components.cer_community.uploader import SiteUploader

from .test_uploader import set_time_zone

ROME = ZoneInfo("Europe/Rome")
START = datetime(2025, 6, 1, 10, 0, tzinfo=ROME)


def _grid(power_w: float, imported: float, exported: float) -> list[DeviceSample]:
    return [
        DeviceSample(
            "grid",
            DeviceRole.GRID,
            {
                Quantity.ACTIVE_POWER: power_w,
                Quantity.ENERGY_IMPORTED: imported,
                Quantity.ENERGY_EXPORTED: exported,
            },
        )
    ]


async def _site(hass: HomeAssistant, pod: str) -> SiteUploader:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=pod, data={"pod": pod})
    entry.add_to_hass(hass)
    uploader = await SiteUploader.async_create(hass, entry, pod=pod, api=None)
    uploader.async_start()
    return uploader


async def test_shared_energy_and_surplus_across_the_sites(hass: HomeAssistant) -> None:
    await set_time_zone(hass, "Europe/Rome")
    school = await _site(hass, "IT001E00000001")  # injects 1.2 kW from its plant
    town_hall = await _site(hass, "IT001E00000002")  # withdraws 500 W
    community = async_get_local_community(hass)
    updates: list[None] = []
    remove = community.async_add_listener(lambda: updates.append(None))

    for minute in range(31):
        moment = START + timedelta(minutes=minute)
        school.record(moment, _grid(-1200.0, 100.0, 5000.0 + 20.0 * minute))
        town_hall.record(moment, _grid(500.0, 800.0 + 500 / 60 * minute, 0.0))

    figures = community.figures(START + timedelta(minutes=30, seconds=10))
    assert figures.injected_wh == 600
    assert figures.withdrawn_wh == 250
    assert figures.shared_wh == 250  # min(injected, withdrawn) of the hour
    assert figures.surplus_w == 700.0
    assert (figures.sites_reporting, figures.sites_total) == (2, 2)
    assert figures.hour_start == START
    assert figures.tip_estimate_eur_mwh is None
    assert len(updates) >= 62
    remove()

    await town_hall.async_stop()
    assert community.figures(START + timedelta(minutes=30)).sites_total == 1
    await school.async_stop()
    assert community.site_ids == []


async def test_a_community_drawing_more_than_it_injects_has_negative_surplus(
    hass: HomeAssistant,
) -> None:
    """Signed like the backend's ``surplus_w``: the deficit shows, and no surplus is claimed."""
    await set_time_zone(hass, "Europe/Rome")
    school = await _site(hass, "IT001E00000001")  # injects 300 W
    town_hall = await _site(hass, "IT001E00000002")  # withdraws 500 W
    for minute in range(11):
        moment = START + timedelta(minutes=minute)
        school.record(moment, _grid(-300.0, 100.0, 5000.0 + 5.0 * minute))
        town_hall.record(moment, _grid(500.0, 800.0 + 500 / 60 * minute, 0.0))

    figures = async_get_local_community(hass).figures(START + timedelta(minutes=10, seconds=5))
    assert figures.surplus_w == -200.0
    await town_hall.async_stop()
    await school.async_stop()


def test_an_empty_community() -> None:
    figures = LocalCommunity().figures(START)
    assert (figures.shared_wh, figures.surplus_w, figures.sites_total) == (0, 0.0, 0)
    assert figures.hour_start is None
