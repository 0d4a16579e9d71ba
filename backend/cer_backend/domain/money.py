"""Exact money: half-up rounding to the cent where reported, largest-remainder shares."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final

CENT: Final = Decimal("0.01")
Exact = Fraction | Decimal | int


def to_fraction(amount: Exact) -> Fraction:
    """An exact amount as a :class:`Fraction`."""
    return amount if isinstance(amount, Fraction) else Fraction(amount)


def round_cents(amount: Exact) -> Decimal:
    """Round an exact euro amount half-up (away from zero) to the cent."""
    if isinstance(amount, Fraction):
        cents = amount * 100
        sign = -1 if cents < 0 else 1
        whole = (abs(cents.numerator) * 2 + cents.denominator) // (2 * cents.denominator)
        return Decimal(sign * whole) * CENT
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def eur(amount: Exact) -> str:
    """An amount as reported: a string with two decimals (``"58.14"``)."""
    return f"{round_cents(amount):.2f}"


def to_cents(amount: Exact) -> int:
    """The amount rounded half-up, in integer cents."""
    return int(round_cents(amount) * 100)


def largest_remainder(total_cents: int, weights: Sequence[Exact]) -> list[int]:
    """Split ``total_cents`` pro-rata to ``weights`` (≥ 0) in whole cents that add up exactly.

    Each share is floored, and the cents left over go one by one to the largest remainders
    (ties: the earlier weight). All-zero weights give all-zero shares, except that a nonzero
    total then raises ValueError.
    """
    exact = [to_fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise ValueError("weights must be ≥ 0")
    whole = sum(exact, Fraction(0))
    if whole == 0:
        if total_cents:
            raise ValueError("cannot share a nonzero amount by zero weights")
        return [0] * len(exact)
    if total_cents < 0:
        return [-c for c in largest_remainder(-total_cents, exact)]
    quotas = [w * total_cents / whole for w in exact]
    floors = [q.numerator // q.denominator for q in quotas]
    left = total_cents - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors
