"""Completeness of a community's readings, and Home Assistant against the meter.

:func:`coverage` is what the referent looks at before a settlement (and what runs, finalise
guards and reports quote): per POD, the hours *expected* (the days it belonged to a member in
the community), *present* from any source, by source, and the missing hours as ranges
``START/END`` (END exclusive). :func:`compare` sets the ``ha`` hours beside the ``dso`` ones.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.errors import InvalidInput
from ..domain.period import Period
from ..models import READING_SOURCES, Pod, Reading, as_utc
from .registry import CommunityRules, RegistryError, community_document, load_rules
from .settlements import SettlementError, late_readings_of, load_ranked
from .sources import source_ranking

#: HA against the meter: an hour differs when |HA − DSO| is over both bounds
COMPARE_MIN_PCT = Decimal(2)
COMPARE_MIN_WH = 50
#: differing hours listed per POD (the count is always whole)
MAX_LISTED = 200


def parse_period(text: str, timezone: str) -> Period:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or a range of days ``YYYY-MM-DD..YYYY-MM-DD``."""
    first, dots, last = str(text).partition("..")
    if not dots:
        return Period.parse(text, timezone)
    try:
        start, end = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    except ValueError as err:
        raise InvalidInput.single("period", f"{text!r} is not a range of days") from err
    return Period.between(start, end + dt.timedelta(days=1), timezone)


async def _setup(
    engine: AsyncEngine, community_id: str, period_text: str | Period
) -> tuple[CommunityRules, Period, dict[str, str], dict[str, Any]]:
    async with engine.connect() as connection:
        try:
            rules = await load_rules(connection, community_id)
            document = await community_document(connection, community_id)
        except RegistryError as err:
            raise SettlementError(err.status, str(err)) from err
        try:
            period = (
                period_text
                if isinstance(period_text, Period)
                else parse_period(period_text, rules.timezone.key)
            )
        except InvalidInput as err:
            raise SettlementError(422, str(err)) from err
        members = {
            row.pod: row.member_id
            for row in (
                await connection.execute(
                    select(Pod.pod, Pod.member_id).where(Pod.community_id == community_id)
                )
            ).all()
        }
    return rules, period, members, document


def expected_hours(rules: CommunityRules, pods: list[str], period: Period) -> npt.NDArray[np.bool_]:
    """PODs × hours: True where the POD belonged to a member in the community."""
    expected = np.zeros((len(pods), period.hours), dtype=np.bool_)
    start = period.start_epoch_hour
    for row, pod in enumerate(pods):
        rule = rules.pods[pod]
        first = 0 if rule.valid_from is None else _hour(rule.valid_from) - start
        last = period.hours if rule.valid_until is None else _hour(rule.valid_until) - start
        expected[row, max(first, 0) : max(min(last, period.hours), 0)] = True
    return expected


