"""Feasibility projection over N years, for a town council (``project`` study).

Year n scales each plant's year-1 energies by (1 − degradation)^(n−1), unrounded, summed over
plants. Money is computed on the unrounded energies: TIP at the constant zonal price, the
valorisation (CU_Afa) on shared energy, RID on injected energy, bill savings on
behind-the-meter self-consumption; ``present_value`` discounts year n's community income
(TIP + valorisation) by (1 + rate)^(n−1). Energies are reported rounded half-up to the kWh,
money to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import rules
from .community import _Reader
from .errors import InvalidInput
from .money import eur
from .tariff import tip_eur_mwh

KWH_PER_MWH = 1000


@dataclass(frozen=True)
class StudyPlant:
    """A plant of the study, with its year-1 energies."""

    id: str
    power_kw: Decimal
    produced_kwh: Decimal
    self_consumed_kwh: Decimal
    shared_fraction: Decimal
    source: str = "pv"
    capital_grant_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class Study:
    """The ``project`` study file."""

    years: int
    first_year: int
    degradation_pct: Decimal
    discount_rate_pct: Decimal
    zonal_price_eur_mwh: Decimal
    energy_price_eur_kwh: Decimal
    cu_afa_eur_mwh: Decimal
    region: rules.Region
    plants: tuple[StudyPlant, ...]


def parse_study(data: Mapping[str, Any]) -> Study:
    """Validate a study file (``FORMATS.md``); InvalidInput lists every problem with its path."""
    reader = _Reader()
    top = reader.mapping(data, "", required=("study", "plants"))
    if top is None:
        raise InvalidInput(reader.problems)
    head = reader.mapping(
        top.get("study"),
        "study",
        required=(
            "years",
            "first_year",
            "degradation_pct",
            "discount_rate_pct",
            "zonal_price_eur_mwh",
            "energy_price_eur_kwh",
            "cu_afa_eur_mwh",
            "region",
        ),
    )
    values: dict[str, Any] = {}
    region = None
    if head is not None:
        for key, low, high in (
            ("years", Decimal(1), Decimal(60)),
            ("first_year", Decimal(2000), Decimal(2200)),
            ("degradation_pct", Decimal(0), Decimal(100)),
            ("discount_rate_pct", Decimal(-99), Decimal(1000)),
            ("zonal_price_eur_mwh", Decimal(-10_000), Decimal(100_000)),
            ("energy_price_eur_kwh", Decimal(0), Decimal(100)),
            ("cu_afa_eur_mwh", Decimal(0), Decimal(10_000)),
        ):
            if key not in head:
                continue
            values[key] = reader.number(head[key], f"study.{key}", low, maximum=high)
        for key in ("years", "first_year"):
            if values.get(key) is not None and values[key] != int(values[key]):
                reader.problem(f"study.{key}", "must be a whole number")
        name = reader.field(head, "study", "region", reader.text)
        if name is not None:
            region = rules.find_region(name)
            if region is None:
                reader.problem("study.region", f"unknown Italian region {name!r}")
    plants: list[StudyPlant] = []
    raw = top.get("plants")
    if "plants" in top and (not isinstance(raw, list) or not raw):
        reader.problem("plants", "must be a non-empty list")
        raw = []
    for i, item in enumerate(raw or []):
        path = f"plants[{i}]"
        before = len(reader.problems)
        plant = reader.mapping(
            item,
            path,
            ("id", "power_kw", "produced_kwh", "self_consumed_kwh", "shared_fraction"),
            ("source", "capital_grant_pct"),
        )
        if plant is None:
            continue
        pid = reader.field(plant, path, "id", reader.text)
        power = reader.field(
            plant,
            path,
            "power_kw",
            lambda v, p: reader.number(
                v, p, Decimal(0), maximum=rules.MAX_PLANT_POWER_KW, exclusive_minimum=True
            ),
        )
        produced = reader.field(
            plant, path, "produced_kwh", lambda v, p: reader.number(v, p, Decimal(0))
        )
        self_consumed = reader.field(
            plant, path, "self_consumed_kwh", lambda v, p: reader.number(v, p, Decimal(0))
        )
        fraction = reader.field(
            plant,
            path,
            "shared_fraction",
            lambda v, p: reader.number(v, p, Decimal(0), maximum=Decimal(1)),
        )
        source = reader.field(
            plant, path, "source", lambda v, p: reader.choice(v, p, rules.SOURCES), "pv"
        )
        grant = reader.field(
            plant,
            path,
            "capital_grant_pct",
            lambda v, p: reader.number(v, p, Decimal(0), maximum=rules.MAX_CAPITAL_GRANT_PCT),
            Decimal(0),
        )
        if produced is not None and self_consumed is not None and self_consumed > produced:
            reader.problem(f"{path}.self_consumed_kwh", "must be ≤ produced_kwh")
        if len(reader.problems) > before:
            continue
        assert pid and power is not None and produced is not None and source
        assert self_consumed is not None and fraction is not None and grant is not None
        plants.append(StudyPlant(pid, power, produced, self_consumed, fraction, source, grant))
    if reader.problems:
        raise InvalidInput(reader.problems)
    assert region is not None
    return Study(
        years=int(values["years"]),
        first_year=int(values["first_year"]),
        degradation_pct=values["degradation_pct"],
        discount_rate_pct=values["discount_rate_pct"],
        zonal_price_eur_mwh=values["zonal_price_eur_mwh"],
        energy_price_eur_kwh=values["energy_price_eur_kwh"],
        cu_afa_eur_mwh=values["cu_afa_eur_mwh"],
        region=region,
        plants=tuple(plants),
    )


@dataclass(frozen=True)
class ProjectionYear:
    """One year of the projection, exact."""

    year: int
    produced_kwh: Fraction
    injected_kwh: Fraction
    shared_kwh: Fraction
    tip: Fraction
    valorisation: Fraction
    rid: Fraction
    savings: Fraction
    present_value: Fraction

    def to_json_dict(self) -> dict[str, Any]:
        """An entry of ``years`` in ``project --json``."""
        return {
            "year": self.year,
            "produced_kwh": _kwh(self.produced_kwh),
            "injected_kwh": _kwh(self.injected_kwh),
            "shared_kwh": _kwh(self.shared_kwh),
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "rid_eur": eur(self.rid),
            "savings_eur": eur(self.savings),
            "present_value_eur": eur(self.present_value),
        }


def _kwh(value: Fraction) -> int:
    """Half-up to the kWh (energies are ≥ 0)."""
    return int((value * 2 + 1) // 2)


@dataclass(frozen=True)
class Projection:
    """The projection: one entry per year and the totals."""

    years: list[ProjectionYear]

    def to_json_dict(self) -> dict[str, Any]:
        """``{"years": [...], "totals": {...}}`` of ``project --json``."""

        def total(name: str) -> Fraction:
            return sum((getattr(y, name) for y in self.years), Fraction(0))

        return {
            "years": [y.to_json_dict() for y in self.years],
            "totals": {
                "produced_kwh": _kwh(total("produced_kwh")),
                "injected_kwh": _kwh(total("injected_kwh")),
                "shared_kwh": _kwh(total("shared_kwh")),
                "tip_eur": eur(total("tip")),
                "valorisation_eur": eur(total("valorisation")),
                "rid_eur": eur(total("rid")),
                "savings_eur": eur(total("savings")),
                "present_value_eur": eur(total("present_value")),
            },
        }


def project(study: Study, years: int | None = None) -> Projection:
    """Project ``years`` (default: the study's) of energies and money."""
    count = study.years if years is None else years
    keep = 1 - Fraction(study.degradation_pct) / 100
    discount = 1 + Fraction(study.discount_rate_pct) / 100
    pz = Fraction(study.zonal_price_eur_mwh)
    out: list[ProjectionYear] = []
    for n in range(1, count + 1):
        scale = keep ** (n - 1)
        produced = injected = shared = Fraction(0)
        tip = savings = Fraction(0)
        for plant in study.plants:
            p_produced = Fraction(plant.produced_kwh) * scale
            p_self = Fraction(plant.self_consumed_kwh) * scale
            p_injected = p_produced - p_self
            p_shared = p_injected * Fraction(plant.shared_fraction)
            produced += p_produced
            injected += p_injected
            shared += p_shared
            savings += p_self * Fraction(study.energy_price_eur_kwh)
            if n <= rules.INCENTIVE_YEARS:
                rate = tip_eur_mwh(
                    plant.power_kw,
                    study.zonal_price_eur_mwh,
                    study.region.area,
                    plant.source,
                    plant.capital_grant_pct,
                )
                tip += p_shared * rate / KWH_PER_MWH
        valorisation = shared * Fraction(study.cu_afa_eur_mwh) / KWH_PER_MWH
        rid = injected * pz / KWH_PER_MWH
        out.append(
            ProjectionYear(
                year=study.first_year + n - 1,
                produced_kwh=produced,
                injected_kwh=injected,
                shared_kwh=shared,
                tip=tip,
                valorisation=valorisation,
                rid=rid,
                savings=savings,
                present_value=(tip + valorisation) / discount ** (n - 1),
            )
        )
    return Projection(out)
