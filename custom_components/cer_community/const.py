"""Constants of the cer_community integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum
from typing import Final

DOMAIN: Final = "cer_community"
LOGGER: Final = logging.getLogger(__package__)

# Entry data
CONF_ENTRY_TYPE: Final = "entry_type"
CONF_POD: Final = "pod"
CONF_MEMBER_ID: Final = "member_id"
CONF_SITE_ROLE: Final = "site_role"
CONF_BACKEND_URL: Final = "backend_url"
CONF_TOKEN: Final = "token"

# Entry options: the devices of a site
CONF_DEVICES: Final = "devices"
CONF_DEVICE_ID: Final = "device_id"
CONF_SOURCE: Final = "source"
CONF_PROFILE: Final = "profile"
CONF_UNIT: Final = "unit"
CONF_ROLE: Final = "role"
CONF_REGISTERS: Final = "registers"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_IMPORT_ENTITY: Final = "import_entity"
CONF_EXPORT_ENTITY: Final = "export_entity"
CONF_INVERT_POWER: Final = "invert_power"
CONF_SWAP_ENERGY: Final = "swap_energy"
CONF_MODEL_ID: Final = "model_id"
CONF_SUNSPEC_LAYOUT: Final = "sunspec_layout"
CONF_QUANTITIES: Final = "quantities"
CONF_MANUFACTURER: Final = "manufacturer"
CONF_SERIAL_NUMBER: Final = "serial_number"
CONF_SERIAL_PORT: Final = "serial_port"
CONF_BAUDRATE: Final = "baudrate"
CONF_PARITY: Final = "parity"
CONF_STOPBITS: Final = "stopbits"
DEFAULT_BAUDRATE: Final = 9600

DEFAULT_PORT: Final = 502
DEFAULT_UNIT: Final = 1

DEVICE_SCAN_INTERVAL: Final = timedelta(seconds=10)
COMMUNITY_SCAN_INTERVAL: Final = timedelta(seconds=60)

# A lifetime counter may grow at most this fast (Wh per second of elapsed time, i.e. W)
# between two polls before the new value is held back as implausible: 1 MW covers every
# municipal plant and building of a CER, while a meter swapped or misread jumps far beyond.
MAX_PLAUSIBLE_POWER_W: Final = 1_000_000
# ... and never less than this many Wh in one step (clock jitter on very short intervals).
MIN_PLAUSIBLE_STEP_WH: Final = 10_000

SERVICE_UPLOAD_NOW: Final = "upload_now"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"


class EntryType(StrEnum):
    """What a config entry stands for."""

    SITE = "site"
    COMMUNITY = "community"


class SiteRole(StrEnum):
    """Role of a site (POD) in the community."""

    CONSUMER = "consumer"
    PRODUCER = "producer"
    PROSUMER = "prosumer"


class DeviceSource(StrEnum):
    """Where a device's values come from."""

    MODBUS = "modbus"
    SERIAL = "serial"  # Modbus RTU on a serial port (an RS-485 USB adapter)
    ENTITIES = "entities"


class DeviceRole(StrEnum):
    """Role of a device at its site.

    ``grid`` is the exchange meter at the POD: import is energy withdrawn (prelevata),
    export is energy injected (immessa).
    """

    PRODUCTION = "production"
    GRID = "grid"
    LOAD = "load"


class ModbusProfile(StrEnum):
    """Device profiles of the Modbus layer offered in the options flow."""

    SUNSPEC = "sunspec"
    SDM120 = "sdm120"
    SDM630 = "sdm630"
    EM24 = "em24"
    GENERIC = "generic"


#: Dispatcher signal: a site entry of this Home Assistant was set up (the community entry
#: adds its share sensors from the summary it already holds).
SIGNAL_SITE_SET_UP = f"{DOMAIN}_site_set_up"
