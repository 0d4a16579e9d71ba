"""The monthly advance (acconto) the GSE pays before the yearly true-up (GSE-RULES §5).

::

    A_ACI,i = P_i[MW] × H_j × α × TIP_a / 12      TIP_a = (TP_base + Z + FC_zonale) × (1 − F)
    A_ACV,i = P_i[MW] × H_j × α × CU_Afa / 12     α = 0.60, Z = 20 €/MWh

Multiply first, divide by 12 last, round half-up to the cent (per plant as reported; a total is
the rounding of the exact sum).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import rules
from .community import Community, Plant
from .errors import InvalidInput
from .money import eur
from .period import Period, next_month

KW_PER_MW = 1000


@dataclass(frozen=True)
class PlantAdvance:
    """A plant's acconto for the month."""

    id: str
    tip: Fraction
    valorisation: Fraction
    hours: int
    tip_a_eur_mwh: Fraction

    def to_json_dict(self) -> dict[str, Any]:
        """``{"id", "tip_eur", "valorisation_eur"}`` (plus ``hours`` and ``tip_a_eur_mwh``)."""
        return {
            "id": self.id,
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "hours": self.hours,
            "tip_a_eur_mwh": f"{float(self.tip_a_eur_mwh):.4f}",
        }


@dataclass(frozen=True)
class MonthlyAdvance:
    """The acconto of a month: per plant and in total."""

    month: str
    plants: list[PlantAdvance]
    warnings: list[str] = field(default_factory=list)

    @property
    def tip(self) -> Fraction:
        """Exact A_ACI of the community."""
        return sum((p.tip for p in self.plants), Fraction(0))

    @property
    def valorisation(self) -> Fraction:
        """Exact A_ACV of the community."""
        return sum((p.valorisation for p in self.plants), Fraction(0))

    def to_json_dict(self) -> dict[str, Any]:
        """The ``acconto --json`` object of ``FORMATS.md`` (plus ``warnings``)."""
        return {
            "month": self.month,
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "plants": [p.to_json_dict() for p in self.plants],
            "warnings": list(self.warnings),
        }


def tip_advance_rate(community: Community, plant: Plant) -> Fraction:
    """TIP_a = (TP_base + Z + FC_zonale) × (1 − F), €/MWh."""
    base = plant.band.tp_base_eur_mwh + rules.ACCONTO_Z_EUR_MWH + community.fc_zonale(plant)
    return Fraction(base) * (1 - Fraction(plant.grant_factor))


def plant_advance(
    community: Community, plant: Plant, cu_afa_eur_mwh: Decimal, *, with_tip: bool = True
) -> PlantAdvance:
    """A_ACI and A_ACV of one plant for one month."""
    hours = rules.acconto_hours(plant.source, community.area)
    energy_mwh_year = Fraction(plant.power_kw) / KW_PER_MW * hours * Fraction(rules.ACCONTO_ALPHA)
    tip_a = tip_advance_rate(community, plant) if with_tip else Fraction(0)
    return PlantAdvance(
        id=plant.id,
        tip=energy_mwh_year * tip_a / 12,
        valorisation=energy_mwh_year * Fraction(cu_afa_eur_mwh) / 12,
        hours=hours,
        tip_a_eur_mwh=tip_a,
    )


def _paid(community: Community, plant: Plant, first: dt.date) -> tuple[bool, bool]:
    """(paid at all, with A_ACI) for ``plant`` in the month starting on ``first``.

    A plant is paid from the first month it is in service on the month's first day, while its
    owner is a member; A_ACI only for a TIP-eligible plant within its 20 years.
    """
    owner = community.member(plant.owner)
    if plant.commissioned > first or first < community.constituted:
        return False, False
    if not owner.is_member_on(first):
        return False, False
    with_tip = community.tip_eligible(plant) and first < plant.incentive_end
    return True, with_tip


def monthly_advance(community: Community, month: str | Period) -> MonthlyAdvance:
    """The acconto of ``month`` (``YYYY-MM``) for the plants in service on its first day.

    Pre-existing plants and plants beyond their 20 years get A_ACV only. A plant that comes
    into service during the month starts the next month (OPEN: the GSE's start rule), and a
    warning names it.
    """
    period = month if isinstance(month, Period) else Period.parse(month, community.timezone)
    if period.kind != "month":
        raise InvalidInput.single("month", f"{period} is not a month (YYYY-MM)")
    label = f"{period.first_day.year:04d}-{period.first_day.month:02d}"
    cu_afa = community.cu_afa_for_month(label)
    if cu_afa is None:
        raise InvalidInput.single(
            "community.cu_afa_eur_mwh", f"no CU_Afa (TRAS_E) for {label} or {label[:4]}"
        )
    first: dt.date = period.first_day
    warnings: list[str] = []
    plants: list[PlantAdvance] = []
    for plant in community.plants_first_in():
        if first < plant.commissioned < next_month(first):
            warnings.append(
                f"plant {plant.id} comes into service on {plant.commissioned}: its acconto "
                "starts next month"
            )
        paid, with_tip = _paid(community, plant, first)
        if paid:
            plants.append(plant_advance(community, plant, cu_afa, with_tip=with_tip))
    return MonthlyAdvance(label, plants, warnings)


def advances_of_months(community: Community, months: list[str]) -> tuple[Fraction, Fraction] | None:
    """Σ A_ACI and Σ A_ACV over ``months`` (``YYYY-MM``), exactly as :func:`monthly_advance`
    would pay them month by month; None when a month has no CU_Afa."""
    firsts: list[dt.date] = []
    rates: list[Decimal] = []
    for month in months:
        cu_afa = community.cu_afa_for_month(month)
        if cu_afa is None:
            return None
        firsts.append(dt.date(int(month[:4]), int(month[5:]), 1))
        rates.append(cu_afa)
    # plants alike (power, source, grant) are paid alike: sum their months, then price once
    groups: dict[tuple[Decimal, str, Decimal], tuple[int, Decimal, Plant]] = {}
    for plant in community.plants:
        tip_months = 0
        rate_sum = Decimal(0)
        for first, rate in zip(firsts, rates, strict=True):
            paid, with_tip = _paid(community, plant, first)
            if paid:
                rate_sum += rate
                tip_months += with_tip
        key = (plant.power_kw, plant.source, plant.capital_grant_pct)
        count, total, _ = groups.get(key, (0, Decimal(0), plant))
        groups[key] = (count + tip_months, total + rate_sum, plant)
    tip = valorisation = Fraction(0)
    for tip_months, rate_sum, plant in groups.values():
        hours = rules.acconto_hours(plant.source, community.area)
        energy = Fraction(plant.power_kw) / KW_PER_MW * hours * Fraction(rules.ACCONTO_ALPHA)
        tip += energy * tip_advance_rate(community, plant) * tip_months / 12
        valorisation += energy * Fraction(rate_sum) / 12
    return tip, valorisation
