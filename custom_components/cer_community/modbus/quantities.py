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

import re
from enum import StrEnum
from typing import Final


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
    DC_CURRENT = "dc_current"  # A, DC input current (per MPPT input: see per_module)
    DC_VOLTAGE = "dc_voltage"  # V, DC input voltage (per MPPT input: see per_module)
    STATE_OF_CHARGE = "state_of_charge"  # %, of a storage (SunSpec 713 SoC)
    STORED_ENERGY = "stored_energy"  # Wh, energy available in a storage (SunSpec 713 WHAvail)

    @classmethod
    def _missing_(cls, value: object) -> Quantity | None:
        """The quantity of one MPPT input, ``mppt_<n>_<quantity>``, made on first use.

        An inverter has as many DC inputs as its SunSpec model 160 says (its ``N``), so
        their quantities cannot all be listed here: they are enum pseudo-members (as
        :class:`enum.Flag` makes its combinations), equal to and hashed as their value like
        every member, and the same object each time (see :func:`per_module`).
        """
        if not isinstance(value, str) or _MODULE_KEY.fullmatch(value) is None:
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        found: Quantity = cls._value2member_map_.setdefault(value, member)  # type: ignore[assignment]
        return found


#: Quantities measured per MPPT input (SunSpec model 160 modules).
MODULE_QUANTITIES: Final = (Quantity.DC_CURRENT, Quantity.DC_VOLTAGE, Quantity.DC_POWER)
#: Highest MPPT input number a key may carry (model 160's ``N`` is a uint16; inverters have
#: up to a few dozen inputs).
MAX_MODULES: Final = 999
_MODULE_KEY: Final = re.compile(
    r"mppt_(?P<module>[1-9][0-9]{0,2})_(?P<quantity>"
    + "|".join(str(q) for q in MODULE_QUANTITIES)
    + ")"
)


def per_module(quantity: Quantity, module: int) -> Quantity:
    """The quantity of MPPT input ``module`` (from 1), e.g. ``mppt_2_dc_power``."""
    if quantity not in MODULE_QUANTITIES or not 1 <= module <= MAX_MODULES:
        raise ValueError(f"no per-module {quantity} for module {module}")
    return Quantity(f"mppt_{module}_{quantity}")


def module_of(quantity: Quantity) -> tuple[Quantity, int] | None:
    """``(DC_POWER, 2)`` for ``mppt_2_dc_power``; ``None`` for a whole-device quantity."""
    match = _MODULE_KEY.fullmatch(str(quantity))
    if match is None:
        return None
    return Quantity(match["quantity"]), int(match["module"])
