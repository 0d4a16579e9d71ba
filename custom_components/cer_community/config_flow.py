"""Config, options, reauth and reconfigure flows of CER Community.

A config entry is either a **site** (one POD of a municipal building, with its devices in the
entry options) or a **community dashboard** (a viewer token on the backend). Every connection
is tested before it is saved: the backend with the token given, each Modbus device with a
real read of its profile, each entity source with the states and units of its entities.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Mapping
from dataclasses import replace
from http import HTTPStatus
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from yarl import URL

from .api import CerApiConnectionError, CerApiError
from .compat import ConfigFlowResult
from .const import (
    CONF_BACKEND_URL,
    CONF_BAUDRATE,
    CONF_DEVICE_ID,
    CONF_DEVICES,
    CONF_ENTRY_TYPE,
    CONF_EXPORT_ENTITY,
    CONF_IMPORT_ENTITY,
    CONF_INVERT_POWER,
    CONF_MEMBER_ID,
    CONF_MODEL_ID,
    CONF_PARITY,
    CONF_POD,
    CONF_POWER_ENTITY,
    CONF_PROFILE,
    CONF_REGISTERS,
    CONF_ROLE,
    CONF_SERIAL_PORT,
    CONF_SITE_ROLE,
    CONF_SOURCE,
    CONF_STOPBITS,
    CONF_SWAP_ENERGY,
    CONF_TOKEN,
    CONF_UNIT,
    DEFAULT_BAUDRATE,
    DEFAULT_PORT,
    DEFAULT_UNIT,
    DOMAIN,
    LOGGER,
    DeviceRole,
    DeviceSource,
    EntryType,
    ModbusProfile,
    SiteRole,
)
from .coordinator import (
    BackendAuthError,
    EntitySourceError,
    ModbusProtocolError,
    ModbusUnavailable,
    async_check_backend,
    async_probe_device,
)
from .data import DeviceConfig, devices_of
from .pod import is_valid_pod, normalise_pod

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))
#: Modbus unit id 0 is the broadcast address (Modbus Application Protocol v1.1b3 §4.1):
#: refused in the forms with its own error rather than stored and never answered.
MODBUS_BROADCAST_UNIT = 0
_UNIT = NumberSelector(NumberSelectorConfig(min=0, max=255, step=1, mode=NumberSelectorMode.BOX))


def _select(options: list[str], translation_key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=translation_key, mode=SelectSelectorMode.DROPDOWN
        )
    )


SITE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(CONF_POD): str,
        vol.Optional(CONF_MEMBER_ID): str,
        vol.Required(CONF_SITE_ROLE, default=SiteRole.PROSUMER.value): _select(
            [role.value for role in SiteRole], CONF_SITE_ROLE
        ),
        vol.Optional(CONF_BACKEND_URL): _URL,
        vol.Optional(CONF_TOKEN): _PASSWORD,
    }
)
COMMUNITY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(CONF_BACKEND_URL): _URL,
        vol.Required(CONF_TOKEN): _PASSWORD,
    }
)
SITE_BACKEND_SCHEMA = vol.Schema(
    {vol.Optional(CONF_BACKEND_URL): _URL, vol.Optional(CONF_TOKEN): _PASSWORD}
)
COMMUNITY_BACKEND_SCHEMA = vol.Schema(
    {vol.Required(CONF_BACKEND_URL): _URL, vol.Required(CONF_TOKEN): _PASSWORD}
)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_TOKEN): _PASSWORD})
DEVICE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): str,
        vol.Required(CONF_SOURCE, default=DeviceSource.MODBUS.value): _select(
            [source.value for source in DeviceSource], CONF_SOURCE
        ),
        vol.Required(CONF_ROLE): _select([role.value for role in DeviceRole], CONF_ROLE),
    }
)
#: Speeds offered for a serial (RTU) device; Eastron and Gavazzi default to 9600.
BAUDRATES = ("1200", "2400", "4800", "9600", "19200", "38400", "57600", "115200")


def serial_connection_schema(ports: list[str]) -> vol.Schema:
    """Port (the ports found, or any path typed in), speed, framing and unit of a serial
    (RTU) device: its form's connection fields, and the whole form of its reconfigure."""
    return vol.Schema(
        {
            vol.Required(CONF_SERIAL_PORT): SelectSelector(
                SelectSelectorConfig(
                    options=ports, custom_value=True, mode=SelectSelectorMode.DROPDOWN
                )
            ),
            vol.Required(CONF_BAUDRATE, default=str(DEFAULT_BAUDRATE)): SelectSelector(
                SelectSelectorConfig(options=list(BAUDRATES), mode=SelectSelectorMode.DROPDOWN)
            ),
            vol.Required(CONF_PARITY, default="N"): _select(["N", "E", "O"], CONF_PARITY),
            vol.Required(CONF_STOPBITS, default="1"): _select(["1", "2"], CONF_STOPBITS),
            vol.Required(CONF_UNIT, default=DEFAULT_UNIT): _UNIT,
        }
    )


