"""The monthly advance (acconto) the GSE pays before the yearly true-up (GSE-RULES §5).

::

    A_ACI,i = P_i[MW] × H_j × α × TIP_a / 12      TIP_a = (TP_base + Z + FC_zonale) × (1 − F)
    A_ACV,i = P_i[MW] × H_j × α × CU_Afa / 12     α = 0.60, Z = 20 €/MWh

Multiply first, divide by 12 last, round half-up to the cent. The GSE pays each configuration
(cabina primaria), each month, one amount: the rounding of the exact sum over that
configuration's plants; plant lines are shown for information and need not add up to it. The
acconto of several months is the sum of the monthly amounts as paid (GSE-RULES §5).
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
from .money import eur, to_cents
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


ROUNDING_NOTE = (
    "each configuration's amount is the rounding half-up to the cent of the exact sum over "
    "its plants (GSE-RULES §5); plant lines are for information and need not add up to it; "
    "the community's total is the sum of its configurations' amounts"
)


@dataclass(frozen=True)
class ConfigurationAdvance:
    """The acconto the GSE pays one configuration (cabina primaria) for a month."""

    cabina_primaria: str
    plants: list[PlantAdvance]

    @property
    def tip(self) -> Fraction:
        """Exact Σ A_ACI over the configuration's plants."""
        return sum((p.tip for p in self.plants), Fraction(0))

    @property
    def valorisation(self) -> Fraction:
        """Exact Σ A_ACV over the configuration's plants."""
        return sum((p.valorisation for p in self.plants), Fraction(0))

    @property
    def tip_cents(self) -> int:
        """A_ACI as paid: the rounding of the exact sum."""
        return to_cents(self.tip)

    @property
    def valorisation_cents(self) -> int:
        """A_ACV as paid: the rounding of the exact sum."""
        return to_cents(self.valorisation)

    def to_json_dict(self) -> dict[str, Any]:
        """``{"cabina_primaria", "plants", "tip_eur", "valorisation_eur"}``."""
        return {
            "cabina_primaria": self.cabina_primaria,
            "plants": [p.id for p in self.plants],
            "tip_eur": eur(Fraction(self.tip_cents, 100)),
            "valorisation_eur": eur(Fraction(self.valorisation_cents, 100)),
        }


@dataclass(frozen=True)
class MonthlyAdvance:
    """The acconto of a month: per plant, per configuration and in total."""

    month: str
    plants: list[PlantAdvance]
    warnings: list[str] = field(default_factory=list)
    configurations: list[ConfigurationAdvance] = field(default_factory=list)

    @property
    def tip(self) -> Fraction:
        """Exact A_ACI of the community (Σ over plants, before any rounding)."""
        return sum((p.tip for p in self.plants), Fraction(0))

    @property
    def valorisation(self) -> Fraction:
        """Exact A_ACV of the community (Σ over plants, before any rounding)."""
        return sum((p.valorisation for p in self.plants), Fraction(0))

    @property
    def tip_cents(self) -> int:
        """A_ACI as paid: Σ of the configurations' rounded amounts."""
        return sum(c.tip_cents for c in self.configurations)

    @property
    def valorisation_cents(self) -> int:
        """A_ACV as paid: Σ of the configurations' rounded amounts."""
        return sum(c.valorisation_cents for c in self.configurations)

    def to_json_dict(self) -> dict[str, Any]:
        """The ``acconto --json`` object of ``FORMATS.md`` (plus ``configurations``,
        ``rounding`` and ``warnings``)."""
        return {
            "month": self.month,
            "tip_eur": eur(Fraction(self.tip_cents, 100)),
            "valorisation_eur": eur(Fraction(self.valorisation_cents, 100)),
            "plants": [p.to_json_dict() for p in self.plants],
            "configurations": [c.to_json_dict() for c in self.configurations],
            "rounding": ROUNDING_NOTE,
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
    by_cabina: dict[str, list[PlantAdvance]] = {c: [] for c in community.configurations}
    for plant in community.plants_first_in():
        if first < plant.commissioned < next_month(first):
            warnings.append(
                f"plant {plant.id} comes into service on {plant.commissioned}: its acconto "
                "starts next month"
            )
        paid, with_tip = _paid(community, plant, first)
        if paid:
            line = plant_advance(community, plant, cu_afa, with_tip=with_tip)
            plants.append(line)
            by_cabina[community.cabina_of(plant.pod)].append(line)
    configurations = [ConfigurationAdvance(c, lines) for c, lines in by_cabina.items() if lines]
    return MonthlyAdvance(label, plants, warnings, configurations)


def advances_of_months(
    community: Community, months: list[str]
) -> dict[str, tuple[int, int]] | None:
    """The acconto paid over ``months`` (``YYYY-MM``) per configuration, in cents (A_ACI,
    A_ACV): the sum of the monthly amounts as :func:`monthly_advance` pays them, each the
    rounding of a month's exact sum over the configuration's plants (GSE-RULES §5). None
    when a month has no CU_Afa."""
    firsts: list[dt.date] = []
    rates: list[Fraction] = []
    for month in months:
        cu_afa = community.cu_afa_for_month(month)
        if cu_afa is None:
            return None
        firsts.append(dt.date(int(month[:4]), int(month[5:]), 1))
        rates.append(Fraction(cu_afa))
    # plants alike (power, source, grant) are paid alike: count them, then price each kind once
    paid = dict.fromkeys(community.configurations, (0, 0))
    kinds: dict[tuple[Decimal, str, Decimal], tuple[Fraction, Fraction]] = {}
    for plant in community.plants:
        key = (plant.power_kw, plant.source, plant.capital_grant_pct)
        if key not in kinds:
            energy = _yearly_mwh(community, plant)
            kinds[key] = (energy, energy * tip_advance_rate(community, plant))
    for first, rate in zip(firsts, rates, strict=True):
        counts: dict[str, dict[tuple[Decimal, str, Decimal], list[int]]] = {}
        for plant in community.plants:
            is_paid, with_tip = _paid(community, plant, first)
            if is_paid:
                key = (plant.power_kw, plant.source, plant.capital_grant_pct)
                count = counts.setdefault(community.cabina_of(plant.pod), {}).setdefault(
                    key, [0, 0]
                )
                count[0] += 1
                count[1] += with_tip
        for cabina, by_kind in counts.items():
            energy = sum((kinds[key][0] * n for key, (n, _) in by_kind.items()), Fraction(0))
            tip = sum((kinds[key][1] * n for key, (_, n) in by_kind.items()), Fraction(0))
            tip_cents, val_cents = paid[cabina]
            paid[cabina] = (
                tip_cents + to_cents(tip / 12),
                val_cents + to_cents(energy * rate / 12),
            )
    return paid


def _yearly_mwh(community: Community, plant: Plant) -> Fraction:
    """P[MW] × H_j × α: the yearly energy the acconto assumes for a plant (GSE-RULES §5)."""
    hours = rules.acconto_hours(plant.source, community.area)
    return Fraction(plant.power_kw) / KW_PER_MW * hours * Fraction(rules.ACCONTO_ALPHA)
