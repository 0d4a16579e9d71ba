"""What a device reading contains: the contract between the Modbus layer and the entities.

A device read returns ``dict[Quantity, float | int | None]``: ``None`` for a value the device
does not implement (SunSpec "not implemented" sentinels) and absent keys for quantities its
profile does not have.

Sign convention, the same for every profile (vendor conventions are undone in the profile):
``ACTIVE_POWER`` is positive when the device's own direction is positive, i.e. for an
inverter the power it produces, for a load meter the power consumed, and for a **grid
exchange** meter the power **withdrawn** from the grid (import positive, export negative).
"""

from __future__ import annotations

from enum import StrEnum


class Quantity(StrEnum):
    """A measured quantity, in SI-derived units as named."""

    ACTIVE_POWER = "active_power"  # W, signed as above
    ENERGY_IMPORTED = "energy_imported"  # Wh, lifetime counter (withdrawn / consumed)
    ENERGY_EXPORTED = "energy_exported"  # Wh, lifetime counter (injected)
    ENERGY_PRODUCED = "energy_produced"  # Wh, lifetime counter of an inverter
    VOLTAGE_L1 = "voltage_l1"  # V, phase to neutral
    VOLTAGE_L2 = "voltage_l2"
    VOLTAGE_L3 = "voltage_l3"
    CURRENT_L1 = "current_l1"  # A
    CURRENT_L2 = "current_l2"
    CURRENT_L3 = "current_l3"
    POWER_L1 = "power_l1"  # W, signed as ACTIVE_POWER
    POWER_L2 = "power_l2"
    POWER_L3 = "power_l3"
    FREQUENCY = "frequency"  # Hz
    INVERTER_STATE = "inverter_state"  # int, SunSpec operating state (1 off … 8 standby)
    TEMPERATURE = "temperature"  # °C, inverter cabinet/heat sink
    DC_POWER = "dc_power"  # W, DC input power of an inverter (SunSpec DCW)
