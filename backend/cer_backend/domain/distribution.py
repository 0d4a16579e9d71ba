"""Distribution of the community's income (TIP + valorisation) by its statute.

The order is fixed, one step per statute key (``FORMATS.md``):

1. management: ``management_pct`` of TIP + valorisation, borne by the TIP alone
   (``management_from: tip``; any excess over the TIP comes off the valorisation, with a
   warning) or pro-rata by both (``total``);
2. valorisation, net of its management share: to each plant's owner pro-rata to its
   valorisation (``valorisation_to: plant_owners``) or into the pool (``pool``);
3. of the pool, the social and investment funds (``social_fund_pct``, ``investment_fund_pct``);
4. the surplus earmark ``C_ecc`` (GSE-RULES §4) to non-business consumers (pro-rata to their
   consumer weight) or to the social fund (topping it up to at least ``C_ecc``); if the pool
   cannot cover it, a warning says the statute breaks the rule;
5. of what remains, ``producers_pct`` to plant owners pro-rata to incentivised energy;
6. the rest to consumers by ``consumers_by`` (integer weights computed by the settlement:
   coincident withdrawal in Wh, withdrawal in Wh, or days of membership).

Amounts are exact. At the end every recipient's amount is turned into cents by largest
remainder, so members + management + funds add up exactly to the reported
``tip_eur + valorisation_eur``. The arithmetic is on integers over a common denominator, so
ten thousand members cost milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .community import Member, Statute
from .money import eur, to_cents

_HUNDRED = Fraction(100)


@dataclass(frozen=True)
class DistributionInput:
    """What the statute shares, per plant (first-in order) and member."""

    statute: Statute
    members: Sequence[Member]
    plant_owners: Sequence[str]
    plant_tip: Sequence[Fraction]
    plant_valorisation: Sequence[Fraction]
    plant_incentivised_wh: Sequence[int]
    consumer_weights: Mapping[str, int]
    surplus: Fraction = Fraction(0)
    #: the cents to share when they are not the rounding of TIP and valorisation: the sum
    #: of the configurations' rounded amounts (GSE-RULES §1)
    total_cents: int | None = None


@dataclass(frozen=True)
class Distribution:
    """The statute's shares in cents, adding up to ``total_cents``."""

    total_cents: int
    management_cents: int
    social_fund_cents: int
    investment_fund_cents: int
    member_cents: dict[str, int]
    exact: dict[str, Fraction] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    member_parts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each member's cents by origin (``PARTS``), adding up to its ``member_cents``."""


PARTS = ("valorisation", "surplus", "producers", "consumers")


@dataclass
class _Pot:
    """Money shared pro-rata to integer weights (member id → weight)."""

    amount: Fraction
    weights: dict[str, int]
    part: str

    @property
    def total_weight(self) -> int:
        return sum(self.weights.values())


def distribute(data: DistributionInput) -> Distribution:
    """Share TIP + valorisation by the statute (see the module docstring for the order)."""
    statute = data.statute
    warnings: list[str] = []
    tip = sum(data.plant_tip, Fraction(0))
    valorisation = sum(data.plant_valorisation, Fraction(0))
    total = tip + valorisation
    total_cents = (
        to_cents(tip) + to_cents(valorisation) if data.total_cents is None else data.total_cents
    )
    direct: dict[str, Fraction] = {}
    pots: list[_Pot] = []

    # 1. management
    rate = Fraction(statute.management_pct) / _HUNDRED
    if statute.management_from == "tip":
        management = rate * total
        from_tip = min(management, tip)
        from_valorisation = management - from_tip
        if from_valorisation > 0:
            warnings.append(
                f"the management share ({eur(management)} €) exceeds the TIP: "
                f"{eur(from_valorisation)} € comes off the valorisation"
            )
    else:
        from_tip, from_valorisation = rate * tip, rate * valorisation
        management = from_tip + from_valorisation
    net_valorisation = valorisation - from_valorisation

    # 2. valorisation
    pool = tip - from_tip
    if statute.valorisation_to == "plant_owners" and valorisation > 0:
        for owner, value in zip(data.plant_owners, data.plant_valorisation, strict=True):
            direct[owner] = direct.get(owner, Fraction(0)) + value * net_valorisation / valorisation
    else:
        pool += net_valorisation

    # 3. funds
    social = Fraction(statute.social_fund_pct) / _HUNDRED * pool
    investment = Fraction(statute.investment_fund_pct) / _HUNDRED * pool
    rest = pool - social - investment

    # 4. surplus earmark
    surplus = data.surplus
    if surplus > 0:
        business = {m.id for m in data.members if m.type_rules.business}
        eligible = {
            mid: w for mid, w in data.consumer_weights.items() if w > 0 and mid not in business
        }
        if statute.surplus_to == "non_business_consumers" and not eligible:
            warnings.append(
                "no non-business consumer can receive the surplus earmark: it goes to the "
                "social fund"
            )
        if statute.surplus_to == "social_fund" or not eligible:
            topping = min(max(Fraction(0), surplus - social), rest)
            social += topping
            rest -= topping
            covered = social >= surplus
        else:
            given = min(surplus, rest)
            pots.append(_Pot(given, eligible, "surplus"))
            rest -= given
            covered = given == surplus
        if not covered:
            warnings.append(
                f"the statute leaves too little for the surplus earmark of {eur(surplus)} € "
                "(GSE-RULES §4): management and funds must be reduced"
            )

    # 5. producers
    producer_weights: dict[str, int] = {}
    for owner, energy in zip(data.plant_owners, data.plant_incentivised_wh, strict=True):
        if energy > 0:
            producer_weights[owner] = producer_weights.get(owner, 0) + energy
    if statute.producers_pct and producer_weights:
        producers = Fraction(statute.producers_pct) / _HUNDRED * rest
        pots.append(_Pot(producers, producer_weights, "producers"))
        rest -= producers

    # 6. consumers
    consumer_weights = {mid: w for mid, w in data.consumer_weights.items() if w > 0}
    if rest > 0 and consumer_weights:
        pots.append(_Pot(rest, consumer_weights, "consumers"))
    elif rest > 0:
        warnings.append(f"no consumer to share {eur(rest)} € with: it goes to the social fund")
        social += rest

    member_ids = [m.id for m in data.members]
    cents, parts = _largest_remainder_cents(
        total_cents,
        total,
        [management, social, investment],
        member_ids=member_ids,
        direct=direct,
        pots=pots,
    )
    return Distribution(
        total_cents=total_cents,
        management_cents=cents[0],
        social_fund_cents=cents[1],
        investment_fund_cents=cents[2],
        member_cents=dict(zip(member_ids, cents[3:], strict=True)),
        exact={"management": management, "social_fund": social, "investment_fund": investment},
        warnings=warnings,
        member_parts=parts,
    )