def _hour(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // 3600


def missing_ranges(missing: npt.NDArray[np.bool_], period: Period) -> list[str]:
    """Runs of missing hours as ``START/END`` (ISO 8601 with offset, END exclusive)."""
    padded = np.concatenate([[False], missing, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [
        f"{_stamp(period, int(a))}/{_stamp(period, int(b))}"
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)
    ]


def _stamp(period: Period, index: int) -> str:
    return period.hour_start(index).isoformat(timespec="minutes")


def _pct(part: int, whole: int) -> float | None:
    if not whole:
        return None
    return float((Decimal(100 * part) / whole).quantize(Decimal("0.01"), ROUND_HALF_UP))


async def coverage(
    engine: AsyncEngine, community_id: str, period_text: str | Period
) -> dict[str, Any]:
    """Expected, present (by source) and missing POD-hours of a period, per POD and in all.

    A plain function for whoever needs the figures (the status command and route, the
    finalise guard, reports): ``coverage_pct`` is None when no hour is expected.
    """
    rules, period, members, document = await _setup(engine, community_id, period_text)
    pods = sorted(rules.pods)
    ranked = await load_ranked(engine, community_id, pods, period, source_ranking(document))
    expected = expected_hours(rules, pods, period)
    present = ranked.present & expected
    items = []
    for row, pod in enumerate(pods):
        want = int(expected[row].sum())
        have = int(present[row].sum())
        items.append(
            {
                "pod": pod,
                "member": members.get(pod),
                "expected": want,
                "present": have,
                "by_source": {
                    name: int(ranked.available[row, i])
                    for i, name in enumerate(READING_SOURCES)
                    if ranked.available[row, i]
                },
                "missing": want - have,
                "missing_ranges": missing_ranges(expected[row] & ~present[row], period),
                "coverage_pct": _pct(have, want),
            }
        )
    used = ranked.chosen[present]
    counts = np.bincount(used.astype(np.int64), minlength=len(READING_SOURCES))
    total_expected = int(expected.sum())
    total_present = int(present.sum())
    late = await late_readings_of(engine, community_id, period)
    return {
        "community": community_id,
        "period": str(period),
        "hours": period.hours,
        "expected": total_expected,
        "present": total_present,
        "missing": total_expected - total_present,
        "coverage_pct": _pct(total_present, total_expected),
        "ranking": list(source_ranking(document)),
        "readings_by_source": {name: int(counts[i]) for i, name in enumerate(READING_SOURCES)},
        "pods": items,
        # readings of a finalised period stored after it was finalised (#10: for a correction)
        "late": late,
    }


async def compare(
    engine: AsyncEngine, community_id: str, period_text: str | Period
) -> dict[str, Any]:
    """For PODs with both ``ha`` and ``dso`` hours: monthly totals and the hours that differ.

    An hour differs when, in either direction, |HA − DSO| > 2 % of the DSO value and > 50 Wh
    (a reversed current clamp or a wrong meter shows up here).
    """
    _, period, members, _ = await _setup(engine, community_id, period_text)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    Reading.pod,
                    Reading.hour_start,
                    Reading.source,
                    Reading.injected_wh,
                    Reading.withdrawn_wh,
                ).where(
                    Reading.community_id == community_id,
                    Reading.source.in_(("ha", "dso")),
                    Reading.hour_start >= period.start_utc,
                    Reading.hour_start < period.end_utc,
                )
            )
        ).all()
    values: dict[str, dict[str, dict[int, tuple[int, int]]]] = {}
    start = period.start_epoch_hour
    for r in rows:
        hour = int(as_utc(r.hour_start).timestamp()) // 3600 - start
        values.setdefault(r.pod, {}).setdefault(r.source, {})[hour] = (
            int(r.withdrawn_wh),
            int(r.injected_wh),
        )
    month_of = period.month_of_hour
    items = []
    for pod in sorted(values):
        by_source = values[pod]
        if "ha" not in by_source or "dso" not in by_source:
            continue
        ha, dso = by_source["ha"], by_source["dso"]
        months: dict[str, dict[str, dict[str, int]]] = {}
        for name, hours in (("ha", ha), ("dso", dso)):
            for hour, (withdrawn, injected) in hours.items():
                month = period.months[int(month_of[hour])]
                totals = months.setdefault(month, {}).setdefault(
                    name, {"hours": 0, "withdrawn_wh": 0, "injected_wh": 0}
                )
                totals["hours"] += 1
                totals["withdrawn_wh"] += withdrawn
                totals["injected_wh"] += injected
        differing = []
        both = sorted(set(ha) & set(dso))
        for hour in both:
            for k, direction in enumerate(("withdrawn_wh", "injected_wh")):
                if differs(ha[hour][k], dso[hour][k]):
                    differing.append(
                        {
                            "hour_start": period.hour_start(hour).isoformat(),
                            "direction": direction,
                            "ha_wh": ha[hour][k],
                            "dso_wh": dso[hour][k],
                        }
                    )
        items.append(
            {
                "pod": pod,
                "member": members.get(pod),
                "hours_both": len(both),
                "months": [{"month": m, **months[m]} for m in sorted(months)],
                "differing_hours": len({d["hour_start"] for d in differing}),
                "differences": differing[:MAX_LISTED],
            }
        )
    return {
        "community": community_id,
        "period": str(period),
        "threshold": {"pct": str(COMPARE_MIN_PCT), "wh": COMPARE_MIN_WH},
        "pods": items,
    }


def differs(ha_wh: int, dso_wh: int) -> bool:
    """|HA − DSO| > 2 % of the DSO value and > 50 Wh (both bounds)."""
    gap = abs(ha_wh - dso_wh)
    return gap > COMPARE_MIN_WH and gap * 100 > COMPARE_MIN_PCT * dso_wh
