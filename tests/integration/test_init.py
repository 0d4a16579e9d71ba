"""Setup, unload, reload and removal of entries; the upload_now action; reauth on 401."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.const import CONF_NAME
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import CONF_DEVICES, DOMAIN, SERVICE_UPLOAD_NOW
from custom_components.cer_community.runtime import CommunityRuntimeData, SiteRuntimeData
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    POD,
    SITE_TOKEN,
    community_entry,
    modbus_device,
    setup_entry,
    site_entry,
    unload_entry,
)
from tests.modbus_sim import Sdm630Simulator, free_port


def _device(hass: HomeAssistant, entry_id: str, identifier: str) -> dr.DeviceEntry | None:
    """The device of an entry with this identifier (``async_get_device`` is deprecated)."""
    for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id):
        if (DOMAIN, identifier) in device.identifiers:
            return device
    return None


def test_reports_home_assistant_version() -> None:
    """Print the Home Assistant version under test, so the log shows which end ran."""
    print(f"Home Assistant {HA_VERSION}")
    assert HA_VERSION.startswith(("2024.3.", "2026.10."))


async def test_site_setup_unload_reload(
    hass: HomeAssistant, backend: BackendStub, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry(
        [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)], backend=backend
    )
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.LOADED
    runtime = get_runtime_data(entry)
    assert isinstance(runtime, SiteRuntimeData)
    assert list(runtime.devices) == ["grid"]
    assert runtime.uploader.api is not None

    site = _device(hass, entry.entry_id, POD)
    assert site is not None
    assert site.name == "Municipio"
    meter = _device(hass, entry.entry_id, f"{POD}_grid")
    assert meter is not None
    assert meter.name == "Municipio Grid meter"
    assert meter.via_device_id == site.id
    assert meter.manufacturer == "Eastron"

    # community figures come from the backend
    shared = hass.states.get("sensor.municipio_community_shared_energy_this_hour")
    assert shared is not None
    assert shared.state != "unavailable"
    assert hass.states.get("sensor.municipio_pending_hours") is not None
    assert hass.states.get("sensor.municipio_last_upload") is not None

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED

    await unload_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.NOT_LOADED
    assert hass.states.get("sensor.municipio_grid_meter_power").state == "unavailable"  # type: ignore[union-attr]


@pytest.mark.parametrize(("sun_up", "power"), [(True, "unavailable"), (False, "0")])
async def test_site_loads_while_its_device_sleeps(
    hass: HomeAssistant,
    socket_enabled: None,
    monkeypatch: pytest.MonkeyPatch,
    sun_up: bool,
    power: str,
) -> None:
    """An inverter silent at start-up does not stop the site: in daylight its entities
    wait (unavailable); with the sun down it is asleep and produces 0 W (#14 item 4).

    The sun is fixed by the test: the rule depends on it, and CI runs at any hour.
    """
    monkeypatch.setattr(
        "custom_components.cer_community.coordinator.is_up", lambda hass, now=None: sun_up
    )
    entry = site_entry(
        [
            modbus_device(
                "inv",
                "Inverter",
                "production",
                "sunspec",
                free_port(),
                quantities=["active_power", "energy_produced"],
            )
        ]
    )
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.LOADED
    state = hass.states.get("sensor.municipio_inverter_power")
    assert state is not None
    assert state.state == power
    await unload_entry(hass, entry)


async def test_removed_device_leaves_the_registry(
    hass: HomeAssistant, sdm630: Sdm630Simulator
) -> None:
    entry = site_entry([modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)])
    await setup_entry(hass, entry)
    assert _device(hass, entry.entry_id, f"{POD}_grid") is not None

    hass.config_entries.async_update_entry(entry, options={CONF_DEVICES: []})
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED
    assert _device(hass, entry.entry_id, f"{POD}_grid") is None
    assert _device(hass, entry.entry_id, POD) is not None
    await unload_entry(hass, entry)


async def test_community_entry(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.LOADED
    assert isinstance(get_runtime_data(entry), CommunityRuntimeData)
    sites = hass.states.get("sensor.cer_comune_community_sites")
    assert sites is not None
    assert sites.state == "2"
    surplus = hass.states.get("binary_sensor.cer_comune_community_surplus")
    assert surplus is not None
    assert surplus.state in ("on", "off")
    await unload_entry(hass, entry)


async def test_community_entry_retries_while_the_backend_is_down(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    entry = community_entry(backend)
    await backend.stop()
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.SETUP_RETRY
    await backend.start()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_401_starts_reauth(hass: HomeAssistant, backend: BackendStub) -> None:
    entry = site_entry(backend=backend)
    await setup_entry(hass, entry)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    del backend.tokens[SITE_TOKEN]  # the administrator revoked the token
    runtime = get_runtime_data(entry)
    runtime.uploader.community_updated = None
    await runtime.community.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    await unload_entry(hass, entry)


async def test_upload_now_action(
    hass: HomeAssistant, backend: BackendStub, sdm630: Sdm630Simulator
) -> None:
    local = site_entry(pod="IT001E00000002", name="Scuola")
    await setup_entry(hass, local)

    # no site with a backend
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, SERVICE_UPLOAD_NOW, {}, blocking=True)
    # a site without backend, by id
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN, SERVICE_UPLOAD_NOW, {"config_entry_id": local.entry_id}, blocking=True
        )
    # not a loaded site
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, SERVICE_UPLOAD_NOW, {"config_entry_id": "nope"}, blocking=True
        )

    entry = site_entry(
        [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)], backend=backend
    )
    await setup_entry(hass, entry)
    await hass.services.async_call(DOMAIN, SERVICE_UPLOAD_NOW, {}, blocking=True)

    await unload_entry(hass, entry)
    await unload_entry(hass, local)


async def test_removing_a_site_deletes_its_buffer(hass: HomeAssistant) -> None:
    entry = site_entry()
    await setup_entry(hass, entry)
    assert entry.data[CONF_NAME] == "Municipio"
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.NOT_LOADED


async def test_closed_hour_reaches_the_backend_through_the_action(
    hass: HomeAssistant,
    backend: BackendStub,
    sdm630: Sdm630Simulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A grid meter polled across an hour boundary: the hour is closed, buffered, uploaded."""
    freezer.move_to(datetime(2026, 6, 1, 9, 59, 0, tzinfo=UTC))
    entry = site_entry(
        [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)], backend=backend
    )
    await setup_entry(hass, entry)
    runtime = get_runtime_data(entry)

    sdm630.set("kwh_import", 12346.5)  # +1 kWh withdrawn
    sdm630.set("kwh_export", 678.75)  # +0.5 kWh injected
    freezer.move_to(datetime(2026, 6, 1, 9, 59, 50, tzinfo=UTC))
    await runtime.site.async_refresh()
    withdrawn = hass.states.get("sensor.municipio_energy_withdrawn_this_hour")
    assert withdrawn is not None
    assert float(withdrawn.state) == pytest.approx(1000)

    freezer.move_to(datetime(2026, 6, 1, 10, 0, 10, tzinfo=UTC))
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    assert runtime.uploader.status.pending_hours == 1
    await runtime.site.async_refresh()  # the sensors read the status at each poll
    await hass.async_block_till_done()
    assert hass.states.get("sensor.municipio_pending_hours").state == "1"  # type: ignore[union-attr]

    await hass.services.async_call(
        DOMAIN, SERVICE_UPLOAD_NOW, {"config_entry_id": entry.entry_id}, blocking=True
    )
    ((pod, hour_start, reading),) = backend.arrivals
    assert pod == POD
    assert hour_start == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert reading["withdrawn_wh"] == 1000
    assert reading["injected_wh"] == 500
    assert reading["quality"] == "estimated"  # the first hour started before the first poll
    await runtime.site.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.municipio_pending_hours").state == "0"  # type: ignore[union-attr]
    last_upload = hass.states.get("sensor.municipio_last_upload")
    assert last_upload is not None
    assert last_upload.state.startswith("2026-06-01T10:00:10")
    await unload_entry(hass, entry)


