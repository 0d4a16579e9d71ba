"""Asleep at night is not an error: when a silent inverter is *asleep* rather than down.

Most PV inverters switch their communication board off below a DC threshold; the Modbus
session dies until sunrise (MODBUS-MAPS §6, "Night behaviour"). Pure code: the caller says
whether the sun is up (Home Assistant's ``helpers.sun``, computed with ``astral``).

Rule (issue #14 item 4): an inverter that stops answering is asleep when the sun is down, or
when it was idle at its last answer (≈0 W, or a SunSpec state OFF, SLEEPING, SHUTTING_DOWN or
STANDBY). Asleep, its power is 0, its counters hold their value and it logs at debug. It
becomes unavailable only if it stays silent in daylight for longer than
:data:`DAYLIGHT_SILENCE_GRACE` (or stops answering in daylight while producing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from .modbus.device import ASLEEP_STATES
from .modbus.quantities import Quantity, module_of

#: Below this AC power an inverter is idle: the few watts it shows at dusk.
IDLE_POWER_W: Final = 25.0
#: How long an asleep inverter may stay silent in daylight (dawn, when the DC voltage is
#: still too low to wake it) before it is reported unavailable.
DAYLIGHT_SILENCE_GRACE: Final = timedelta(hours=1)

#: Quantities that are 0 while asleep.
ASLEEP_ZERO: Final = frozenset(
    {
        Quantity.ACTIVE_POWER,
        Quantity.DC_POWER,
        Quantity.POWER_L1,
        Quantity.POWER_L2,
        Quantity.POWER_L3,
    }
)
#: Quantities that keep their last value while asleep (the counters, and the state).
ASLEEP_HELD: Final = frozenset(
    {
        Quantity.ENERGY_PRODUCED,
        Quantity.ENERGY_IMPORTED,
        Quantity.ENERGY_EXPORTED,
        Quantity.INVERTER_STATE,
    }
)

Reading = dict[Quantity, float | int | None]


def was_idle(last: Mapping[Quantity, float | int | None]) -> bool:
    """Whether the last reading shows an idle inverter (≈0 W, or an asleep SunSpec state)."""
    state = last.get(Quantity.INVERTER_STATE)
    if state is not None and int(state) in ASLEEP_STATES:
        return True
    power = last.get(Quantity.ACTIVE_POWER)
    return power is not None and abs(float(power)) <= IDLE_POWER_W


def asleep_reading(
    last: Mapping[Quantity, float | int | None], quantities: Iterable[Quantity]
) -> Reading:
    """What an asleep inverter publishes: powers 0, counters and state held, the rest
    unknown."""
    reading: Reading = {}
    for quantity in quantities:
        per_input = module_of(quantity)  # an MPPT input's DC power is 0 like the whole's
        if quantity in ASLEEP_ZERO or (per_input is not None and per_input[0] in ASLEEP_ZERO):
            reading[quantity] = 0
        elif quantity in ASLEEP_HELD:
            reading[quantity] = last.get(quantity)
        else:
            reading[quantity] = None
    return reading


@dataclass(slots=True)
class SleepWatch:
    """Tells, poll after poll, whether a silent inverter is asleep or unavailable."""

    daylight_grace: timedelta = DAYLIGHT_SILENCE_GRACE
    silent: bool = False
    """The inverter did not answer the last poll."""
    fell_asleep: bool = False
    """When it went silent, the sun was down or it was idle."""
    daylight_silent_since: datetime | None = None

    def answered(self) -> None:
        """It answered: forget the silence."""
        self.silent = False
        self.fell_asleep = False
        self.daylight_silent_since = None

    def is_asleep(
        self, last: Mapping[Quantity, float | int | None], now: datetime, *, sun_up: bool
    ) -> bool:
        """It did not answer at ``now``: asleep (``True``) or unavailable (``False``)."""
        if not self.silent:
            self.silent = True
            self.fell_asleep = not sun_up or was_idle(last)
        if not sun_up:
            self.fell_asleep = True  # silent through the night: asleep at dawn too
            self.daylight_silent_since = None
            return True
        if self.daylight_silent_since is None:
            self.daylight_silent_since = now
        return self.fell_asleep and now - self.daylight_silent_since < self.daylight_grace