def serial_schema(ports: list[str]) -> vol.Schema:
    """The form of a serial (RTU) device: profile, connection, sign options."""
    return (
        vol.Schema(
            {
                vol.Required(CONF_PROFILE, default=ModbusProfile.SDM120.value): _select(
                    [profile.value for profile in ModbusProfile], CONF_PROFILE
                )
            }
        )
        .extend(serial_connection_schema(ports).schema)
        .extend(
            {
                vol.Optional(CONF_INVERT_POWER, default=False): BooleanSelector(),
                vol.Optional(CONF_SWAP_ENERGY, default=False): BooleanSelector(),
            }
        )
    )


def _serial_connection_from(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The serial connection fields of a form, as stored (numbers as numbers)."""
    return {
        CONF_SERIAL_PORT: str(user_input[CONF_SERIAL_PORT]).strip(),
        CONF_BAUDRATE: int(user_input[CONF_BAUDRATE]),
        CONF_PARITY: user_input[CONF_PARITY],
        CONF_STOPBITS: int(user_input[CONF_STOPBITS]),
        CONF_UNIT: int(user_input[CONF_UNIT]),
    }


def _serial_suggestions(values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (or typed) values as the serial form's selectors show them (text)."""
    suggested = dict(values)
    for key in (CONF_BAUDRATE, CONF_STOPBITS):
        if key in suggested:
            suggested[key] = str(suggested[key])
    return suggested


def _list_serial_ports() -> list[str]:
    """Serial ports of this machine, by their stable ``/dev/serial/by-id`` name when it has
    one (the names Home Assistant's ``usb`` helper shows); blocking (run in the executor)."""
    try:
        list_ports = importlib.import_module("serial.tools.list_ports")
    except ImportError:  # pyserial not installed yet
        return []
    devices = [str(port.device) for port in list_ports.comports()]
    try:
        from homeassistant.components.usb import get_serial_by_id  # noqa: PLC0415
    except ImportError:  # the usb integration's own requirements are not installed
        return sorted(devices)
    return sorted({get_serial_by_id(device) for device in devices})


MODBUS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PROFILE, default=ModbusProfile.SUNSPEC.value): _select(
            [profile.value for profile in ModbusProfile], CONF_PROFILE
        ),
        vol.Required(CONF_HOST): str,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
        vol.Required(CONF_UNIT, default=DEFAULT_UNIT): _UNIT,
        vol.Optional(CONF_MODEL_ID): NumberSelector(
            NumberSelectorConfig(min=101, max=701, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_INVERT_POWER, default=False): BooleanSelector(),
        vol.Optional(CONF_SWAP_ENERGY, default=False): BooleanSelector(),
    }
)
CONNECTION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): str,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): _PORT,
        vol.Required(CONF_UNIT, default=DEFAULT_UNIT): _UNIT,
    }
)
GENERIC_SCHEMA = vol.Schema(
    {vol.Required(CONF_REGISTERS): TextSelector(TextSelectorConfig(multiline=True))}
)
ENTITIES_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_POWER_ENTITY): EntitySelector(EntitySelectorConfig(domain="sensor")),
        vol.Optional(CONF_IMPORT_ENTITY): EntitySelector(EntitySelectorConfig(domain="sensor")),
        vol.Optional(CONF_EXPORT_ENTITY): EntitySelector(EntitySelectorConfig(domain="sensor")),
    }
)


def _normalise_url(value: str) -> str | None:
    """The backend URL without trailing slash, or ``None`` when it is not an http(s) URL."""
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return str(url).rstrip("/")


