"""Settlement of a period: the GSE rules hour by hour, and the statute's distribution.

``settle`` computes, for each local hour of the period (GSE-RULES §1–§6):

- ``E_imm,h`` injected by the configuration's plants, ``E_prel,h`` withdrawn by its members'
  points, the shared energy ``E_cond,h = min(E_imm,h, E_prel,h)``, which under one cabina
  primaria is also the self-consumed energy ``E_ACV,h`` (energia autoconsumata virtualmente);
- the "first in" allocation of the shared energy among plants (commissioning order);
- the incentivised energy ``E_ACI,h`` (energia autoconsumata incentivata) of the plants
  entitled to the TIP (tariffa incentivante premio) within their 20 years, and the TIP per
  plant and hour with its band, CAP, FC_zonale and the capital-grant reduction F and its
  exemption;
- per month the valorisation ``C_ACV`` (contributo di valorizzazione, CU_Afa = TRAS_E of the
  month), per year (or estimated on a shorter period) the surplus earmark ``C_ecc``, the RID
  (ritiro dedicato) value of injected energy, and the GSE fees.

Then the money (TIP + valorisation) is shared by the statute (:mod:`.distribution`).

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
from .money import eur
from .period import Period, next_month
from .prices import HourlyPrices
from .surplus import excess_share, surplus_earmark
from .tariff import tip_before_f_micro

__all__ = [
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

    def assumptions(self, quarter_hours: str = "mean") -> list[str]:
        """The OPEN rules and the choice made, for the report."""
        quarters = (
            "hourly Pz is the mean of the four quarter-hours"
            if quarter_hours == "mean"
            else "refused"
        )
        return [
            "first-in tie-break on equal commissioning dates: plant id (OPEN)",
            f"F exemption split: {self.f_exemption} (OPEN; default pro-rata to the exempt "
            "members' share of the hour's withdrawals, rounded to the Wh)",
            "CU_Afa (TRAS_E) from the community file, month beats year (2025 onward OPEN)",
            f"15-minute prices: {quarters} (OPEN)",
            "members' coincident withdrawal: each hour's shared energy pro-rata to the "
            "members' withdrawals, rounded to the Wh by largest remainder over the period",
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

    def to_json_dict(self) -> dict[str, Any]:
        """The ``plants[]`` entry of ``settle --json`` (with extra keys)."""
        return {
            "id": self.id,
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

    @property
    def hours(self) -> int:
        """Calendar hours of the period."""
        return self.period.hours

    def to_json_dict(self) -> dict[str, Any]:
        """The ``settle --json`` object of ``FORMATS.md`` (plus extra keys)."""
        return {
            "period": str(self.period),
            "hours": self.hours,
            "injected_wh": self.injected_wh,
            "withdrawn_wh": self.withdrawn_wh,
            "shared_wh": self.shared_wh,
            "incentivised_wh": self.incentivised_wh,
            "tip_eur": eur(self.tip),
            "valorisation_eur": eur(self.valorisation),
            "surplus_earmarked_eur": eur(self.surplus_earmarked),
            "rid_eur": eur(self.rid),
            "gse_fees_eur": eur(self.gse_fees),
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
    """A consumption point of a member, with its row and membership window."""

    row: int
    member: int
    start: int
    end: int


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


def settle(
    community: Community,
    energy: HourlyEnergy,
    prices: HourlyPrices,
    period: Period,
    options: SettlementOptions | None = None,
) -> SettlementResult:
    """Settle ``period``: energies, TIP, valorisation, surplus, RID, fees, distribution.

    ``energy`` must cover ``period`` (it may cover more). Problems of the data (a missing
    price for an hour with shared energy, a missing CU_Afa) are reported in ``errors`` with
    the hours they concern, never filled with zero; missing readings are reported in
    ``missing`` and ``warnings``.
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
    member_index = {m.id: i for i, m in enumerate(members)}
    starts = period.month_starts
    n_months = len(starts)

    # membership windows (members count only for the days they are members) ------------
    spans = {(max(m.joined, community.constituted), m.left) for m in members}
    window_of = {span: _window(period, *span) for span in spans}
    days_of = {span: period.days_between(*span) for span in spans}
    windows = [window_of[(max(m.joined, community.constituted), m.left)] for m in members]
    points: list[_Point] = []
    missing: dict[str, list[int]] = {}
    for mi, member in enumerate(members):
        a, b = windows[mi]
        for pod in member.pods:
            row = row_of.get(pod)
            if row is None:
                if b > a:
                    missing[pod] = list(range(a, b))
            elif b > a:
                points.append(_Point(row, mi, a, b))
    known = {p for m in members for p in m.pods} | {p.pod for p in community.plants}
    unknown = [pod for pod in energy.pods if pod not in known]
    if unknown:
        warnings.append(
            f"readings of {len(unknown)} PODs that are in no member and no plant were ignored"
        )

    # E_prel,h: withdrawals of the members' points ---------------------------------------
    sums = _RowSums(withdrawn)
    withdrawn_h = _withdrawal(sums, points, hours)

    # E_imm,h: injections of the plants, first in ----------------------------------------
    plants = community.plants_first_in()
    n_plants = len(plants)
    plant_inj = np.zeros((n_plants, hours), dtype=np.int64)
    plant_windows: list[tuple[int, int]] = []
    tip_windows: list[tuple[int, int]] = []
    for k, plant in enumerate(plants):
        owner = members[member_index[plant.owner]]
        a, b = _window(
            period, _latest(plant.commissioned, community.constituted, owner.joined), owner.left
        )
        plant_windows.append((a, b))
        row = row_of.get(plant.pod)
        if row is None:
            if b > a:
                missing.setdefault(plant.pod, list(range(a, b)))
        else:
            plant_inj[k, a:b] = injected[row, a:b]
        if community.tip_eligible(plant):
            end = _window(period, None, plant.incentive_end)[1]
            tip_windows.append((a, max(a, min(b, end))))
        else:
            tip_windows.append((a, a))
    injected_h = plant_inj.sum(axis=0, dtype=np.int64)

    # E_cond,h = E_ACV,h; first-in allocation; E_ACI,h -----------------------------------
    shared_h = np.minimum(injected_h, withdrawn_h)
    allocated = np.zeros_like(plant_inj)
    remaining = shared_h.copy()
    for k in range(n_plants):  # first in: each plant in order takes what is left
        np.minimum(plant_inj[k], remaining, out=allocated[k])
        remaining -= allocated[k]
    incentivised = np.zeros_like(allocated)
    for k, (a, b) in enumerate(tip_windows):
        incentivised[k, a:b] = allocated[k, a:b]
    incentivised_h = incentivised.sum(axis=0, dtype=np.int64)

    # prices ----------------------------------------------------------------------------
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
    priced = pz_ok.astype(np.int64)

    # TIP (C_ACI): per plant, TIP before F on all E_ACI, F on the non-exempt part --------
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
    if reduced_rows:
        f_energy = tip_energy[reduced_rows]
        if options.f_exemption == "withdrawal_share":
            exempt_points = [p for p in points if members[p.member].type_rules.f_exempt]
            exempt_h = _withdrawal(sums, exempt_points, hours)
            exempt = _mul_div_half_up(f_energy, exempt_h, np.maximum(withdrawn_h, 1))
        else:
            exempt = np.zeros_like(f_energy)
        reduced_energy = f_energy - exempt
        tip_energy[reduced_rows] = exempt
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

    # valorisation (C_ACV) per month: CU_Afa of the month × E_ACV ------------------------
    allocated_months = (
        np.add.reduceat(allocated, starts, axis=1)
        if n_plants
        else np.zeros((0, n_months), dtype=np.int64)
    )
    shared_months = np.add.reduceat(shared_h, starts).tolist()
    cu_afa: list[Fraction] = []
    cu_afa_text: list[str | None] = []
    for m, month in enumerate(period.months):
        value = community.cu_afa_for_month(month)
        cu_afa_text.append(None if value is None else str(value))
        cu_afa.append(Fraction(0) if value is None else Fraction(value))
        if value is None and shared_months[m] > 0:
            errors.append(
                f"no CU_Afa (TRAS_E) for {month} in community.cu_afa_eur_mwh: "
                "its valorisation is not counted"
            )
    rates = list(cu_afa)  # €/MWh on E_ACV per month
    group = community.configuration == "group"
    if group:  # groups of self-consumers in one building: + CU_Afb (BTAU) on E_ACVC = E_ACV
        for m, month in enumerate(period.months):
            btau = community.cu_afb_for_month(month)
            if btau is None and shared_months[m] > 0:
                errors.append(
                    f"no CU_Afb (BTAU) for {month} in community.cu_afb_eur_mwh: "
                    "its valorisation is not counted"
                )
            rates[m] += Fraction(btau or 0)
    plant_val = [Fraction(0)] * n_plants
    for rate in set(rates):
        months_at_rate = [m for m in range(n_months) if rates[m] == rate]
        if rate == 0:
            continue
        energy_at_rate = allocated_months[:, months_at_rate].sum(axis=1).tolist()
        for k in range(n_plants):
            plant_val[k] += rate * int(energy_at_rate[k]) / WH_PER_MWH
    month_val = [rates[m] * int(shared_months[m]) / WH_PER_MWH for m in range(n_months)]
    if group:  # + Σ_h E_ACVC,i × c_PR,i × Pz_h, the avoided network losses of each plant
        losses = _monthly_dot(allocated * priced, np.broadcast_to(pz, allocated.shape), starts)
        for k, plant in enumerate(plants):
            c_pr = Fraction(rules.LOSS_FACTOR_C_PR[plant.voltage])
            plant_val[k] += c_pr * sum(losses[k]) / PICO_EUR
            for m in range(n_months):
                month_val[m] += c_pr * losses[k][m] / PICO_EUR

    # RID and GSE fees ------------------------------------------------------------------
    rid_sums = _monthly_dot(plant_inj * priced, np.broadcast_to(pz, plant_inj.shape), starts)
    month_share = _month_shares(period)
    fees = [
        _gse_fee(community.gse_fees, plant, plant_windows[k], month_share)
        for k, plant in enumerate(plants)
    ]

    # surplus earmark (C_ecc) -----------------------------------------------------------
    surplus_total = Fraction(0)
    surplus_sets: list[dict[str, Any]] = []
    for set_name, threshold in rules.SURPLUS_THRESHOLDS.items():
        in_set = [
            k
            for k, p in enumerate(plants)
            if p.surplus_set == set_name and tip_windows[k][1] > tip_windows[k][0]
        ]
        if not in_set:
            continue
        e_aci = sum(int(incentivised[k].sum()) for k in in_set)
        e_imm = sum(int(plant_inj[k, slice(*tip_windows[k])].sum()) for k in in_set)
        c_aci = sum((plant_tip[k] for k in in_set), Fraction(0))
        excess = excess_share(e_aci, e_imm, threshold)
        earmark = surplus_earmark(e_aci, e_imm, c_aci, threshold)
        surplus_total += earmark
        surplus_sets.append(
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
    if period.kind != "year" and surplus_total:
        warnings.append(
            "the surplus earmark is an annual rule: for this period it is an estimate on "
            "the period's energy"
        )

    # members: coincident withdrawal (share of each hour's E_cond) and withdrawal --------
    shared_total = int(shared_h.sum(dtype=np.int64))
    total_withdrawn = int(withdrawn_h.sum(dtype=np.int64))
    # ratio_h = E_cond,h / E_prel,h in fixed point (2^-RATIO_BITS), so the products stay
    # exact integers whatever the row order; the member figures are then rounded to the Wh
    # by largest remainder so they add up to the shared energy.
    bits = _RATIO_BITS
    while bits > 0 and total_withdrawn << bits >= _INT64_SAFE:
        bits -= 4
    scale = 1 << bits
    ratio = np.zeros(hours, dtype=np.int64)
    np.floor_divide(
        shared_h * scale + withdrawn_h // 2, withdrawn_h, out=ratio, where=withdrawn_h > 0
    )
    full_rows = sorted({p.row for p in points if p.start == 0 and p.end == hours})
    coincident_rows = _row_dot(withdrawn, full_rows, ratio).tolist()
    row_totals = sums.per_row()
    per_row = {
        row: (int(coincident_rows[i]), int(row_totals[row])) for i, row in enumerate(full_rows)
    }
    coincident_member = [0] * len(members)
    withdrawn_member = [0] * len(members)
    for p in points:
        if p.start == 0 and p.end == hours:
            coincident, total = per_row[p.row]
        else:
            part = withdrawn[p.row, p.start : p.end]
            coincident = int(part @ ratio[p.start : p.end])
            total = int(part.sum(dtype=np.int64))
        coincident_member[p.member] += coincident
        withdrawn_member[p.member] += total
    shared_member = _round_scaled_to_total(coincident_member, bits, shared_total)
    days_member = [days_of[(max(m.joined, community.constituted), m.left)] for m in members]

    # missing readings ------------------------------------------------------------------
    incomplete = np.zeros(hours, dtype=np.bool_)
    if not present.all():
        checks = [(p.row, p.start, p.end) for p in points]
        for k, plant in enumerate(plants):
            row = row_of.get(plant.pod)
            if row is not None:
                checks.append((row, *plant_windows[k]))
        for row, a, b in checks:
            gaps = np.flatnonzero(~present[row, a:b])
            if gaps.size:
                incomplete[a + gaps] = True
                missing.setdefault(energy.pods[row], (a + gaps).tolist())
    for pod_hours in missing.values():
        incomplete[pod_hours] = True
    if missing:
        warnings.append(
            f"readings missing for {len(missing)} PODs in {int(incomplete.sum())} hours: "
            "those hours are settled on the readings present (see missing)"
        )

    # distribution ----------------------------------------------------------------------
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
            rid=Fraction(sum(rid_sums[k]), PICO_EUR),
            gse_fee=fees[k],
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
    return SettlementResult(
        period=period,
        injected_wh=int(injected_h.sum()),
        withdrawn_wh=total_withdrawn,
        shared_wh=shared_total,
        incentivised_wh=int(incentivised_h.sum()),
        tip=sum(plant_tip, Fraction(0)),
        valorisation=sum(plant_val, Fraction(0)),
        surplus_earmarked=surplus_total,
        rid=sum((p.rid for p in plant_results), Fraction(0)),
        gse_fees=sum(fees, Fraction(0)),
        plants=plant_results,
        members=member_results,
        months=month_results,
        distribution=distribution,
        surplus_sets=surplus_sets,
        advance=_advances(
            community, period, sum(plant_tip, Fraction(0)), sum(plant_val, Fraction(0))
        ),
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
        assumptions=options.assumptions(prices.quarter_hours),
    )


def _advances(
    community: Community, period: Period, tip: Fraction, valorisation: Fraction
) -> dict[str, Any] | None:
    """The acconti the GSE pays for the period's months, and the balance of the true-up.

    None for a period that is not whole months, or when a month has no CU_Afa.
    """
    if period.kind not in ("year", "month"):
        return None
    paid = advances_of_months(community, period.months)
    if paid is None:
        return None
    paid_tip, paid_valorisation = paid
    return {
        "tip_eur": eur(paid_tip),
        "valorisation_eur": eur(paid_valorisation),
        "balance_tip_eur": eur(tip - paid_tip),
        "balance_valorisation_eur": eur(valorisation - paid_valorisation),
    }


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