@pytest.mark.parametrize(
    ("language", "site_model", "community_model"),
    [
        ("it", "Sito (POD)", "Cruscotto della comunità"),
        ("en", "Site (POD)", "Community dashboard"),
        ("de", "Site (POD)", "Community dashboard"),
    ],
)
async def test_device_models_follow_the_language(
    hass: HomeAssistant,
    backend: BackendStub,
    language: str,
    site_model: str,
    community_model: str,
) -> None:
    """Issue #14 item 13: the site and community devices' model names were English in an
    Italian Home Assistant."""
    hass.config.language = language
    site = site_entry()
    community = community_entry(backend)
    await setup_entry(hass, site)
    await setup_entry(hass, community)
    registry = dr.async_get(hass)
    models = {
        device.model
        for entry in (site, community)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert models == {site_model, community_model}
    await unload_entry(hass, site)
    await unload_entry(hass, community)


async def test_money_of_the_day_and_month_on_the_community_entry(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    """Issue #14 item 11: today's and this month's shared energy, estimated income (TIP +
    valorisation) and the month's average TIP, from the backend's summary, exact."""
    hass.config.language = "en"
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    states = {
        key: hass.states.get(f"sensor.cer_comune_community_{key}")
        for key in (
            "shared_energy_today",
            "estimated_income_today",
            "shared_energy_this_month",
            "estimated_income_this_month",
            "average_tip_this_month",
        )
    }
    assert all(state is not None for state in states.values()), states
    assert float(states["shared_energy_today"].state) == 12.5  # type: ignore[union-attr]
    assert states["estimated_income_today"].state == "1.48"  # type: ignore[union-attr]
    income = states["estimated_income_this_month"]
    assert income.state == "96.40"  # type: ignore[union-attr]
    assert income.attributes["unit_of_measurement"] == "EUR"  # type: ignore[union-attr]
    assert income.attributes["device_class"] == "monetary"  # type: ignore[union-attr]
    # 89.77 € of TIP over 0.812345 MWh shared
    tip = float(states["average_tip_this_month"].state)  # type: ignore[union-attr]
    assert tip == pytest.approx(110.5080, abs=1e-3)
    # no shared energy yet this month: the average TIP is unknown, not 0
    backend.summaries["month"] = {"shared_wh": 0, "tip_eur": "0", "valorisation_eur": "0"}
    await get_runtime_data(entry).money.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.cer_comune_community_average_tip_this_month").state == (  # type: ignore[union-attr]
        "unknown"
    )
    await unload_entry(hass, entry)


async def test_options_saved_while_the_entry_sets_up_are_applied(
    hass: HomeAssistant, sdm630: Sdm630Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A device added while the site entry is still setting up (devices added one after the
    other through the API) gets its entities: the change is not lost between the start of
    the set-up and its update listener."""
    entry = site_entry([])
    new_options = {
        CONF_DEVICES: [modbus_device("grid", "Grid meter", "grid", "sdm630", sdm630.port)]
    }
    from custom_components.cer_community import SiteUploader  # noqa: PLC0415

    original = SiteUploader.async_start

    def start_then_change_options(uploader: SiteUploader) -> None:
        original(uploader)  # the devices are built: the set-up is half way
        hass.config_entries.async_update_entry(entry, options=new_options)

    monkeypatch.setattr(SiteUploader, "async_start", start_then_change_options)
    await setup_entry(hass, entry)
    await hass.async_block_till_done()
    assert entry.state is config_entries.ConfigEntryState.LOADED
    assert _device(hass, entry.entry_id, f"{POD}_grid") is not None
    assert "grid" in get_runtime_data(entry).devices
    await unload_entry(hass, entry)