async def _async_validate_backend(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    *,
    required: bool,
    pod: str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Check backend URL and token (a site token of ``pod`` when given); return (errors,
    data to store)."""
    raw_url = (user_input.get(CONF_BACKEND_URL) or "").strip()
    token = (user_input.get(CONF_TOKEN) or "").strip()
    if not raw_url and not token and not required:
        return {}, {}
    if not raw_url:
        return {CONF_BACKEND_URL: "url_required"}, {}
    if not token:
        return {CONF_TOKEN: "token_required"}, {}
    url = _normalise_url(raw_url)
    if url is None:
        return {CONF_BACKEND_URL: "invalid_url"}, {}
    errors = await _async_backend_errors(hass, url, token, pod)
    return errors, {} if errors else {CONF_BACKEND_URL: url, CONF_TOKEN: token}


async def _async_backend_errors(
    hass: HomeAssistant, url: str, token: str, pod: str | None = None
) -> dict[str, str]:
    """The form errors of a backend check, in the words of the form the user sees: a
    backend that does not answer is not a Modbus device that does not answer."""
    try:
        await async_check_backend(hass, url, token, pod)
    except BackendAuthError as err:
        if err.status == HTTPStatus.FORBIDDEN and pod is not None:
            return {"base": "token_not_site"}
        return {"base": "invalid_auth"}
    except CerApiConnectionError:
        return {"base": "backend_unreachable"}
    except CerApiError as err:
        if pod is not None and err.status in (
            HTTPStatus.NOT_FOUND,
            HTTPStatus.UNPROCESSABLE_ENTITY,
        ):
            return {"base": "pod_not_in_backend"}
        return {"base": "backend_unreachable"}
    except Exception:
        LOGGER.exception("Unexpected error while checking the backend")
        return {"base": "unknown"}
    return {}


async def _async_test_device(
    hass: HomeAssistant, device: DeviceConfig
) -> tuple[dict[str, str], DeviceConfig]:
    """Errors of a device about to be saved (duplicate, failed test read), and the device
    completed with what the test read found (its quantities and identity).
    """
    if device.source is not DeviceSource.ENTITIES and device.unit == MODBUS_BROADCAST_UNIT:
        # unit 0 is the broadcast address: devices execute writes to it and never answer
        return {CONF_UNIT: "unit_broadcast"}, device
    for entry in hass.config_entries.async_entries(DOMAIN):
        for other in devices_of(entry.options):
            if other.device_id == device.device_id:
                continue
            same_modbus = (
                device.connection_key is not None and other.connection_key == device.connection_key
            )
            same_entity = (
                device.power_entity is not None and other.power_entity == device.power_entity
            )
            if same_modbus or same_entity:
                return {"base": "device_already_configured"}, device
    try:
        probe = await async_probe_device(hass, device)
    except ModbusUnavailable:
        return {"base": "cannot_connect"}, device
    except ModbusProtocolError:
        return {"base": "invalid_response"}, device
    except EntitySourceError as err:
        return {err.field: err.reason}, device
    except Exception:
        LOGGER.exception("Unexpected error while testing a device")
        return {"base": "unknown"}, device
    found = replace(
        device,
        quantities=tuple(str(q) for q in probe.quantities),
        manufacturer=probe.identity.manufacturer,
        model=probe.identity.model,
        serial_number=probe.identity.serial_number,
        sunspec_layout=probe.sunspec_layout,
    )
    return {}, found


def _connection_from(user_input: Mapping[str, Any]) -> dict[str, Any]:
    return {
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_UNIT: int(user_input[CONF_UNIT]),
    }


def _replace_device(options: Mapping[str, Any], device: DeviceConfig) -> dict[str, Any]:
    """New options with ``device`` replacing the one with its id, or added at the end."""
    devices = devices_of(options)
    ids = [d.device_id for d in devices]
    if device.device_id in ids:
        devices[ids.index(device.device_id)] = device
    else:
        devices.append(device)
    return {**options, CONF_DEVICES: [d.as_dict() for d in devices]}


def _save_and_reload(
    hass: HomeAssistant,
    entry: ConfigEntry,
    *,
    data: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Update the entry and have it reloaded.

    A loaded entry is reloaded by its update listener; one whose setup failed (a rejected
    token, a backend down) has no listener, so the reload is scheduled here.
    """
    failed = entry.state in (ConfigEntryState.SETUP_ERROR, ConfigEntryState.SETUP_RETRY)
    if data is not None:
        hass.config_entries.async_update_entry(entry, data=data)
    if options is not None:
        hass.config_entries.async_update_entry(entry, options=options)
    if failed:
        hass.config_entries.async_schedule_reload(entry.entry_id)


class CerCommunityConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for CER Community."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no entry under reauth or reconfiguration."""
        self._entry: ConfigEntry | None = None
        self._device: DeviceConfig | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Devices of a site are managed in its options."""
        return CerCommunityOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Only sites have options (their devices)."""
        return bool(config_entry.data.get(CONF_ENTRY_TYPE, EntryType.SITE) == EntryType.SITE)

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose between a building (site) and a community dashboard."""
        return self.async_show_menu(step_id="user", menu_options=["site", "community"])

    async def async_step_site(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Name, POD, member, role and (optionally) the backend of a site."""
        errors: dict[str, str] = {}
        if user_input is not None:
            pod = normalise_pod(user_input[CONF_POD])
            if not is_valid_pod(pod):
                errors[CONF_POD] = "invalid_pod"
            else:
                await self.async_set_unique_id(pod)
                self._abort_if_unique_id_configured()
                errors, backend = await _async_validate_backend(
                    self.hass, user_input, required=False, pod=pod
                )
                if not errors:
                    data: dict[str, Any] = {
                        CONF_ENTRY_TYPE: EntryType.SITE.value,
                        CONF_NAME: user_input[CONF_NAME].strip(),
                        CONF_POD: pod,
                        CONF_SITE_ROLE: user_input[CONF_SITE_ROLE],
                        **backend,
                    }
                    if member := (user_input.get(CONF_MEMBER_ID) or "").strip():
                        data[CONF_MEMBER_ID] = member
                    return self.async_create_entry(
                        title=data[CONF_NAME], data=data, options={CONF_DEVICES: []}
                    )
        return self.async_show_form(
            step_id="site",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_community(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Backend URL and viewer token of a community dashboard."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, backend = await _async_validate_backend(self.hass, user_input, required=True)
            if not errors:
                # only another dashboard is a duplicate: a site of the same community may
                # use the same backend (even the same token)
                self._async_abort_entries_match(
                    {**backend, CONF_ENTRY_TYPE: EntryType.COMMUNITY.value}
                )
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip(),
                    data={
                        CONF_ENTRY_TYPE: EntryType.COMMUNITY.value,
                        CONF_NAME: user_input[CONF_NAME].strip(),
                        **backend,
                    },
                )
        return self.async_show_form(
            step_id="community",
            data_schema=self.add_suggested_values_to_schema(COMMUNITY_SCHEMA, user_input),
            errors=errors,
        )

    def _context_entry(self) -> ConfigEntry:
        entry = self.hass.config_entries.async_get_entry(self.context["entry_id"])
        assert entry is not None
        return entry

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The backend rejected the token: ask for a new one."""
        self._entry = self._context_entry()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new token and check it against the backend."""
        assert self._entry is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            token = user_input[CONF_TOKEN].strip()
            errors = await _async_backend_errors(
                self.hass, self._entry.data[CONF_BACKEND_URL], token, self._entry.data.get(CONF_POD)
            )
            if not errors:
                _save_and_reload(
                    self.hass, self._entry, data={**self._entry.data, CONF_TOKEN: token}
                )
                return self.async_abort(reason="reauth_successful")
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={
                CONF_NAME: self._entry.title,
                CONF_BACKEND_URL: self._entry.data[CONF_BACKEND_URL],
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change a site's device connection or backend, or a community's backend."""
        self._entry = self._context_entry()
        if self._entry.data.get(CONF_ENTRY_TYPE) == EntryType.COMMUNITY:
            return await self.async_step_reconfigure_backend()
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=["reconfigure_device", "reconfigure_backend"],
        )

    async def async_step_reconfigure_backend(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Backend URL and token (a site may clear both to work locally)."""
        assert self._entry is not None
        community = self._entry.data.get(CONF_ENTRY_TYPE) == EntryType.COMMUNITY
        schema = COMMUNITY_BACKEND_SCHEMA if community else SITE_BACKEND_SCHEMA
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, backend = await _async_validate_backend(
                self.hass, user_input, required=community, pod=self._entry.data.get(CONF_POD)
            )
            if not errors:
                data = {
                    k: v
                    for k, v in self._entry.data.items()
                    if k not in (CONF_BACKEND_URL, CONF_TOKEN)
                }
                _save_and_reload(self.hass, self._entry, data={**data, **backend})
                return self.async_abort(reason="reconfigure_successful")
        suggested = user_input or {CONF_BACKEND_URL: self._entry.data.get(CONF_BACKEND_URL)}
        return self.async_show_form(
            step_id="reconfigure_backend",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_reconfigure_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the Modbus device (TCP or serial) whose connection changes."""
        assert self._entry is not None
        devices = [
            d
            for d in devices_of(self._entry.options)
            if d.source in (DeviceSource.MODBUS, DeviceSource.SERIAL)
        ]
        if not devices:
            return self.async_abort(reason="no_modbus_devices")
        if user_input is not None or len(devices) == 1:
            chosen = user_input[CONF_DEVICE_ID] if user_input else devices[0].device_id
            self._device = next(d for d in devices if d.device_id == chosen)
            if self._device.source is DeviceSource.SERIAL:
                return await self.async_step_reconfigure_serial()
            return await self.async_step_reconfigure_connection()
        return self.async_show_form(
            step_id="reconfigure_device",
            data_schema=vol.Schema({vol.Required(CONF_DEVICE_ID): _device_selector(devices)}),
        )

    async def _async_save_connection(self, connection: dict[str, Any]) -> dict[str, str]:
        """The chosen device with a new connection: tested, then saved (the entry reloads);
        answers the form's errors (none: saved)."""
        assert self._entry is not None
        assert self._device is not None
        device = DeviceConfig.from_dict({**self._device.as_dict(), **connection})
        errors, device = await _async_test_device(self.hass, device)
        if not errors:
            _save_and_reload(
                self.hass, self._entry, options=_replace_device(self._entry.options, device)
            )
        return errors

    async def async_step_reconfigure_connection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host, port and unit of the chosen device, tested before they are saved."""
        assert self._device is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_save_connection(_connection_from(user_input))
            if not errors:
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure_connection",
            data_schema=self.add_suggested_values_to_schema(
                CONNECTION_SCHEMA, user_input or self._device.as_dict()
            ),
            errors=errors,
            description_placeholders={CONF_NAME: self._device.name},
        )

    async def async_step_reconfigure_serial(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Serial port, speed, framing and unit of the chosen RTU device (a new USB adapter,
        a meter set to another speed), tested before they are saved."""
        assert self._device is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_save_connection(_serial_connection_from(user_input))
            if not errors:
                return self.async_abort(reason="reconfigure_successful")
        ports = await self.hass.async_add_executor_job(_list_serial_ports)
        return self.async_show_form(
            step_id="reconfigure_serial",
            data_schema=self.add_suggested_values_to_schema(
                serial_connection_schema(ports),
                _serial_suggestions(user_input or self._device.as_dict()),
            ),
            errors=errors,
            description_placeholders={CONF_NAME: self._device.name},
        )


def _device_selector(devices: list[DeviceConfig]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[SelectOptionDict(value=d.device_id, label=d.name) for d in devices],
            mode=SelectSelectorMode.LIST,
        )
    )


class CerCommunityOptionsFlow(OptionsFlow):
    """Add, edit and remove the devices of a site.

    The entry is looked up by the flow's handler (its entry id), never assigned to
    ``self.config_entry``: that attribute is read-only from Home Assistant 2025.12.
    """

    def __init__(self) -> None:
        """Start with no device being edited."""
        self._draft: dict[str, Any] = {}
        self._tested: DeviceConfig | None = None

    @property
    def _site(self) -> ConfigEntry:
        entry = self.hass.config_entries.async_get_entry(self.handler)
        assert entry is not None
        return entry

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """What to do with the site's devices."""
        menu = ["add_device"]
        if devices_of(self._site.options):
            menu += ["edit_device", "remove_device"]
        return self.async_show_menu(step_id="init", menu_options=menu)

    async def async_step_add_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Name, source and role of a new device (or of the device being edited)."""
        if user_input is not None:
            previous = self._draft
            # the connection fields of an edited device are kept as suggestions
            same_source = previous.get(CONF_SOURCE) == user_input[CONF_SOURCE]
            self._draft = {
                **(previous if same_source else {}),
                CONF_DEVICE_ID: previous.get(CONF_DEVICE_ID) or uuid.uuid4().hex[:12],
                CONF_NAME: user_input[CONF_NAME].strip(),
                CONF_SOURCE: user_input[CONF_SOURCE],
                CONF_ROLE: user_input[CONF_ROLE],
            }
            if user_input[CONF_SOURCE] == DeviceSource.ENTITIES:
                return await self.async_step_entities()
            if user_input[CONF_SOURCE] == DeviceSource.SERIAL:
                return await self.async_step_serial()
            return await self.async_step_modbus()
        return self.async_show_form(
            step_id="add_device",
            data_schema=self.add_suggested_values_to_schema(DEVICE_SCHEMA, self._draft),
        )

    async def async_step_modbus(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Profile and connection of a Modbus device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._draft.update(_connection_from(user_input))
            self._draft[CONF_PROFILE] = user_input[CONF_PROFILE]
            self._draft[CONF_INVERT_POWER] = bool(user_input.get(CONF_INVERT_POWER))
            self._draft[CONF_SWAP_ENERGY] = bool(user_input.get(CONF_SWAP_ENERGY))
            model_id = user_input.get(CONF_MODEL_ID)
            self._draft[CONF_MODEL_ID] = None if model_id is None else int(model_id)
            if user_input[CONF_PROFILE] == ModbusProfile.GENERIC:
                return await self.async_step_generic()
            self._draft.pop(CONF_REGISTERS, None)
            errors = await self._async_test_draft()
            if not errors:
                return self._async_save_draft()
        return self.async_show_form(
            step_id="modbus",
            data_schema=self.add_suggested_values_to_schema(
                MODBUS_SCHEMA, user_input or self._draft
            ),
            errors=errors,
        )

    async def async_step_serial(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Profile, serial port, speed, framing and unit of a Modbus RTU device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            for key in (CONF_HOST, CONF_PORT):
                self._draft.pop(key, None)
            self._draft.update(
                {
                    CONF_PROFILE: user_input[CONF_PROFILE],
                    **_serial_connection_from(user_input),
                    CONF_INVERT_POWER: bool(user_input.get(CONF_INVERT_POWER)),
                    CONF_SWAP_ENERGY: bool(user_input.get(CONF_SWAP_ENERGY)),
                }
            )
            if user_input[CONF_PROFILE] == ModbusProfile.GENERIC:
                return await self.async_step_generic()
            self._draft.pop(CONF_REGISTERS, None)
            errors = await self._async_test_draft()
            if not errors:
                return self._async_save_draft()
        ports = await self.hass.async_add_executor_job(_list_serial_ports)
        suggested = _serial_suggestions(user_input or self._draft)
        return self.async_show_form(
            step_id="serial",
            data_schema=self.add_suggested_values_to_schema(serial_schema(ports), suggested),
            errors=errors,
        )

    async def async_step_generic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Register map of a device with the generic profile."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._draft[CONF_REGISTERS] = user_input[CONF_REGISTERS]
            errors = await self._async_test_draft()
            if not errors:
                return self._async_save_draft()
        return self.async_show_form(
            step_id="generic",
            data_schema=self.add_suggested_values_to_schema(
                GENERIC_SCHEMA, user_input or self._draft
            ),
            errors=errors,
        )

    async def async_step_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Existing Home Assistant entities as the source of a device."""
        errors: dict[str, str] = {}
        if user_input is not None:
            for key in (CONF_POWER_ENTITY, CONF_IMPORT_ENTITY, CONF_EXPORT_ENTITY):
                self._draft.pop(key, None)
                if user_input.get(key):
                    self._draft[key] = user_input[key]
            errors = await self._async_test_draft()
            if not errors:
                return self._async_save_draft()
        return self.async_show_form(
            step_id="entities",
            data_schema=self.add_suggested_values_to_schema(
                ENTITIES_SCHEMA, user_input or self._draft
            ),
            errors=errors,
        )

    async def _async_test_draft(self) -> dict[str, str]:
        errors, device = await _async_test_device(self.hass, DeviceConfig.from_dict(self._draft))
        self._tested = device
        return errors

    @callback
    def _async_save_draft(self) -> ConfigFlowResult:
        assert self._tested is not None
        options = _replace_device(self._site.options, self._tested)
        return self.async_create_entry(title="", data=options)

    async def async_step_edit_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the device to edit."""
        devices = devices_of(self._site.options)
        if user_input is not None:
            chosen = next(d for d in devices if d.device_id == user_input[CONF_DEVICE_ID])
            self._draft = chosen.as_dict()
            return await self.async_step_add_device()
        return self.async_show_form(
            step_id="edit_device",
            data_schema=vol.Schema({vol.Required(CONF_DEVICE_ID): _device_selector(devices)}),
        )

    async def async_step_remove_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the device to remove; its entities and device entry go with it."""
        devices = devices_of(self._site.options)
        if user_input is not None:
            kept = [d.as_dict() for d in devices if d.device_id != user_input[CONF_DEVICE_ID]]
            return self.async_create_entry(
                title="", data={**self._site.options, CONF_DEVICES: kept}
            )
        return self.async_show_form(
            step_id="remove_device",
            data_schema=vol.Schema({vol.Required(CONF_DEVICE_ID): _device_selector(devices)}),
        )
