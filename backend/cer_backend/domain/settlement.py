"""Settlement of a period: the GSE rules hour by hour, and the statute's distribution.

``settle`` computes, for each configuration (cabina primaria, GSE-RULES §1) from its own
points only, and for each local hour of the period (GSE-RULES §1–§6):

- ``E_imm,h`` injected by the configuration's plants, ``E_prel,h`` withdrawn by its members'
  points, the shared energy ``E_cond,h = min(E_imm,h, E_prel,h)``, which under one cabina
  primaria is also the self-consumed energy ``E_ACV,h`` (energia autoconsumata virtualmente);
- the "first in" allocation of the shared energy among plants (commissioning order);
- the incentivised energy ``E_ACI,h`` (energia autoconsumata incentivata) of the plants
  entitled to the TIP (tariffa incentivante premio) within their 20 years, and the TIP per
  plant and hour with its band, CAP, FC_zonale and the capital-grant reduction F and its
  exemption (the exempt energy to the capital-grant plants first);
- per month the valorisation ``C_ACV`` (contributo di valorizzazione, CU_Afa = TRAS_E of the
  month), per year (or estimated on a shorter period) the surplus earmark ``C_ecc``, the RID
  (ritiro dedicato) value of injected energy, and the GSE fees.

Money is rounded per configuration, the community's figures are the sums of its
configurations', and the money of all of them (TIP + valorisation) is shared by the statute
(:mod:`.distribution`). Each rule is one function below, named and citing its section;
``settle`` calls them in order.

Energy is integer Wh in numpy ``int64`` arrays (PODs × hours); money is exact
(:class:`fractions.Fraction`, euros) and rounded half-up to the cent only when reported.
Prices are integer micro-€/MWh, so a price × energy product is an integer in 1e-12 €.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from . import rules
from .advance import advances_of_months, monthly_advance
from .community import Community, Member, Plant
from .distribution import Distribution, DistributionInput, distribute
from .energy import HourlyEnergy
from .errors import InvalidInput
from .money import eur, to_cents
from .period import Period, next_month
from .prices import HourlyPrices
from .surplus import excess_share, surplus_earmark
from .tariff import tip_before_f_micro

__all__ = [
    "ConfigurationSettlement",
    "HourlyDetail",
    "MemberSettlement",
    "MissingReadings",
    "MonthSettlement",
    "PlantSettlement",
    "SettlementOptions",
    "SettlementResult",
    "monthly_advance",
    "settle",
]

I64 = npt.NDArray[np.int64]
FExemption = Literal["withdrawal_share", "none"]
PICO_EUR: Final = 10**12  # micro-€/MWh × Wh = 1e-12 €
WH_PER_MWH: Final = 10**6
_INT64_SAFE: Final = 2**62
_CHUNK_ROWS: Final = 256
_GEMV_ROWS: Final = 32
_PASS_ROWS: Final = 8
_RATIO_BITS: Final = 24


@dataclass(frozen=True)
class SettlementOptions:
    """Settings for the rules GSE-RULES.md marks OPEN.

    ``f_exemption``: how the incentivised energy exempt from F is measured; default
    ``withdrawal_share``, pro-rata to the exempt members' share of the hour's withdrawals
    (rounded half-up to the Wh per plant and hour); ``none`` applies F to everything.
    """

    f_exemption: FExemption = "withdrawal_share"

    def assumptions(
        self, quarter_hours: str = "mean", community: Community | None = None
    ) -> list[str]:
        """The OPEN rules and the choice made, for the report."""
        quarters = (
            "hourly Pz is the mean of the four quarter-hours"
            if quarter_hours == "mean"
            else "refused"
        )
        persons_from = (
            community.settings.f_exemption_persons_from
            if community is not None
            else rules.F_EXEMPTION_PERSONS_FROM
        )
        first, last = rules.BUILT_FOR_CER_WINDOW
        return [
            "first-in tie-break on equal commissioning dates: plant id (OPEN)",
            f"F exemption split: {self.f_exemption} (OPEN; default pro-rata to the exempt "
            "members' share of the hour's withdrawals, rounded to the Wh)",
            "the exempt energy of an hour goes first to the capital-grant plants, first in "
            "among them, then to the others (Regole Operative §2.2.2.1.2)",
            f"natural persons' withdrawals are exempt from F from {persons_from.isoformat()} "
            "(settings.f_exemption_persons_from; OPEN, DM 127/2025)",
            "a plant commissioned before the constitution earns the valorisation only, unless "
            f"commissioned {first.isoformat()}–{last.isoformat()} with built_for_cer, which "
            "gives it the TIP (OPEN: the GSE may refuse the plant)",
            "configurations: one per cabina primaria, settled each on its own; money rounded "
            "per configuration and the community's totals are the sums",
            "acconto of several months: the sum of the monthly amounts as paid, each the "
            "rounding of the exact sum over one configuration's plants",
            "CU_Afa (TRAS_E) from the community file, month beats year (2025 onward OPEN)",
            f"15-minute prices: {quarters} (OPEN)",
            "members' coincident withdrawal: each hour's shared energy pro-rata to the "
            "members' withdrawals, rounded to the Wh by largest remainder over the period "
            "(per configuration)",
        ]


@dataclass(frozen=True)
class PlantSettlement:
    """A plant's figures for the period."""

    id: str
    owner: str
    power_kw: str
    band: int
    tip_eligible: bool
    injected_wh: int
    allocated_wh: int
    incentivised_wh: int
    tip: Fraction
    valorisation: Fraction
    rid: Fraction
    gse_fee: Fraction
    cabina_primaria: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        """The ``plants[]`` entry of ``settle --json`` (with extra keys)."""
        return {
            "id": self.id,
            "cabina_primaria": self.cabina_primaria,
            "allocated_wh": self.allocated_wh,
            "incentivised_wh": self.incentivised_wh,
            "tip_eur": eur(self.tip),
            "owner": self.owner,
            "power_kw": self.power_kw,
            "band": self.band,
            "tip_eligible": self.tip_eligible,
            "injected_wh": self.injected_wh,
            "valorisation_eur": eur(self.valorisation),
            "rid_eur": eur(self.rid),
            "gse_fee_eur": eur(self.gse_fee),
        }


@dataclass(frozen=True)
class MemberSettlement:
    """A member's figures for the period."""

    id: str
    name: str
    type: str
    membership_days: int
    withdrawn_wh: int
    shared_wh: int
    amount_cents: int
    parts_cents: dict[str, int] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        """The ``members[]`` entry of ``settle --json`` (with extra keys).

        ``parts`` splits ``amount_eur`` by origin (valorisation of its plants, surplus
        earmark, producers' quota, consumers' quota); the parts add up to the amount.
        """
        return {
            "id": self.id,
            "shared_wh": self.shared_wh,
            "amount_eur": eur(Fraction(self.amount_cents, 100)),
            "withdrawn_wh": self.withdrawn_wh,
            "membership_days": self.membership_days,
            "parts": {
                f"{part}_eur": eur(Fraction(cents, 100)) for part, cents in self.parts_cents.items()
            },
        }


