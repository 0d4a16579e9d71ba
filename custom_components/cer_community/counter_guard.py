"""Lifetime counters that go backwards or jump implausibly are held back, not published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .const import MAX_PLAUSIBLE_POWER_W, MIN_PLAUSIBLE_STEP_WH
from .modbus.quantities import Quantity

Reading = dict[Quantity, float | int | None]
LIFETIME_COUNTERS = (Quantity.ENERGY_IMPORTED, Quantity.ENERGY_EXPORTED, Quantity.ENERGY_PRODUCED)


@dataclass(frozen=True, slots=True)
class HeldCounter:
    """A lifetime counter value held back from publication."""

    quantity: Quantity
    kind: Literal["backwards", "jump"]
    published: float
    value: float


@dataclass(slots=True)
class CounterGuard:
    """Holds back lifetime counter values that go backwards or jump implausibly.

    A held counter keeps showing its last good value. It is published again when it comes
    back in line (the odd value was a misread), or from the value read after the user
    confirmed in the repair flow that the meter was reset or replaced.
    """

    max_power_w: float = MAX_PLAUSIBLE_POWER_W
    min_step_wh: float = MIN_PLAUSIBLE_STEP_WH
    _good: dict[Quantity, tuple[float, float]] = field(default_factory=dict)
    held: dict[Quantity, HeldCounter] = field(default_factory=dict)
    _rebase: set[Quantity] = field(default_factory=set)

    def filter(self, reading: Reading, now: float) -> tuple[Reading, list[HeldCounter]]:
        """The reading to publish, and the counters newly held back by it."""
        published = dict(reading)
        newly_held: list[HeldCounter] = []
        for quantity in LIFETIME_COUNTERS:
            value = reading.get(quantity)
            if value is None:
                continue
            good = self._good.get(quantity)
            if good is None or quantity in self._rebase:
                self._rebase.discard(quantity)
                self._accept(quantity, float(value), now)
                continue
            last, at = good
            delta = float(value) - last
            allowed = max(self.min_step_wh, self.max_power_w * max(now - at, 0.0) / 3600)
            kind: Literal["backwards", "jump"] | None = (
                "backwards" if delta < 0 else "jump" if delta > allowed else None
            )
            if kind is None:
                self._accept(quantity, float(value), now)
                continue
            published[quantity] = last
            if quantity not in self.held:
                held = HeldCounter(quantity, kind, last, float(value))
                self.held[quantity] = held
                newly_held.append(held)
        return published, newly_held

    def _accept(self, quantity: Quantity, value: float, now: float) -> None:
        self._good[quantity] = (value, now)
        self.held.pop(quantity, None)

    def accept_next(self, quantity: Quantity) -> None:
        """The user confirmed a reset: take the next value as the new base."""
        self._rebase.add(quantity)


def counter_issue_id(entry_id: str, device_id: str, quantity: Quantity) -> str:
    """Repair issue id of a held counter."""
    return f"counter_{entry_id}_{device_id}_{quantity}"
