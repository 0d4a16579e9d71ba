"""The CER Community integration: the buildings (sites) of a renewable energy community.

A *site* entry reads the meters and inverters of one POD, accounts its hours and uploads
them to the backend; a *community* entry shows the community's live figures to the
municipal staff. See ``docs/integration.md``.
"""

from __future__ import annotations

from datetime import timedelta

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .alerts import AlertsCoordinator
from .api import CerApiClient, CommunityLive
from .compat import get_runtime_data, set_runtime_data
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_BACKEND_URL,
    CONF_ENTRY_TYPE,
    CONF_POD,
    CONF_TOKEN,
    DOMAIN,
    SERVICE_UPLOAD_NOW,
    SIGNAL_SITE_SET_UP,
    EntryType,
)
from .coordinator import CommunityCoordinator, DeviceCoordinator, SiteCoordinator
from .data import devices_of
from .entity import community_device_info, device_identifier, site_device_info
from .local_community import async_get_local_community
from .money import MoneyCoordinator
from .runtime import CommunityRuntimeData, SiteRuntimeData
from .uploader import SiteUploader

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

#: The community figures a site got with its last ``POST /live`` are used while this fresh.
LIVE_ANSWER_FRESH = timedelta(minutes=2)

UPLOAD_NOW_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the ``cer_community.upload_now`` action."""

    async def upload_now(call: ServiceCall) -> None:
        await _async_upload_now(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))

    hass.services.async_register(DOMAIN, SERVICE_UPLOAD_NOW, upload_now, UPLOAD_NOW_SCHEMA)
    return True


async def _async_upload_now(hass: HomeAssistant, entry_id: str | None) -> None:
    """Upload the waiting hours of one site, or of every loaded site with a backend."""
    if entry_id is not None:
        entry = hass.config_entries.async_get_entry(entry_id)
        if (
            entry is None
            or entry.domain != DOMAIN
            or entry.state is not ConfigEntryState.LOADED
            or not isinstance(get_runtime_data(entry), SiteRuntimeData)
        ):
            raise ServiceValidationError(
                f"{entry_id} is not a loaded site",
                translation_domain=DOMAIN,
                translation_key="not_a_loaded_site",
                translation_placeholders={ATTR_CONFIG_ENTRY_ID: entry_id},
            )
        entries = [entry]
    else:
        entries = [
            entry
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
            and isinstance(get_runtime_data(entry), SiteRuntimeData)
            and get_runtime_data(entry).uploader.api is not None
        ]
        if not entries:
            raise ServiceValidationError(
                "No loaded site has a backend to upload to",
                translation_domain=DOMAIN,
                translation_key="no_site_with_backend",
            )
    errors: list[HomeAssistantError] = []
    for entry in entries:
        try:
            await get_runtime_data(entry).uploader.upload_now()
        except HomeAssistantError as err:
            errors.append(err)
    if errors:
        raise errors[0]


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up a site or a community entry.

    An update saved while the set-up runs (devices added one after the other) reaches no
    update listener yet: the entry is set up with what it had at the start, and reloaded
    at the end when its data or options changed meanwhile.
    """
    started_with = (dict(entry.data), dict(entry.options))
    if entry.data.get(CONF_ENTRY_TYPE) == EntryType.COMMUNITY:
        await _async_setup_community(hass, entry)
    else:
        await _async_setup_site(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_update))
    if (dict(entry.data), dict(entry.options)) != started_with:
        hass.config_entries.async_schedule_reload(entry.entry_id)
    return True


async def _async_reload_on_update(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Options (devices), token or connection changed: reload the entry."""
    hass.config_entries.async_schedule_reload(entry.entry_id)


def _client(hass: HomeAssistant, entry: ConfigEntry) -> CerApiClient | None:
    url, token = entry.data.get(CONF_BACKEND_URL), entry.data.get(CONF_TOKEN)
    if not url or not token:
        return None
    return CerApiClient.from_hass(hass, url, token)


async def _async_setup_community(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A community dashboard: the backend must answer before the entry is set up."""
    client = _client(hass, entry)
    assert client is not None
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **community_device_info(entry, hass.config.language)
    )
    coordinator = CommunityCoordinator(hass, entry, client.get_community_live, source="backend")
    await coordinator.async_config_entry_first_refresh()
    alerts = AlertsCoordinator(hass, entry, client)
    money = MoneyCoordinator(hass, entry, client)
    set_runtime_data(entry, CommunityRuntimeData(community=coordinator, alerts=alerts, money=money))
    entry.async_on_unload(alerts.remove_issues)
    await alerts.async_refresh()  # a backend without alerts does not stop the entry
    # the money sensors wait for the summary: a month without prices yet does not stop the entry
    await money.async_refresh()


async def _async_setup_site(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A site: its devices, its hourly pipeline and its view of the community.

    A device that does not answer does not stop the site (an inverter asleep at night):
    its entities are unavailable until it answers.
    """
    client = _client(hass, entry)
    uploader = await SiteUploader.async_create(hass, entry, pod=entry.data[CONF_POD], api=client)
    devices = {
        device.device_id: DeviceCoordinator(hass, entry, device)
        for device in devices_of(entry.options)
    }

    async def close_devices() -> None:
        for device in devices.values():
            await device.async_close()

    entry.async_on_unload(close_devices)
    site_device_id = _register_devices(hass, entry)

    async def community_live() -> CommunityLive:
        if client is None:
            return async_get_local_community(hass).figures()
        fresh = uploader.community_updated is not None and (
            dt_util.utcnow() - uploader.community_updated < LIVE_ANSWER_FRESH
        )
        if fresh and uploader.community is not None:
            return uploader.community
        return await client.get_community_live()

    site = SiteCoordinator(hass, entry, devices, uploader)
    community = CommunityCoordinator(
        hass, entry, community_live, source="local" if client is None else "backend"
    )
    set_runtime_data(
        entry,
        SiteRuntimeData(
            devices=devices,
            site=site,
            uploader=uploader,
            community=community,
            site_device_id=site_device_id,
        ),
    )
    await site.async_config_entry_first_refresh()
    uploader.async_start()
    entry.async_on_unload(uploader.async_stop)
    if client is None:
        # local figures change at every poll of any site: follow them, not a timer
        local = async_get_local_community(hass)

        @callback
        def local_changed() -> None:
            community.async_set_updated_data(local.figures())

        entry.async_on_unload(local.async_add_listener(local_changed))
    # The backend being down must not stop the site: the community sensors wait for it.
    await community.async_refresh()
    async_dispatcher_send(hass, SIGNAL_SITE_SET_UP)


def _register_devices(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Create the site's device (answers its id); remove meters no longer configured."""
    registry = dr.async_get(hass)
    site_device = registry.async_get_or_create(
        config_entry_id=entry.entry_id, **site_device_info(entry, hass.config.language)
    )
    wanted = {device_identifier(entry, d.device_id) for d in devices_of(entry.options)}
    wanted.add((DOMAIN, entry.data[CONF_POD]))
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.id != site_device.id and not device.identifiers & wanted:
            registry.async_remove_device(device.id)
    return site_device.id


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload a site or a community entry (timers, connections and tasks stop)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete a removed site's stored hours and accounting state."""
    if entry.data.get(CONF_ENTRY_TYPE) == EntryType.COMMUNITY:
        return
    from .buffer import ReadingBuffer  # noqa: PLC0415

    await ReadingBuffer(hass, entry.entry_id, entry.data.get(CONF_POD, "")).async_remove()
