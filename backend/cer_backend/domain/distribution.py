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
6. the rest to consumers by ``consumers_by`` (weights computed by the settlement).

Amounts are exact; at the end every recipient's amount is turned into cents by largest
remainder, so members + management + funds add up exactly to the reported
``tip_eur + valorisation_eur``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .community import Member, Statute
from .money import eur, largest_remainder, to_cents

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
    consumer_weights: Mapping[str, Fraction]
    surplus: Fraction = Fraction(0)


@dataclass(frozen=True)
class Distribution:
    """The statute's shares, in cents adding up to ``total_cents``, and the exact amounts."""

    total_cents: int
    management_cents: int
    social_fund_cents: int
    investment_fund_cents: int
    member_cents: dict[str, int]
    exact: dict[str, Fraction] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def distribute(data: DistributionInput) -> Distribution:
    """Share TIP + valorisation by the statute (see the module docstring for the order)."""
    statute = data.statute
    warnings: list[str] = []
    tip = sum(data.plant_tip, Fraction(0))
    valorisation = sum(data.plant_valorisation, Fraction(0))
    total = tip + valorisation
    total_cents = to_cents(tip) + to_cents(valorisation)
    members: dict[str, Fraction] = {m.id: Fraction(0) for m in data.members}

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
    net_tip = tip - from_tip
    net_valorisation = valorisation - from_valorisation

    # 2. valorisation
    pool = net_tip
    if statute.valorisation_to == "plant_owners" and valorisation > 0:
        for owner, value in zip(data.plant_owners, data.plant_valorisation, strict=True):
            members[owner] += value * net_valorisation / valorisation
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
        to_social = statute.surplus_to == "social_fund" or not eligible
        if statute.surplus_to == "non_business_consumers" and not eligible:
            warnings.append(
                "no non-business consumer can receive the surplus earmark: it goes to the "
                "social fund"
            )
        if to_social:
            topping = min(max(Fraction(0), surplus - social), rest)
            social += topping
            rest -= topping
            covered = social >= surplus
        else:
            given = min(surplus, rest)
            weight = sum(eligible.values(), Fraction(0))
            for mid, w in eligible.items():
                members[mid] += given * w / weight
            rest -= given
            covered = given == surplus
        if not covered:
            warnings.append(
                f"the statute leaves too little for the surplus earmark of {eur(surplus)} € "
                "(GSE-RULES §4): management and funds must be reduced"
            )

    # 5. producers
    incentivised = sum(data.plant_incentivised_wh)
    if statute.producers_pct and incentivised > 0:
        producers = Fraction(statute.producers_pct) / _HUNDRED * rest
        for owner, energy in zip(data.plant_owners, data.plant_incentivised_wh, strict=True):
            members[owner] += producers * energy / incentivised
        rest -= producers

    # 6. consumers
    weight = sum(data.consumer_weights.values(), Fraction(0))
    if rest > 0 and weight > 0:
        for mid, w in data.consumer_weights.items():
            members[mid] += rest * w / weight
    elif rest > 0:
        warnings.append(f"no consumer to share {eur(rest)} € with: it goes to the social fund")
        social += rest

    names = ["management", "social_fund", "investment_fund", *members]
    exact = [management, social, investment, *members.values()]
    assert sum(exact, Fraction(0)) == total, "distribution must share exactly the income"
    cents = largest_remainder(total_cents, exact) if total else [0] * len(exact)
    return Distribution(
        total_cents=total_cents,
        management_cents=cents[0],
        social_fund_cents=cents[1],
        investment_fund_cents=cents[2],
        member_cents=dict(zip(list(members), cents[3:], strict=True)),
        exact=dict(zip(names, exact, strict=True)),
        warnings=warnings,
    )