@dataclass(frozen=True)
class MonthSettlement:
    """Figures of one month of the period."""

    month: str
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    incentivised_wh: int
    tip: Fraction
    valorisation: Fraction
    cu_afa_eur_mwh: str | None

    def to_json_dict(self) -> dict[str, Any]:
        """An entry of ``months``."""
        return {
            "month": self.month,
            "injected_wh": self.injected_wh,
            "withdrawn_wh": self.withdrawn_wh,
            "shared_wh": self.shared_wh,
            "incentivised_wh": self.incentivised_wh,
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "cu_afa_eur_mwh": self.cu_afa_eur_mwh,
        }


@dataclass(frozen=True)
class ConfigurationSettlement:
    """One configuration (cabina primaria, GSE-RULES §1): its own GSE contract, its figures
    computed from its own points, its money rounded on its own."""

    cabina_primaria: str
    plants: list[str]
    points: int  # consumption points (PODs of members) under the cabina
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    incentivised_wh: int
    tip: Fraction
    valorisation: Fraction
    surplus_earmarked: Fraction
    rid: Fraction
    gse_fees: Fraction
    surplus_sets: list[dict[str, Any]] = field(default_factory=list)
    advance: dict[str, Any] = field(default_factory=dict)  # filled for whole months

    @property
    def tip_cents(self) -> int:
        """C_ACI as the GSE pays it: rounded half-up to the cent."""
        return to_cents(self.tip)

    @property
    def valorisation_cents(self) -> int:
        """C_ACV rounded half-up to the cent."""
        return to_cents(self.valorisation)

    def to_json_dict(self) -> dict[str, Any]:
        """An entry of ``configurations`` (``settle --json``)."""
        return {
            "cabina_primaria": self.cabina_primaria,
            "plants": list(self.plants),
            "points": self.points,
            "injected_wh": self.injected_wh,
            "withdrawn_wh": self.withdrawn_wh,
            "shared_wh": self.shared_wh,
            "incentivised_wh": self.incentivised_wh,
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "surplus_earmarked_eur": eur(self.surplus_earmarked),
            "rid_eur": eur(self.rid),
            "gse_fees_eur": eur(self.gse_fees),
            "surplus": list(self.surplus_sets),
            "acconto": dict(self.advance) or None,
        }


#: the money figures of a configuration that the community reports as sums of the
#: configurations' rounded amounts (GSE-RULES §1)
CONFIGURATION_MONEY = ("tip", "valorisation", "surplus_earmarked", "rid", "gse_fees")


@dataclass(frozen=True, eq=False)
class HourlyDetail:
    """Per-hour community figures (arrays of ``period.hours``)."""

    injected_wh: I64
    withdrawn_wh: I64
    shared_wh: I64
    incentivised_wh: I64
    price_micro_eur_mwh: I64
    price_present: npt.NDArray[np.bool_]
    complete: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MissingReadings:
    """Readings absent from the input, within each POD's membership."""

    pod_hours: dict[str, list[int]] = field(default_factory=dict)
    incomplete_hours: int = 0

    def to_json_dict(self, period: Period) -> dict[str, Any]:
        """``{"incomplete_hours", "pod_hours", "pods": [{"pod", "hours", "first", "last"}]}``."""
        return {
            "incomplete_hours": self.incomplete_hours,
            "pod_hours": sum(len(h) for h in self.pod_hours.values()),
            "pods": [
                {
                    "pod": pod,
                    "hours": len(hours),
                    "first": period.hour_start(hours[0]).isoformat(),
                    "last": period.hour_start(hours[-1]).isoformat(),
                }
                for pod, hours in sorted(self.pod_hours.items())
            ],
        }


@dataclass(frozen=True, eq=False)
class SettlementResult:
    """What ``settle`` computed for a period."""

    period: Period
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    incentivised_wh: int
    tip: Fraction
    valorisation: Fraction
    surplus_earmarked: Fraction
    rid: Fraction
    gse_fees: Fraction
    plants: list[PlantSettlement]
    members: list[MemberSettlement]
    months: list[MonthSettlement]
    distribution: Distribution
    surplus_sets: list[dict[str, Any]]
    advance: dict[str, Any] | None
    missing: MissingReadings
    hourly: HourlyDetail
    warnings: list[str]
    errors: list[str]
    assumptions: list[str]
    configurations: list[ConfigurationSettlement] = field(default_factory=list)
    #: each consumption POD's coincident withdrawal (its part of the shared energy on the
    #: withdrawal side, :func:`coincident_withdrawal_shares`); not in ``settle --json``
    pod_coincident_wh: dict[str, int] = field(default_factory=dict)

    @property
    def hours(self) -> int:
        """Calendar hours of the period."""
        return self.period.hours

    def reported_cents(self, name: str) -> int:
        """A money figure of the community as reported: the sum of its configurations'
        rounded amounts (GSE-RULES §1). ``name`` is one of ``CONFIGURATION_MONEY``."""
        if not self.configurations:
            return to_cents(getattr(self, name))
        return sum(to_cents(getattr(c, name)) for c in self.configurations)

    def to_json_dict(self) -> dict[str, Any]:
        """The ``settle --json`` object of ``FORMATS.md`` (plus extra keys)."""
        reported = {
            f"{name}_eur": eur(Fraction(self.reported_cents(name), 100))
            for name in CONFIGURATION_MONEY
        }
        return {
            "period": str(self.period),
            "hours": self.hours,
            "injected_wh": self.injected_wh,
            "withdrawn_wh": self.withdrawn_wh,
            "shared_wh": self.shared_wh,
            "incentivised_wh": self.incentivised_wh,
            **reported,
            "configurations": [c.to_json_dict() for c in self.configurations],
            "plants": [p.to_json_dict() for p in self.plants],
            "members": [m.to_json_dict() for m in self.members],
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "management_eur": eur(Fraction(self.distribution.management_cents, 100)),
            "funds": {
                "social_eur": eur(Fraction(self.distribution.social_fund_cents, 100)),
                "investment_eur": eur(Fraction(self.distribution.investment_fund_cents, 100)),
            },
            "surplus": self.surplus_sets,
            "acconto": self.advance,
            "months": [m.to_json_dict() for m in self.months],
            "missing": self.missing.to_json_dict(self.period),
            "assumptions": list(self.assumptions),
        }


# ---------------------------------------------------------------------------------------
# helpers


def _window(period: Period, first: dt.date | None, end: dt.date | None) -> tuple[int, int]:
    """Hour indices [a, b) of the local days ``first`` … ``end`` (exclusive) in ``period``."""
    a = 0 if first is None else period.hour_index(first)
    b = period.hours if end is None else period.hour_index(end)
    return a, max(a, b)


def _latest(*days: dt.date | None) -> dt.date | None:
    present = [d for d in days if d is not None]
    return max(present) if present else None