def _largest_remainder_cents(
    total_cents: int,
    total: Fraction,
    fixed: list[Fraction],
    *,
    member_ids: list[str],
    direct: Mapping[str, Fraction],
    pots: list[_Pot],
) -> tuple[list[int], dict[str, dict[str, int]]]:
    """Cents of ``fixed`` recipients then members, by largest remainder, exactly.

    Each recipient's exact amount (fixed, or direct + Σ pot × weight / total weight) is
    scaled so the amounts add up to ``total_cents``; integer numerators over one common
    denominator give floors and remainders without per-member fractions. Each member's cents
    are then split by origin (valorisation, surplus, producers, consumers) the same way.
    """
    count = len(fixed) + len(member_ids)
    if total == 0:
        if total_cents:
            raise ValueError("nothing to share but a nonzero total")
        return [0] * count, {mid: dict.fromkeys(PARTS, 0) for mid in member_ids}
    scale = Fraction(total_cents) / total
    fixed_scaled = [f * scale for f in fixed]
    direct_scaled = {mid: v * scale for mid, v in direct.items()}
    coefficients = [pot.amount * scale / pot.total_weight for pot in pots]
    denominator = 1
    for value in (*fixed_scaled, *direct_scaled.values(), *coefficients):
        denominator = math.lcm(denominator, value.denominator)
    numerators = [int(v * denominator) for v in fixed_scaled]
    index = {mid: len(fixed) + i for i, mid in enumerate(member_ids)}
    numerators += [0] * len(member_ids)
    by_part: dict[str, dict[str, int]] = {part: {} for part in PARTS}
    for mid, value in direct_scaled.items():
        numerator = int(value * denominator)
        numerators[index[mid]] += numerator
        by_part["valorisation"][mid] = numerator
    for pot, coefficient in zip(pots, coefficients, strict=True):
        factor = int(coefficient * denominator)
        part = by_part[pot.part]
        for mid, weight in pot.weights.items():
            numerators[index[mid]] += factor * weight
            part[mid] = part.get(mid, 0) + factor * weight
    cents = _round_numerators(numerators, denominator, total_cents)
    parts: dict[str, dict[str, int]] = {}
    mixed = {mid for part in PARTS[:-1] for mid in by_part[part]}
    for mid in member_ids:
        amount = cents[index[mid]]
        if mid not in mixed:  # consumers' quota only: nothing to split
            parts[mid] = {"valorisation": 0, "surplus": 0, "producers": 0, "consumers": amount}
            continue
        own = [by_part[part].get(mid, 0) for part in PARTS]
        whole = sum(own)
        if whole == 0:
            split = [amount, 0, 0, 0]
        else:
            split = _round_numerators([n * amount for n in own], whole, amount)
        parts[mid] = dict(zip(PARTS, split, strict=True))
    return cents, parts


def _round_numerators(numerators: list[int], denominator: int, total: int) -> list[int]:
    """Floors of ``numerators / denominator`` plus one for the largest remainders, to ``total``."""
    floors = [n // denominator for n in numerators]
    left = total - sum(floors)
    order = sorted(range(len(numerators)), key=lambda i: (-(numerators[i] % denominator), i))
    for i in order[:left]:
        floors[i] += 1
    return floors
