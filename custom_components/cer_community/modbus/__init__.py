"""Home Assistant-free Modbus device library of cer_community.

Public API (everything else in this package is internal)::

    from custom_components.cer_community.modbus import (
        PROFILES, Quantity, ModbusUnavailable, ModbusProtocolError,
        acquire_connection, release_connection, build_device, detect_sunspec,
    )

    conn = acquire_connection("192.168.1.50", 502, timeout=3.0)  # shared, refcounted, lazy
    try:
        info = await detect_sunspec(conn, unit=1)           # config flow: scan once
        model = info.readable_models[0]                      # e.g. model 103 at 40069
        options = info.device_options(model)                 # persist these in the entry
        device = await build_device(conn, 1, "sunspec", options)
        device.info                   # DeviceInfo(manufacturer, model, serial_number, sw_version)
        reading = await device.read() # {Quantity.ACTIVE_POWER: 1234.0, ...}; None = not implemented
    except ModbusUnavailable:         # no answer (asleep at night, host down): retry later
        ...
    except ModbusProtocolError:       # answered with an exception / unexpected data: config
        ...
    finally:
        await release_connection(conn)  # the last release closes the socket

* :func:`acquire_connection` (TCP) / :func:`acquire_serial_connection` (RTU): one
  :class:`ModbusConnection` per endpoint, shared by every device and config entry; requests are
  serialised; reconnection is lazy with exponential backoff (``reconnect_delay`` …
  ``reconnect_delay_max``). Pair every acquire with one :func:`release_connection`.
* :func:`build_device` (async): a :class:`ModbusDevice` for a profile id of :data:`PROFILES`
  (``sunspec``, ``sdm120``, ``sdm630``, ``em24``, ``generic``); reads the identity, so it
  raises like ``read``. Options are documented on the function.
* :meth:`ModbusDevice.read` → ``dict[Quantity, float | int | None]``, signs as in
  :mod:`.quantities` (grid meter: import positive). ``device.quantities`` lists the keys,
  ``device.available`` the state (one log line per transition, none while it stays down),
  ``device.diagnostics()`` the profile, requests, options and raw values (host not redacted).
* :func:`detect_sunspec` → :class:`SunSpecInfo` (base address, model chain, identity).
* :func:`parse_generic_registers` validates the generic profile's register rows
  (``ValueError``), for the options flow.
"""

from __future__ import annotations

from .connection import (
    UNIT_KEYWORD,
    ModbusConnection,
    acquire_connection,
    acquire_serial_connection,
    release_connection,
)
from .decode import DataType, WordOrder
from .device import DeviceInfo, ModbusDevice, Reading, build_device
from .errors import ModbusError, ModbusProtocolError, ModbusUnavailable
from .planner import RegisterFunction
from .profiles import PROFILES, Field, Profile, parse_generic_registers
from .quantities import Quantity
from .sunspec import SunSpecIdentity, SunSpecInfo, SunSpecModel, detect_sunspec

__all__ = [
    "PROFILES",
    "UNIT_KEYWORD",
    "DataType",
    "DeviceInfo",
    "Field",
    "ModbusConnection",
    "ModbusDevice",
    "ModbusError",
    "ModbusProtocolError",
    "ModbusUnavailable",
    "Profile",
    "Quantity",
    "Reading",
    "RegisterFunction",
    "SunSpecIdentity",
    "SunSpecInfo",
    "SunSpecModel",
    "WordOrder",
    "acquire_connection",
    "acquire_serial_connection",
    "build_device",
    "detect_sunspec",
    "parse_generic_registers",
    "release_connection",
]