class _RowSums:
    """Sums of a PODs × hours matrix: per hour over sets of rows, and per row.

    One pass over the matrix, in chunks of rows that stay in cache, gives both the column
    total and every row's total; a set of rows is then the total minus the complement when
    that is cheaper.
    """

    def __init__(self, matrix: I64) -> None:
        self.matrix = matrix
        self._everything: I64 | None = None
        self._per_row: I64 | None = None

    def _pass(self) -> None:
        n, hours = self.matrix.shape
        everything = np.zeros(hours, dtype=np.int64)
        per_row = np.zeros(n, dtype=np.int64)
        for c in range(0, n, _PASS_ROWS):
            chunk = self.matrix[c : c + _PASS_ROWS]
            everything += chunk.sum(axis=0, dtype=np.int64)
            per_row[c : c + chunk.shape[0]] = chunk.sum(axis=1, dtype=np.int64)
        self._everything, self._per_row = everything, per_row

    def everything(self) -> I64:
        """Σ over all rows, per hour."""
        if self._everything is None:
            self._pass()
        assert self._everything is not None
        return self._everything

    def per_row(self) -> I64:
        """Σ over all hours, per row."""
        if self._per_row is None:
            self._pass()
        assert self._per_row is not None
        return self._per_row

    def rows(self, rows: list[int]) -> I64:
        """Σ over ``rows`` (distinct): the total minus the complement when that is cheaper."""
        n = self.matrix.shape[0]
        if len(rows) == n:
            return self.everything().copy()
        if len(rows) > n // 2:
            chosen = set(rows)
            return self.everything() - self._gather([r for r in range(n) if r not in chosen])
        return self._gather(rows)

    def _gather(self, rows: list[int]) -> I64:
        total = np.zeros(self.matrix.shape[1], dtype=np.int64)
        ordered = sorted(rows)
        for i in range(0, len(ordered), _CHUNK_ROWS):
            chunk = self.matrix[np.array(ordered[i : i + _CHUNK_ROWS], dtype=np.intp)]
            total += chunk.sum(axis=0, dtype=np.int64)
        return total


def _monthly_dot(a: I64, b: I64, starts: I64) -> list[list[int]]:
    """Σ_h a[k,h] × b[k,h] per row k and month (``starts``), exact (Python ints)."""
    if a.size == 0:
        return [[0] * len(starts) for _ in range(a.shape[0])]
    longest = int(np.diff([*starts.tolist(), a.shape[1]]).max())
    bound = int(np.abs(a).max()) * int(np.abs(b).max()) * longest
    if bound < _INT64_SAFE:
        product = a * b
        return np.add.reduceat(product, starts, axis=1).tolist()  # type: ignore[no-any-return]
    product_obj = a.astype(object) * b.astype(object)
    return np.add.reduceat(product_obj, starts, axis=1).tolist()  # type: ignore[no-any-return]


def _mul_div_half_up(a: I64, b: I64, c: I64) -> I64:
    """round_half_up(a × b / c) elementwise (broadcasting) for a, b ≥ 0 and c > 0, exact."""
    bound = int(a.max(initial=0)) * int(b.max(initial=0)) * 2 + int(c.max(initial=0))
    if bound < _INT64_SAFE:
        exact: I64 = (2 * a * b + c) // (2 * c)
        return exact
    out = (2 * a.astype(object) * b.astype(object) + c.astype(object)) // (2 * c.astype(object))
    result: I64 = out.astype(np.int64)
    return result


def _row_dot(matrix: I64, rows: list[int], vector: I64) -> I64:
    """``matrix[rows] @ vector``, exact int64 (all rows at once when ``rows`` is all)."""
    if len(rows) == matrix.shape[0]:
        whole: I64 = matrix @ vector
        return whole
    out = np.zeros(len(rows), dtype=np.int64)
    ordered = np.array(rows, dtype=np.intp)
    for i in range(0, len(rows), _GEMV_ROWS):
        out[i : i + _GEMV_ROWS] = matrix[ordered[i : i + _GEMV_ROWS]] @ vector
    return out


def hour_ranges(period: Period, hours: Iterable[int], limit: int = 8) -> str:
    """Local hour ranges such as ``2025-06-01T10:00+02:00…12:00+02:00``, at most ``limit``."""
    spans: list[tuple[int, int]] = []
    for h in sorted(hours):
        if spans and h == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], h)
        else:
            spans.append((h, h))
    text = []
    for first, last in spans[:limit]:
        a = period.hour_start(first).isoformat(timespec="minutes")
        if first == last:
            text.append(a)
        else:
            text.append(f"{a}…{period.hour_start(last).isoformat(timespec='minutes')}")
    more = f" and {len(spans) - limit} more ranges" if len(spans) > limit else ""
    return ", ".join(text) + more


@dataclass(frozen=True)
class _Point:
    """A consumption point of a member, with its row, membership window and configuration."""

    row: int
    member: int
    start: int
    end: int
    config: int = 0


def _withdrawal(sums: _RowSums, points: list[_Point], hours: int) -> I64:
    """Σ withdrawals of ``points`` per hour, each within its membership window."""
    full = sorted({p.row for p in points if p.start == 0 and p.end == hours})
    total = sums.rows(full)
    for p in points:
        if not (p.start == 0 and p.end == hours):
            total[p.start : p.end] += sums.matrix[p.row, p.start : p.end]
    return total


def _round_scaled_to_total(numerators: list[int], bits: int, total: int) -> list[int]:
    """Whole numbers near ``numerators / 2**bits`` adding up to ``total`` (largest remainder)."""
    mask = (1 << bits) - 1
    floors = [n >> bits for n in numerators]
    left = total - sum(floors)
    if left > 0 and numerators:
        order = sorted(range(len(numerators)), key=lambda i: (-(numerators[i] & mask), i))
        while left > 0:
            for i in order[:left]:
                floors[i] += 1
            left -= min(left, len(order))
    elif left < 0:  # the rounded ratios may add a hair above the exact total
        order = sorted(range(len(numerators)), key=lambda i: (numerators[i] & mask, i))
        for i in order:
            if left == 0:
                break
            if floors[i] > 0:
                floors[i] -= 1
                left += 1
    return floors


# ---------------------------------------------------------------------------------------
# The rules, one function each (GSE-RULES.md sections in the docstrings)


def membership_points(
    community: Community, period: Period, row_of: dict[str, int]
) -> tuple[list[_Point], dict[str, list[int]], dict[tuple[dt.date, dt.date | None], int]]:
    """The members' consumption points, each counted only while its member belongs to the
    community (GSE-RULES §8; from the constitution on) and tagged with its configuration
    (the POD's cabina primaria, §1).

    Returns the points, the PODs without any reading (all their member hours missing, §1:
    missing is never zero) and the days of membership of each (joined, left) span.
    """
    config_of = {cabina: c for c, cabina in enumerate(community.configurations)}
    spans = {(max(m.joined, community.constituted), m.left) for m in community.members}
    window_of = {span: _window(period, *span) for span in spans}
    days_of = {span: period.days_between(*span) for span in spans}
    points: list[_Point] = []
    missing: dict[str, list[int]] = {}
    for mi, member in enumerate(community.members):
        a, b = window_of[(max(member.joined, community.constituted), member.left)]
        for pod in member.pods:
            row = row_of.get(pod)
            if row is None:
                if b > a:
                    missing[pod] = list(range(a, b))
            elif b > a:
                points.append(_Point(row, mi, a, b, config_of[community.cabina_of(pod)]))
    return points, missing, days_of


def plant_windows(
    community: Community, plants: list[Plant], period: Period
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Hours [a, b) in which each plant counts, and in which it may earn the TIP.

    A plant counts from its commissioning, the constitution and its owner's joining, until
    its owner leaves (GSE-RULES §2: a plant earns nothing before its commissioning date). It
    earns the TIP only when :meth:`Community.tip_eligible` (§2: new, in service after the
    constitution or built for the CER, no other incentive) and within its 20 years.
    """
    windows: list[tuple[int, int]] = []
    tip_windows: list[tuple[int, int]] = []
    for plant in plants:
        owner = community.member(plant.owner)
        a, b = _window(
            period, _latest(plant.commissioned, community.constituted, owner.joined), owner.left
        )
        windows.append((a, b))
        if community.tip_eligible(plant):
            end = _window(period, None, plant.incentive_end)[1]
            tip_windows.append((a, max(a, min(b, end))))
        else:
            tip_windows.append((a, a))
    return windows, tip_windows


def shared_energy(injected_h: I64, withdrawn_h: I64) -> I64:
    """``E_cond,h = min(E_imm,h, E_prel,h)``, per configuration; under one cabina primaria
    it is also the self-consumed energy ``E_ACV,h`` (GSE-RULES §1)."""
    shared: I64 = np.minimum(injected_h, withdrawn_h)
    return shared


def first_in_allocation(plant_injected: I64, shared_h: I64) -> I64:
    """Split of each hour's shared energy among the configuration's plants, "first in"
    (GSE-RULES §1): rows in commissioning order, each takes ``min(remaining, injection)``."""
    allocated = np.zeros_like(plant_injected)
    remaining = shared_h.copy()
    for k in range(plant_injected.shape[0]):
        np.minimum(plant_injected[k], remaining, out=allocated[k])
        remaining -= allocated[k]
    return allocated


def incentivised_energy(allocated: I64, tip_windows: list[tuple[int, int]]) -> I64:
    """``E_ACI``: the allocated energy of each plant within its TIP window (GSE-RULES §1, §2)."""
    incentivised = np.zeros_like(allocated)
    for k, (a, b) in enumerate(tip_windows):
        incentivised[k, a:b] = allocated[k, a:b]
    return incentivised


def exempt_points(community: Community, points: list[_Point], period: Period) -> list[_Point]:
    """The points whose withdrawals are exempt from F (GSE-RULES §2): members of an exempt
    type (territorial, religious, third-sector, environmental bodies, persons); a natural
    person's only from ``settings.f_exemption_persons_from`` (DM 127/2025, OPEN date)."""
    persons_from = period.hour_index(
        min(max(community.settings.f_exemption_persons_from, period.first_day), period.end_day)
    )
    out: list[_Point] = []
    for p in points:
        kind = community.members[p.member].type_rules
        if not kind.f_exempt:
            continue
        if kind.natural_person and p.start < persons_from:
            if persons_from < p.end:
                out.append(_Point(p.row, p.member, persons_from, p.end, p.config))
            continue
        out.append(p)
    return out


def exempt_energy(
    tip_energy: I64, grant_rows: list[int], exempt_withdrawn_h: I64, withdrawn_h: I64
) -> I64:
    """The exempt energy of each capital-grant plant, per hour (GSE-RULES §2).

    The exempt energy of an hour is the configuration's incentivised energy pro-rata to the
    exempt members' share of its withdrawals, rounded half-up to the Wh (OPEN default); it
    goes first to the plants that received a capital grant, in first-in order among them
    (Regole Operative §2.2.2.1.2); only what is left reaches the others, where F is 0 anyway.
    ``tip_energy`` are the configuration's plants in first-in order; the result has one row
    per ``grant_rows`` entry.
    """
    hourly = tip_energy.sum(axis=0, dtype=np.int64)
    remaining = _mul_div_half_up(hourly, exempt_withdrawn_h, np.maximum(withdrawn_h, 1))
    exempt = np.zeros((len(grant_rows), tip_energy.shape[1]), dtype=np.int64)
    for j, k in enumerate(grant_rows):
        np.minimum(tip_energy[k], remaining, out=exempt[j])
        remaining -= exempt[j]
    return exempt


def zonal_prices(
    community: Community,
    prices: HourlyPrices,
    period: Period,
    shared_h: I64,
    injected_h: I64,
    *,
    errors: list[str],
    warnings: list[str],
) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Pz_h of the community's market zone (GSE-RULES §7) and where it is known. An hour with
    shared energy and no price is an error naming the hours (its TIP is not counted, never
    priced at zero, §2); an hour with injection only and no price a warning (no RID, §6)."""
    zone = community.market_zone
    pz, pz_ok = prices.series(zone, period)
    unpriced_shared = np.flatnonzero(~pz_ok & (shared_h > 0))
    if unpriced_shared.size:
        errors.append(
            f"no {zone} price for {unpriced_shared.size} hours with shared energy: "
            + hour_ranges(period, unpriced_shared.tolist())
            + " (their TIP is not counted)"
        )
    unpriced_injection = np.flatnonzero(~pz_ok & (injected_h > 0) & (shared_h == 0))
    if unpriced_injection.size:
        warnings.append(
            f"no {zone} price for {unpriced_injection.size} hours with injection only: "
            + hour_ranges(period, unpriced_injection.tolist())
            + " (RID not counted)"
        )
    return pz, pz_ok


def missing_readings(  # noqa: PLR0917
    pods: tuple[str, ...],
    present: npt.NDArray[np.bool_],
    points: list[_Point],
    plants: list[Plant],
    windows: list[tuple[int, int]],
    row_of: dict[str, int],
    missing: dict[str, list[int]],
    warnings: list[str],
) -> npt.NDArray[np.bool_]:
    """The incomplete hours (GSE-RULES §1: a missing hour is missing, never zero): an hour is
    incomplete when a point or plant that counts then has no reading. Adds each POD's missing
    hours to ``missing`` and a warning; the hours are settled on the readings present."""
    hours = present.shape[1]
    incomplete = np.zeros(hours, dtype=np.bool_)
    if not present.all():
        checks = [(p.row, p.start, p.end) for p in points]
        for k, plant in enumerate(plants):
            row = row_of.get(plant.pod)
            if row is not None:
                checks.append((row, *windows[k]))
        for row, a, b in checks:
            gaps = np.flatnonzero(~present[row, a:b])
            if gaps.size:
                incomplete[a + gaps] = True
                missing.setdefault(pods[row], (a + gaps).tolist())
    for pod_hours in missing.values():
        incomplete[pod_hours] = True
    if missing:
        warnings.append(
            f"readings missing for {len(missing)} PODs in {int(incomplete.sum())} hours: "
            "those hours are settled on the readings present (see missing)"
        )
    return incomplete


@dataclass(frozen=True, eq=False)
class _ConfigurationEnergy:
    """The hourly energies of one configuration (GSE-RULES §1)."""

    cabina: str
    plants: list[int]  # rows of the community's first-in plant list
    points: list[_Point]
    injected_h: I64
    withdrawn_h: I64
    shared_h: I64


def configuration_energy(
    community: Community,
    plants: list[Plant],
    plant_injected: I64,
    points: list[_Point],
    *,
    sums: _RowSums,
    allocated: I64,
) -> list[_ConfigurationEnergy]:
    """Every configuration's E_imm,h, E_prel,h and E_cond,h from its own points only, and
    the first-in split of its shared energy among its own plants (GSE-RULES §1: a plant
    never shares with withdrawals under another cabina). Fills ``allocated``."""
    hours = plant_injected.shape[1]
    out = []
    for c, cabina in enumerate(community.configurations):
        rows = [k for k, p in enumerate(plants) if community.cabina_of(p.pod) == cabina]
        c_points = [p for p in points if p.config == c]
        whole = len(rows) == len(plants)
        injected = plant_injected if whole else plant_injected[rows]
        injected_h = injected.sum(axis=0, dtype=np.int64)
        withdrawn_h = _withdrawal(sums, c_points, hours)
        shared_h = shared_energy(injected_h, withdrawn_h)
        if whole:
            allocated[:] = first_in_allocation(injected, shared_h)
        elif rows:
            allocated[rows] = first_in_allocation(injected, shared_h)
        out.append(_ConfigurationEnergy(cabina, rows, c_points, injected_h, withdrawn_h, shared_h))
    return out


def tip_amounts(
    community: Community,
    plants: list[Plant],
    configurations: list[_ConfigurationEnergy],
    incentivised: I64,
    *,
    pz: I64,
    priced: I64,
    starts: I64,
    options: SettlementOptions,
    exempt_withdrawn: list[I64],
) -> tuple[list[Fraction], list[Fraction]]:
    """``C_ACI`` per plant, and per month (GSE-RULES §2).

    ``TIP_h = {min[CAP; TP_base + max(0; 180 − Pz_h)] + FC_zonale} × (1 − F)`` on each hour's
    E_ACI of the plant (an hour without a price earns nothing); F only on the energy that is
    not exempt (:func:`exempt_energy`, per configuration).
    """
    n_plants, hours = incentivised.shape
    n_months = len(starts)
    unit_rows: dict[tuple[int, Decimal], int] = {}
    unit_list: list[I64] = []
    plant_unit = np.zeros(n_plants, dtype=np.intp)
    for k, plant in enumerate(plants):
        fc = community.fc_zonale(plant)
        key = (plant.band.number, fc)
        if key not in unit_rows:
            unit_rows[key] = len(unit_list)
            unit_list.append(tip_before_f_micro(plant.band, fc, pz))
        plant_unit[k] = unit_rows[key]
    tip_unit = np.stack(unit_list)[plant_unit] if n_plants else np.zeros((0, hours), dtype=np.int64)
    tip_energy = incentivised * priced
    reduced_rows = [k for k, p in enumerate(plants) if p.grant_factor > 0]
    reduced_energy = np.zeros((len(reduced_rows), hours), dtype=np.int64)
    position = {k: j for j, k in enumerate(reduced_rows)}
    for conf, exempt_h in zip(configurations, exempt_withdrawn, strict=True):
        local = [i for i, k in enumerate(conf.plants) if k in position]
        if not local:
            continue
        rows = [conf.plants[i] for i in local]
        if options.f_exemption == "withdrawal_share":
            exempt = exempt_energy(tip_energy[conf.plants], local, exempt_h, conf.withdrawn_h)
        else:
            exempt = np.zeros((len(rows), hours), dtype=np.int64)
        for j, k in enumerate(rows):
            reduced_energy[position[k]] = tip_energy[k] - exempt[j]
            tip_energy[k] = exempt[j]
    full_sums = _monthly_dot(tip_unit, tip_energy, starts)
    reduced_sums = _monthly_dot(tip_unit[reduced_rows], reduced_energy, starts)
    keep = [Fraction(1)] * n_plants  # 1 − F
    reduced_of: dict[int, list[int]] = {}
    for j, k in enumerate(reduced_rows):
        keep[k] = 1 - Fraction(plants[k].grant_factor)
        reduced_of[k] = reduced_sums[j]
    no_reduction = [0] * n_months
    plant_tip = [
        (Fraction(sum(full_sums[k])) + keep[k] * sum(reduced_of.get(k, no_reduction))) / PICO_EUR
        for k in range(n_plants)
    ]
    keeps = sorted({keep[k] for k in reduced_rows})
    month_tip = [
        (
            Fraction(sum(full_sums[k][m] for k in range(n_plants)))
            + sum(
                (
                    value * sum(reduced_of[k][m] for k in reduced_rows if keep[k] == value)
                    for value in keeps
                ),
                Fraction(0),
            )
        )
        / PICO_EUR
        for m in range(n_months)
    ]
    return plant_tip, month_tip


def valorisation_rates(
    community: Community, period: Period, shared_months: list[int], errors: list[str]
) -> tuple[list[Fraction], list[str | None]]:
    """€/MWh paid on E_ACV in each month (GSE-RULES §3): CU_Afa (TRAS_E) of the month, plus
    CU_Afb (BTAU) for a group of self-consumers; a missing value is an error of the month."""
    rates: list[Fraction] = []
    cu_afa_text: list[str | None] = []
    group = community.configuration == "group"
    for m, month in enumerate(period.months):
        value = community.cu_afa_for_month(month)
        cu_afa_text.append(None if value is None else str(value))
        rate = Fraction(0) if value is None else Fraction(value)
        if value is None and shared_months[m] > 0:
            errors.append(
                f"no CU_Afa (TRAS_E) for {month} in community.cu_afa_eur_mwh: "
                "its valorisation is not counted"
            )
        if group:  # groups of self-consumers in one building: + CU_Afb on E_ACVC = E_ACV
            btau = community.cu_afb_for_month(month)
            if btau is None and shared_months[m] > 0:
                errors.append(
                    f"no CU_Afb (BTAU) for {month} in community.cu_afb_eur_mwh: "
                    "its valorisation is not counted"
                )
            rate += Fraction(btau or 0)
        rates.append(rate)
    return rates, cu_afa_text


def valorisation_amounts(
    community: Community,
    plants: list[Plant],
    allocated: I64,
    rates: list[Fraction],
    *,
    shared_months: list[int],
    pz: I64,
    priced: I64,
    starts: I64,
) -> tuple[list[Fraction], list[Fraction]]:
    """``C_ACV`` per plant and per month: the month's rate × E_ACV (GSE-RULES §3), the
    plant's by its first-in allocation; a group of self-consumers adds
    ``Σ_h E_ACVC × c_PR × Pz_h``, the avoided losses."""
    n_plants = allocated.shape[0]
    n_months = len(starts)
    allocated_months = (
        np.add.reduceat(allocated, starts, axis=1)
        if n_plants
        else np.zeros((0, n_months), dtype=np.int64)
    )
    plant_val = [Fraction(0)] * n_plants
    for rate in set(rates):
        if rate == 0:
            continue
        months_at_rate = [m for m in range(n_months) if rates[m] == rate]
        energy_at_rate = allocated_months[:, months_at_rate].sum(axis=1).tolist()
        for k in range(n_plants):
            plant_val[k] += rate * int(energy_at_rate[k]) / WH_PER_MWH
    month_val = [rates[m] * int(shared_months[m]) / WH_PER_MWH for m in range(n_months)]
    if community.configuration == "group":
        losses = _monthly_dot(allocated * priced, np.broadcast_to(pz, allocated.shape), starts)
        for k, plant in enumerate(plants):
            c_pr = Fraction(rules.LOSS_FACTOR_C_PR[plant.voltage])
            plant_val[k] += c_pr * sum(losses[k]) / PICO_EUR
            for m in range(n_months):
                month_val[m] += c_pr * losses[k][m] / PICO_EUR
    return plant_val, month_val


def surplus_sets(
    plants: list[Plant],
    rows: list[int],
    incentivised: I64,
    plant_injected: I64,
    *,
    tip_windows: list[tuple[int, int]],
    plant_tip: list[Fraction],
) -> tuple[Fraction, list[dict[str, Any]]]:
    """The surplus earmark ``C_ecc = Σ_j %ecc_j × C_ACI,j`` of one configuration (GSE-RULES
    §4, §1: the surplus rule per configuration), with each set's figures."""
    total = Fraction(0)
    sets: list[dict[str, Any]] = []
    for set_name, threshold in rules.SURPLUS_THRESHOLDS.items():
        in_set = [
            k
            for k in rows
            if plants[k].surplus_set == set_name and tip_windows[k][1] > tip_windows[k][0]
        ]
        if not in_set:
            continue
        e_aci = sum(int(incentivised[k].sum()) for k in in_set)
        e_imm = sum(int(plant_injected[k, slice(*tip_windows[k])].sum()) for k in in_set)
        c_aci = sum((plant_tip[k] for k in in_set), Fraction(0))
        excess = excess_share(e_aci, e_imm, threshold)
        earmark = surplus_earmark(e_aci, e_imm, c_aci, threshold)
        total += earmark
        sets.append(
            {
                "set": set_name,
                "plants": [plants[k].id for k in in_set],
                "incentivised_wh": e_aci,
                "injected_wh": e_imm,
                "threshold": str(threshold),
                "excess_points": f"{float(excess * 100):.4f}",
                "tip_eur": eur(c_aci),
                "earmarked_eur": eur(earmark),
            }
        )
    return total, sets


def coincident_withdrawal(
    withdrawn: I64,
    sums: _RowSums,
    conf: _ConfigurationEnergy,
    n_members: int,
) -> list[int]:
    """Each member's share of the configuration's shared energy, in Wh: each hour's E_cond
    pro-rata to the members' withdrawals there, rounded to the Wh by largest remainder over
    the period so the members' figures add up to the configuration's shared energy."""
    return coincident_withdrawal_shares(withdrawn, sums, conf, n_members)[0]


def coincident_withdrawal_shares(
    withdrawn: I64,
    sums: _RowSums,
    conf: _ConfigurationEnergy,
    n_members: int,
) -> tuple[list[int], dict[int, int]]:
    """The coincident withdrawal of :func:`coincident_withdrawal` per member and per row
    (POD) from one pass: each hour's E_cond pro-rata to the withdrawals there (GSE-RULES §1),
    both rounded to the Wh by largest remainder so that each adds up to the configuration's
    shared energy. The rows' figures tell a site its part of the shared energy on the
    withdrawal side (issue #14 item 11)."""
    hours = withdrawn.shape[1]
    shared_total = int(conf.shared_h.sum(dtype=np.int64))
    total_withdrawn = int(conf.withdrawn_h.sum(dtype=np.int64))
    # ratio_h = E_cond,h / E_prel,h in fixed point (2^-RATIO_BITS), so the products stay
    # exact integers whatever the row order.
    bits = _RATIO_BITS
    while bits > 0 and total_withdrawn << bits >= _INT64_SAFE:
        bits -= 4
    scale = 1 << bits
    ratio = np.zeros(hours, dtype=np.int64)
    np.floor_divide(
        conf.shared_h * scale + conf.withdrawn_h // 2,
        conf.withdrawn_h,
        out=ratio,
        where=conf.withdrawn_h > 0,
    )
    full_rows = sorted({p.row for p in conf.points if p.start == 0 and p.end == hours})
    coincident_rows = _row_dot(withdrawn, full_rows, ratio).tolist()
    per_row = dict(zip(full_rows, coincident_rows, strict=True))
    coincident = [0] * n_members
    by_row: dict[int, int] = {}
    for p in conf.points:
        if p.start == 0 and p.end == hours:
            scaled = int(per_row[p.row])
        else:
            part = withdrawn[p.row, p.start : p.end]
            scaled = int(part @ ratio[p.start : p.end])
        coincident[p.member] += scaled
        by_row[p.row] = by_row.get(p.row, 0) + scaled
    rows = sorted(by_row)
    rounded_rows = _round_scaled_to_total([by_row[r] for r in rows], bits, shared_total)
    return (
        _round_scaled_to_total(coincident, bits, shared_total),
        dict(zip(rows, rounded_rows, strict=True)),
    )


# ---------------------------------------------------------------------------------------


def settle(
    community: Community,
    energy: HourlyEnergy,
    prices: HourlyPrices,
    period: Period,
    options: SettlementOptions | None = None,
) -> SettlementResult:
    """Settle ``period``: energies, TIP, valorisation, surplus, RID, fees, distribution.

    Every quantity is computed per configuration (cabina primaria) and money is rounded per
    configuration; the community's totals are the sums (GSE-RULES §1). ``energy`` must cover
    ``period`` (it may cover more). Problems of the data (a missing price for an hour with
    shared energy, a missing CU_Afa) are reported in ``errors`` with the hours they concern,
    never filled with zero; missing readings are reported in ``missing`` and ``warnings``.
    """
    options = options or SettlementOptions()
    warnings: list[str] = []
    errors: list[str] = []
    hours = period.hours
    offset = period.start_epoch_hour - energy.period.start_epoch_hour
    if offset < 0 or offset + hours > energy.period.hours:
        raise InvalidInput.single(
            "period", f"the readings cover {energy.period}, which does not contain {period}"
        )
    if offset == 0 and hours == energy.period.hours:
        injected, withdrawn, present = energy.injected, energy.withdrawn, energy.present
    else:
        injected = energy.injected[:, offset : offset + hours]
        withdrawn = energy.withdrawn[:, offset : offset + hours]
        present = energy.present[:, offset : offset + hours]
    row_of = {pod: i for i, pod in enumerate(energy.pods)}
    members = list(community.members)
    starts = period.month_starts

    points, missing, days_of = membership_points(community, period, row_of)
    known = set(community.points_by_pod) | {p.pod for p in community.plants}
    unknown = [pod for pod in energy.pods if pod not in known]
    if unknown:
        warnings.append(
            f"readings of {len(unknown)} PODs that are in no member and no plant were ignored"
        )

    # E_imm per plant (first in), E_prel, E_cond per configuration, first-in split, E_ACI
    plants = community.plants_first_in()
    n_plants = len(plants)
    windows, tip_windows = plant_windows(community, plants, period)
    plant_inj = np.zeros((n_plants, hours), dtype=np.int64)
    for k, plant in enumerate(plants):
        a, b = windows[k]
        row = row_of.get(plant.pod)
        if row is None:
            if b > a:
                missing.setdefault(plant.pod, list(range(a, b)))
        else:
            plant_inj[k, a:b] = injected[row, a:b]
    sums = _RowSums(withdrawn)
    allocated = np.zeros_like(plant_inj)
    configurations = configuration_energy(
        community, plants, plant_inj, points, sums=sums, allocated=allocated
    )
    incentivised = incentivised_energy(allocated, tip_windows)
    if len(configurations) == 1:
        injected_h = configurations[0].injected_h
        withdrawn_h = configurations[0].withdrawn_h
        shared_h = configurations[0].shared_h
    else:
        injected_h = sum((c.injected_h for c in configurations), np.zeros(hours, np.int64))
        withdrawn_h = sum((c.withdrawn_h for c in configurations), np.zeros(hours, np.int64))
        shared_h = sum((c.shared_h for c in configurations), np.zeros(hours, np.int64))
    incentivised_h = incentivised.sum(axis=0, dtype=np.int64)

    # prices (§2, §6, §7): never zero where missing -----------------------------------
    pz, pz_ok = zonal_prices(
        community, prices, period, shared_h, injected_h, errors=errors, warnings=warnings
    )
    priced = pz_ok.astype(np.int64)

    # money per plant: TIP (§2), valorisation (§3), RID and GSE fees (§6) ----------------
    exempt_withdrawn = [np.zeros(hours, dtype=np.int64) for _ in configurations]
    if options.f_exemption == "withdrawal_share" and any(p.grant_factor > 0 for p in plants):
        exempt = exempt_points(community, points, period)
        exempt_withdrawn = [
            _withdrawal(sums, [p for p in exempt if p.config == c], hours)
            for c in range(len(configurations))
        ]
    plant_tip, month_tip = tip_amounts(
        community,
        plants,
        configurations,
        incentivised,
        pz=pz,
        priced=priced,
        starts=starts,
        options=options,
        exempt_withdrawn=exempt_withdrawn,
    )
    shared_months = np.add.reduceat(shared_h, starts).tolist()
    rates, cu_afa_text = valorisation_rates(community, period, shared_months, errors)
    plant_val, month_val = valorisation_amounts(
        community,
        plants,
        allocated,
        rates,
        shared_months=shared_months,
        pz=pz,
        priced=priced,
        starts=starts,
    )
    rid_sums = _monthly_dot(plant_inj * priced, np.broadcast_to(pz, plant_inj.shape), starts)
    plant_rid = [Fraction(sum(row), PICO_EUR) for row in rid_sums]
    month_share = _month_shares(period)
    fees = [
        _gse_fee(community.gse_fees, plant, windows[k], month_share)
        for k, plant in enumerate(plants)
    ]

    # per configuration: surplus (§4), members' coincident withdrawal, money rounded -----
    shared_member = [0] * len(members)
    shared_row: dict[int, int] = {}
    config_results: list[ConfigurationSettlement] = []
    surplus_total = Fraction(0)
    all_sets: list[dict[str, Any]] = []
    for conf in configurations:
        earmark, sets = surplus_sets(
            plants,
            conf.plants,
            incentivised,
            plant_inj,
            tip_windows=tip_windows,
            plant_tip=plant_tip,
        )
        for entry in sets:
            entry["cabina_primaria"] = conf.cabina
        surplus_total += earmark
        all_sets.extend(sets)
        by_member, by_row = coincident_withdrawal_shares(withdrawn, sums, conf, len(members))
        for i, wh in enumerate(by_member):
            shared_member[i] += wh
        for row, wh in by_row.items():
            shared_row[row] = shared_row.get(row, 0) + wh
        config_results.append(
            ConfigurationSettlement(
                cabina_primaria=conf.cabina,
                plants=[plants[k].id for k in conf.plants],
                points=sum(
                    1
                    for point in community.points_by_pod.values()
                    if point.cabina_primaria == conf.cabina
                ),
                injected_wh=int(conf.injected_h.sum(dtype=np.int64)),
                withdrawn_wh=int(conf.withdrawn_h.sum(dtype=np.int64)),
                shared_wh=int(conf.shared_h.sum(dtype=np.int64)),
                incentivised_wh=int(incentivised[conf.plants].sum(dtype=np.int64)),
                tip=sum((plant_tip[k] for k in conf.plants), Fraction(0)),
                valorisation=sum((plant_val[k] for k in conf.plants), Fraction(0)),
                surplus_earmarked=earmark,
                rid=sum((plant_rid[k] for k in conf.plants), Fraction(0)),
                gse_fees=sum((fees[k] for k in conf.plants), Fraction(0)),
                surplus_sets=sets,
            )
        )
    if period.kind != "year" and surplus_total:
        warnings.append(
            "the surplus earmark is an annual rule: for this period it is an estimate on "
            "the period's energy"
        )
    if len(config_results) > 1:
        for conf_result in config_results:
            if not conf_result.plants or not conf_result.points:
                warnings.append(
                    f"configuration {conf_result.cabina_primaria} has no "
                    + ("production" if not conf_result.plants else "consumption")
                    + " point: it shares nothing (GSE-RULES §8)"
                )

    # members' withdrawal and days ------------------------------------------------------
    withdrawn_member = [0] * len(members)
    row_totals = sums.per_row()
    for p in points:
        if p.start == 0 and p.end == hours:
            withdrawn_member[p.member] += int(row_totals[p.row])
        else:
            withdrawn_member[p.member] += int(withdrawn[p.row, p.start : p.end].sum())
    days_member = [days_of[(max(m.joined, community.constituted), m.left)] for m in members]

    # missing readings (§1: missing, never zero) -----------------------------------------
    incomplete = missing_readings(
        energy.pods, present, points, plants, windows, row_of, missing, warnings
    )

    # distribution: the statute shares the money of every configuration -----------------
    plant_incentivised = incentivised.sum(axis=1, dtype=np.int64).tolist()
    distribution = distribute(
        DistributionInput(
            statute=community.statute,
            members=members,
            plant_owners=[p.owner for p in plants],
            plant_tip=plant_tip,
            plant_valorisation=plant_val,
            plant_incentivised_wh=plant_incentivised,
            consumer_weights=_consumer_weights(
                community, members, shared_member, withdrawn_member, days_member
            ),
            surplus=surplus_total,
            total_cents=sum(c.tip_cents + c.valorisation_cents for c in config_results),
        )
    )
    warnings.extend(distribution.warnings)

    plant_injected = plant_inj.sum(axis=1, dtype=np.int64).tolist()
    plant_allocated = allocated.sum(axis=1, dtype=np.int64).tolist()
    plant_results = [
        PlantSettlement(
            id=plant.id,
            owner=plant.owner,
            power_kw=str(plant.power_kw),
            band=plant.band.number,
            tip_eligible=tip_windows[k][1] > tip_windows[k][0],
            injected_wh=int(plant_injected[k]),
            allocated_wh=int(plant_allocated[k]),
            incentivised_wh=int(plant_incentivised[k]),
            tip=plant_tip[k],
            valorisation=plant_val[k],
            rid=plant_rid[k],
            gse_fee=fees[k],
            cabina_primaria=community.cabina_of(plant.pod),
        )
        for k, plant in enumerate(plants)
    ]
    member_results = [
        MemberSettlement(
            id=m.id,
            name=m.name,
            type=m.type,
            membership_days=days_member[i],
            withdrawn_wh=withdrawn_member[i],
            shared_wh=shared_member[i],
            amount_cents=distribution.member_cents[m.id],
            parts_cents=distribution.member_parts[m.id],
        )
        for i, m in enumerate(members)
        if days_member[i] > 0 or distribution.member_cents[m.id]
    ]
    injected_months = np.add.reduceat(injected_h, starts).tolist()
    withdrawn_months = np.add.reduceat(withdrawn_h, starts).tolist()
    incentivised_months = np.add.reduceat(incentivised_h, starts).tolist()
    month_results = [
        MonthSettlement(
            month=month,
            injected_wh=int(injected_months[m]),
            withdrawn_wh=int(withdrawn_months[m]),
            shared_wh=int(shared_months[m]),
            incentivised_wh=int(incentivised_months[m]),
            tip=month_tip[m],
            valorisation=month_val[m],
            cu_afa_eur_mwh=cu_afa_text[m],
        )
        for m, month in enumerate(period.months)
    ]
    advance = _advances(community, period, config_results)
    return SettlementResult(
        period=period,
        injected_wh=int(injected_h.sum()),
        withdrawn_wh=int(withdrawn_h.sum()),
        shared_wh=int(shared_h.sum()),
        incentivised_wh=int(incentivised_h.sum()),
        tip=sum(plant_tip, Fraction(0)),
        valorisation=sum(plant_val, Fraction(0)),
        surplus_earmarked=surplus_total,
        rid=sum(plant_rid, Fraction(0)),
        gse_fees=sum(fees, Fraction(0)),
        plants=plant_results,
        members=member_results,
        months=month_results,
        distribution=distribution,
        surplus_sets=all_sets,
        advance=advance,
        missing=MissingReadings(missing, int(incomplete.sum())),
        hourly=HourlyDetail(
            injected_wh=injected_h,
            withdrawn_wh=withdrawn_h,
            shared_wh=shared_h,
            incentivised_wh=incentivised_h,
            price_micro_eur_mwh=pz,
            price_present=pz_ok,
            complete=~incomplete,
        ),
        warnings=warnings,
        errors=errors,
        assumptions=options.assumptions(prices.quarter_hours, community),
        configurations=config_results,
        pod_coincident_wh={energy.pods[row]: wh for row, wh in sorted(shared_row.items())},
    )


def _advances(
    community: Community, period: Period, configurations: list[ConfigurationSettlement]
) -> dict[str, Any] | None:
    """The acconti the GSE paid for the period's months, and the balance of the true-up
    (GSE-RULES §5): the acconto of several months is the sum of the monthly amounts as
    paid, each the rounding of the exact sum over one configuration's plants; the balance
    is the settled (rounded) figure minus what was paid, per configuration and in total.

    None for a period that is not whole months, or when a month has no CU_Afa. Each
    configuration gets its ``acconto`` too.
    """
    if period.kind not in ("year", "month"):
        return None
    paid = advances_of_months(community, period.months)
    if paid is None:
        return None
    tip_paid = val_paid = tip_balance = val_balance = 0
    for conf in configurations:
        tip_cents, val_cents = paid.get(conf.cabina_primaria, (0, 0))
        conf.advance.update(
            {
                "tip_eur": _cents_eur(tip_cents),
                "valorisation_eur": _cents_eur(val_cents),
                "balance_tip_eur": _cents_eur(conf.tip_cents - tip_cents),
                "balance_valorisation_eur": _cents_eur(conf.valorisation_cents - val_cents),
            }
        )
        tip_paid += tip_cents
        val_paid += val_cents
        tip_balance += conf.tip_cents - tip_cents
        val_balance += conf.valorisation_cents - val_cents
    return {
        "tip_eur": _cents_eur(tip_paid),
        "valorisation_eur": _cents_eur(val_paid),
        "balance_tip_eur": _cents_eur(tip_balance),
        "balance_valorisation_eur": _cents_eur(val_balance),
        "months": len(period.months),
    }


def _cents_eur(cents: int) -> str:
    return eur(Fraction(cents, 100))


def _month_shares(period: Period) -> list[tuple[int, int, Fraction]]:
    """For each month of the period: its hours [a, b) and the share of the month inside."""
    bounds = [*period.month_starts.tolist(), period.hours]
    shares = []
    for m, month in enumerate(period.months):
        first = dt.date(int(month[:4]), int(month[5:]), 1)
        end = next_month(first)
        share = Fraction(period.days_between(first, end), (end - first).days)
        shares.append((bounds[m], bounds[m + 1], share))
    return shares


def _gse_fee(
    schedule: rules.GseFeeSchedule,
    plant: Plant,
    window: tuple[int, int],
    month_shares: list[tuple[int, int, Fraction]],
) -> Fraction:
    """The plant's share of its yearly GSE fee: 1/12 per month in service in the period.

    A month only partly in the period (a day period) bears its share of days.
    """
    a, b = window
    if b <= a:
        return Fraction(0)
    shares = [share for start, end, share in month_shares if a < end and b > start]
    whole = sum(1 for share in shares if share == 1)
    months = whole + sum((share for share in shares if share != 1), Fraction(0))
    return Fraction(schedule.per_year(plant.power_kw)) * months / 12


def _consumer_weights(
    community: Community,
    members: list[Member],
    shared_member: list[int],
    withdrawn_member: list[int],
    days_member: list[int],
) -> dict[str, int]:
    """Each member's weight in the consumers' quota, by ``statute.consumers_by``."""
    weights = {
        "coincident_withdrawal": shared_member,
        "withdrawal": withdrawn_member,
        "equal": [d if m.pods else 0 for d, m in zip(days_member, members, strict=True)],
    }[community.statute.consumers_by]
    return {m.id: w for m, w in zip(members, weights, strict=True)}
