"""The alert rules: one pure function per rule, of an :class:`AlertData` snapshot.

Each returns the causes in force at ``data.at`` as :class:`Finding` (one per cause key); the
lifecycle (open once, acknowledge, resolve, history) is in ``store.py``. Thresholds come from
``data.profile`` (``settings.alerts.<rule>.<name>``, defaults in
``cer_backend.domain.alert_thresholds``); the reasoning of each default is in docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import numpy as np

from ...domain.energy import HourlyEnergy
from ...domain.ha_sites import uploads_from_home_assistant
from ...domain.period import Period
from ...domain.prices import HourlyPrices
from ...domain.rules import SURPLUS_THRESHOLDS
from ...domain.settlement import settle
from .data import SECONDS_PER_HOUR, AlertData
from .messages import message, word
from .sun import elevations, midpoint_elevations


@dataclass(frozen=True)
class Finding:
    """A cause of an alert in force: ``cause`` is unique per community while it lasts."""

    kind: str
    cause: str
    message: str
    pod: str | None = None
    subject: str | None = None
    severity: str = "warning"
    details: dict[str, Any] = field(default_factory=dict)


def _finding(
    data: AlertData,
    kind: str,
    cause: str,
    values: dict[str, Any],
    *,
    pod: str | None = None,
    subject: str | None = None,
    severity: str = "warning",
    text: str | None = None,
) -> Finding:
    return Finding(
        kind=kind,
        cause=f"{kind}:{cause}" if cause else kind,
        message=message(text or kind, data.profile.language, values),
        pod=pod,
        subject=subject,
        severity=severity,
        details={k: v for k, v in values.items() if k != "where"},
    )


def _local(data: AlertData, epoch_hour: int) -> datetime:
    return datetime.fromtimestamp(epoch_hour * SECONDS_PER_HOUR, UTC).astimezone(data.zone)


def _member_pods(data: AlertData, day: dt.date) -> list[str]:
    """The PODs of the members on local ``day``."""
    return [pod for m in data.community.members if m.is_member_on(day) for pod in m.pods]


# --- site_silent ---------------------------------------------------------------------------


def site_silent(data: AlertData) -> list[Finding]:
    """A POD that uploaded from a Home Assistant in the last ``active_days`` days has sent no
    hour and no live figure for more than ``silent_hours`` hours, or its Home Assistant entry
    reports unavailable devices (issue #15).

    Only Home Assistant hours and live figures count (the distributor's data comes weeks
    later); a POD that did not upload from one in the last ``active_days`` days is not a site
    that went silent (``domain.ha_sites``, the same notion as the live "sites expected").
    Devices: the POD's latest live figure, at most ``silent_hours`` old, names devices that
    have been unavailable for at least ``unavailable_minutes`` (``POST /live``'s
    ``unavailable_devices``; an inverter asleep at night is not unavailable).
    """
    silent_hours = float(data.profile.value("site_silent", "silent_hours"))
    active_days = int(data.profile.value("site_silent", "active_days"))
    unavailable_minutes = float(data.profile.value("site_silent", "unavailable_minutes"))
    at_hour = data.at.timestamp() / SECONDS_PER_HOUR
    findings = []
    for pod in _member_pods(data, data.local_now.date()):
        row = data.row(pod)
        uploaded = np.flatnonzero(data.ha[row]) if row is not None else np.empty(0)
        last_ha = _local(data, data.first_hour + int(uploaded[-1]) + 1) if uploaded.size else None
        live = data.live.get(pod)
        if not uploads_from_home_assistant(last_ha, live, data.at, active_days):
            continue
        last_seen = max(m.timestamp() for m in (last_ha, live) if m is not None) / SECONDS_PER_HOUR
        silent_for = at_hour - last_seen
        if silent_for > silent_hours:
            seen = datetime.fromtimestamp(last_seen * SECONDS_PER_HOUR, UTC)
            values = {
                "where": data.label(pod),
                "silent_hours": int(silent_for),
                "last_seen": seen.astimezone(data.zone).strftime("%Y-%m-%d %H:%M"),
            }
            findings.append(_finding(data, "site_silent", pod, values, pod=pod))
            continue
        devices = data.unavailable.get(pod)
        if devices is None or live is None:
            continue
        names, since = devices
        fresh = data.at - live <= timedelta(hours=silent_hours)
        if fresh and data.at - since >= timedelta(minutes=unavailable_minutes):
            values = {
                "where": data.label(pod),
                "devices": ", ".join(names),
                "since": since.astimezone(data.zone).strftime("%Y-%m-%d %H:%M"),
            }
            findings.append(
                _finding(data, "site_silent", pod, values, pod=pod, text="site_silent_devices")
            )
    return findings


# --- data_incomplete -----------------------------------------------------------------------


def _month_before(day: dt.date) -> dt.date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def data_incomplete(data: AlertData) -> list[Finding]:
    """After day ``after_day`` of a month, the PODs without all the distributor's hours of
    the previous month (issue #15; the hours the POD's member belonged to the community,
    as in the completeness report of ``readings status``).

    Up to day ``after_day`` the month before is still judged, so an alert does not close
    only because a new month began.
    """
    after_day = int(data.profile.value("data_incomplete", "after_day"))
    today = data.local_now.date()
    month = _month_before(today) if today.day > after_day else _month_before(_month_before(today))
    end = (month + timedelta(days=32)).replace(day=1)
    findings = []
    for member in data.community.members:
        days = [
            month + timedelta(days=i)
            for i in range((end - month).days)
            if member.is_member_on(month + timedelta(days=i))
        ]
        if not days:
            continue
        for pod in member.pods:
            row = data.row(pod)
            expected = missing = 0
            for day in days:
                a, b = data.day_columns(day)
                hours = b - a
                expected += hours
                missing += hours if row is None else int((~data.dso[row, a:b]).sum())
            if missing:
                values = {
                    "where": data.label(pod),
                    "missing_hours": missing,
                    "expected_hours": expected,
                    "month": month.strftime("%Y-%m"),
                }
                findings.append(_finding(data, "data_incomplete", pod, values, pod=pod))
    return findings


# --- production_low ------------------------------------------------------------------------


def production_low(data: AlertData) -> list[Finding]:
    """In the last complete local day, a plant's daylight production below ``share_pct`` %
    of what the community's other plants produced per kW in the same hours, for
    ``min_hours`` or more hours (issue #15).

    Daylight: the sun at least ``min_sun_elevation_deg`` high in the middle of the hour, and
    the other plants at least ``min_reference_wh_per_kw`` (an overcast hour says nothing).
    Production is ``produced_wh`` where the site sends it. With only the meter's injection,
    the plant's production is at most injected − withdrawn + the largest withdrawal of its
    POD in the last ``load_days`` days (its load could have used the rest): an hour counts
    as low only when even that bound is below the share, so a building's own consumption
    never raises the alert.
    """
    p = data.profile.thresholds["production_low"]
    day = data.last_complete_day
    a, b = data.day_columns(day)
    if b - a < 20:
        return []
    plants = [
        plant
        for plant in data.community.plants
        if plant.commissioned <= day and data.row(plant.pod) is not None
    ]
    if len(plants) < 2:
        return []
    sun = midpoint_elevations(
        data.profile.latitude, data.profile.longitude, data.first_hour + a, b - a
    )
    daylight = sun >= float(p["min_sun_elevation_deg"])
    rows = [r for plant in plants if (r := data.row(plant.pod)) is not None]
    kw = np.array([float(plant.power_kw) for plant in plants])
    produced = data.produced[rows, a:b]
    injected = data.injected[rows, a:b]
    withdrawn = data.withdrawn[rows, a:b]
    present = data.present[rows, a:b]
    known = produced >= 0
    production = np.where(known, produced, injected).astype(np.float64)
    load_from = max(0, b - int(p["load_days"]) * 24)
    load_max = np.array(
        [float(data.withdrawn[r, load_from:b].max(initial=0)) for r in rows], dtype=np.float64
    )
    bound = np.where(known, produced, injected - withdrawn + load_max[:, None])
    share = float(p["share_pct"]) / 100
    findings = []
    for k, plant in enumerate(plants):
        others = [j for j in range(len(plants)) if j != k]
        low = judged = 0
        for h in np.flatnonzero(daylight & present[k]).tolist():
            peers = [j for j in others if present[j, h]]
            if not peers:
                continue
            reference = float(production[peers, h].sum()) / float(kw[peers].sum())
            if reference < float(p["min_reference_wh_per_kw"]):
                continue
            judged += 1
            if bound[k, h] < share * reference * kw[k]:
                low += 1
        if low >= int(p["min_hours"]):
            values = {
                "where": plant.id,
                "day": day.isoformat(),
                "share_pct": p["share_pct"],
                "low_hours": low,
                "judged_hours": judged,
            }
            findings.append(
                _finding(data, "production_low", plant.id, values, pod=plant.pod, subject=plant.id)
            )
    return findings


# --- lighting_daytime ----------------------------------------------------------------------


def lighting_daytime(data: AlertData) -> list[Finding]:
    """A POD with ``role: lighting`` drawing more than ``max_wh`` in an hour while the sun
    is more than ``sun_elevation_deg`` above the horizon (the whole hour); resolved after a
    daylight period without it (issue #15).

    The latest daylight period decides; while it is still under way and clean so far, the
    one before it does.
    """
    max_wh = float(data.profile.value("lighting_daytime", "max_wh"))
    limit = float(data.profile.value("lighting_daytime", "sun_elevation_deg"))
    lights = [pod for pod, role in data.profile.roles.items() if role == "lighting"]
    if not lights or data.hours == 0:
        return []
    first = max(0, data.hours - 72)
    edges = elevations(
        data.profile.latitude,
        data.profile.longitude,
        data.first_hour + first,
        data.hours - first + 2,
    )
    daylight = np.minimum(edges[:-1], edges[1:]) > limit  # hours first … hours (one beyond)
    periods: list[tuple[int, int]] = []  # [start, end) columns relative to ``first``
    h = 0
    while h < len(daylight):
        if daylight[h]:
            start = h
            while h < len(daylight) and daylight[h]:
                h += 1
            periods.append((start, h))
        else:
            h += 1
    done = data.hours - first  # columns with data
    periods = [(s, e) for s, e in periods if s < done]
    findings = []
    for pod in lights:
        row = data.row(pod)
        if row is None:
            continue
        drawn = data.withdrawn[row, first:]
        present = data.present[row, first:]
        for index in range(len(periods) - 1, -1, -1):
            s, e = periods[index]
            e_done = min(e, done)
            on = [i for i in range(s, e_done) if present[i] and drawn[i] > max_wh]
            if on:
                day = _local(data, data.first_hour + first + on[0]).date()
                values = {
                    "where": data.label(pod),
                    "hours": len(on),
                    "day": day.isoformat(),
                    "max_seen_wh": int(max(drawn[i] for i in on)),
                }
                findings.append(_finding(data, "lighting_daytime", pod, values, pod=pod))
                break
            if e <= done:  # a complete daylight period without it: resolved
                break
    return findings


# --- baseload_jump -------------------------------------------------------------------------


def _night_values(data: AlertData, row: int, hours: list[int], days: int) -> list[float | None]:
    """Mean withdrawal (Wh/h) of the night hours of each of the last ``days`` local days whose
    night hours have all ended, oldest first (None: a night with a missing hour)."""
    values: list[float | None] = []
    today = data.local_now.date()
    latest = max(hours) + 1
    last_day = today if data.local_now.hour >= latest else today - timedelta(days=1)
    for back in range(days - 1, -1, -1):
        day = last_day - timedelta(days=back)
        a, b = data.day_columns(day)
        base = data.column(datetime.combine(day, dt.time(0), tzinfo=data.zone))
        cols = [base + h for h in hours if 0 <= base + h < data.hours and base + h < b]
        if len(cols) != len(hours) or a >= b or not data.present[row, cols].all():
            values.append(None)
        else:
            values.append(float(data.withdrawn[row, cols].mean()))
    return values


def baseload_jump(data: AlertData) -> list[Finding]:
    """A building's night base load (mean withdrawal in ``night_hours``) above its
    ``median_days``-day median by more than ``rise_pct`` %, on each of the last ``nights``
    nights, and by at least ``min_rise_wh`` (issue #15). Buildings: PODs whose role is in
    ``roles`` (default ``building``).

    A building back to its usual level after a holiday (a school or a gym after the summer)
    is no jump: the level judged is the larger of the median and the ``usual_pct``
    percentile of the last ``usual_days`` nights (``usual_days: 0`` turns this off)."""
    p = data.profile.thresholds["baseload_jump"]
    roles = set(p["roles"])
    night_hours = [int(h) for h in p["night_hours"]]
    nights = max(1, int(p["nights"]))
    median_days = int(p["median_days"])
    rise = float(p["rise_pct"]) / 100
    findings = []
    for pod, role in data.profile.roles.items():
        row = data.row(pod)
        if role not in roles or row is None or not night_hours:
            continue
        usual_days = int(p["usual_days"])
        series = _night_values(data, row, night_hours, max(median_days, usual_days) + nights)
        recent = series[-nights:]
        history = [v for v in series[-nights - median_days : -nights] if v is not None]
        if len(history) < median_days // 2 or any(v is None for v in recent):
            continue
        median = statistics.median(history)
        usual = [v for v in series[-nights - usual_days : -nights] if v is not None]
        if usual_days and usual:
            level = float(np.percentile(usual, float(p["usual_pct"])))
            median = max(median, level)
        values_recent = [v for v in recent if v is not None]
        if all(
            v > median * (1 + rise) and v - median >= float(p["min_rise_wh"]) for v in values_recent
        ):
            values = {
                "where": data.label(pod),
                "night_wh": round(values_recent[-1]),
                "median_wh": round(median),
                "rise_pct": p["rise_pct"],
                "median_days": median_days,
            }
            findings.append(_finding(data, "baseload_jump", pod, values, pod=pod))
    return findings


# --- self_consumption_drop -----------------------------------------------------------------

#: a week counts only when this share of its POD-hours is present
MIN_WEEK_COVERAGE = 0.9


def _week_ratio(data: AlertData, end_day: dt.date) -> float | None:
    """Shared ÷ injected of the 7 local days ending on ``end_day`` (None: no data)."""
    a = data.day_columns(end_day - timedelta(days=6))[0]
    b = data.day_columns(end_day)[1]
    start = data.column(datetime.combine(end_day - timedelta(days=6), dt.time(0), tzinfo=data.zone))
    if start < 0 or b <= a:
        return None
    plant_rows = [
        r
        for plant in data.community.plants
        if plant.commissioned <= end_day and (r := data.row(plant.pod)) is not None
    ]
    member_rows = [r for pod in _member_pods(data, end_day) if (r := data.row(pod)) is not None]
    if not plant_rows or not member_rows:
        return None
    rows = sorted(set(plant_rows) | set(member_rows))
    if float(data.present[rows, a:b].mean()) < MIN_WEEK_COVERAGE:
        return None
    injected = data.injected[plant_rows, a:b].sum(axis=0)
    withdrawn = data.withdrawn[member_rows, a:b].sum(axis=0)
    total = int(injected.sum())
    if total <= 0:
        return None
    return int(np.minimum(injected, withdrawn).sum()) / total


def self_consumption_drop(data: AlertData) -> list[Finding]:
    """The community's shared ÷ injected ratio of the last 7 complete days below the median
    of the ``weeks`` weeks before by more than ``drop_pct`` % (issue #15); needs
    ``min_weeks`` weeks of history."""
    p = data.profile.thresholds["self_consumption_drop"]
    last = data.last_complete_day
    ratio = _week_ratio(data, last)
    history = [
        r
        for k in range(1, int(p["weeks"]) + 1)
        if (r := _week_ratio(data, last - timedelta(days=7 * k))) is not None
    ]
    if ratio is None or len(history) < int(p["min_weeks"]):
        return []
    median = statistics.median(history)
    if ratio >= median * (1 - float(p["drop_pct"]) / 100):
        return []
    values = {
        "ratio_pct": f"{ratio * 100:.1f}",
        "median_pct": f"{median * 100:.1f}",
        "weeks": int(p["weeks"]),
        "drop_pct": p["drop_pct"],
        "week_ending": last.isoformat(),
    }
    return [_finding(data, "self_consumption_drop", "", values)]


# --- surplus_threshold ---------------------------------------------------------------------


def surplus_threshold(data: AlertData) -> list[Finding]:
    """The year-to-date incentivised ÷ injected ratio of a set of plants at or above its
    threshold (55 % TIP only, 45 % with a capital grant; GSE-RULES §4) minus
    ``margin_points``: money will be, or is being, earmarked for non-business consumers or
    social purposes (issue #15)."""
    margin = Fraction(Decimal(str(data.profile.value("surplus_threshold", "margin_points"))))
    last = data.last_complete_day
    first = dt.date(last.year, 1, 1)
    a = data.day_columns(first)[0]
    b = data.day_columns(last)[1]
    if b <= a or not data.community.plants:
        return []
    period = Period.between(first, last + timedelta(days=1), data.community.timezone)
    if data.column(period.start_utc) != a or b - a != period.hours:
        return []
    energy = HourlyEnergy.from_arrays(
        period,
        list(data.pods),
        data.injected[:, a:b],
        data.withdrawn[:, a:b],
        data.present[:, a:b],
    )
    result = settle(data.community, energy, HourlyPrices(), period)
    findings = []
    for entry in result.surplus_sets:
        injected = int(entry["injected_wh"])
        if injected <= 0:
            continue
        ratio = Fraction(int(entry["incentivised_wh"]), injected)
        threshold = Fraction(SURPLUS_THRESHOLDS[entry["set"]])
        if ratio >= threshold - margin / 100:
            values = {
                "set": entry["set"],
                "ratio_pct": f"{float(ratio) * 100:.1f}",
                "threshold_pct": f"{float(threshold) * 100:.0f}",
                "since": first.isoformat(),
                "earmarked": ratio > threshold,
            }
            findings.append(
                _finding(
                    data,
                    "surplus_threshold",
                    str(entry["set"]),
                    values,
                    subject=str(entry["set"]),
                    severity="info",
                )
            )
    return findings


# --- member_leaving ------------------------------------------------------------------------


def member_leaving(data: AlertData) -> list[Finding]:
    """A member whose leave date (the first day no longer a member) is within ``days``
    days (issue #15): its PODs and plants leave the settlement from that day."""
    horizon = int(data.profile.value("member_leaving", "days"))
    today = data.local_now.date()
    findings = []
    for member in data.community.members:
        if member.left is None or not today < member.left <= today + timedelta(days=horizon):
            continue
        values = {
            "where": member.id,
            "left": member.left.isoformat(),
            "days": (member.left - today).days,
        }
        findings.append(
            _finding(data, "member_leaving", member.id, values, subject=member.id, severity="info")
        )
    return findings


# --- gse_discrepancy, gse_payment_late -----------------------------------------------------


def _current_run(data: AlertData, period: str) -> Any:
    runs = [r for r in data.runs if r.period == period and not r.superseded]
    finals = [r for r in runs if r.status == "final"]
    chosen = finals or runs
    return chosen[-1] if chosen else None


def _ours(run: Any, configuration: str, cabina: str) -> dict[str, Any] | None:
    result = run.result
    for entry in result.get("configurations") or []:
        if entry.get("cabina_primaria") == configuration:
            return dict(entry)
    return dict(result) if configuration == cabina else None


def gse_discrepancy(data: AlertData) -> list[Finding]:
    """What the GSE announced for a period (shared energy, TIP) differs from our run of the
    same period by more than ``tolerance_pct`` % of the energy or ``tolerance_eur`` of the
    TIP (issue #15). Needs the GSE figures of issue #10; skipped without them."""
    if data.gse is None:
        return []
    tolerance = Fraction(Decimal(str(data.profile.value("gse_discrepancy", "tolerance_pct"))))
    tolerance_eur = Decimal(str(data.profile.value("gse_discrepancy", "tolerance_eur")))
    findings = []
    for row in data.gse:
        if row.kind not in ("conguaglio", "rettifica"):
            continue
        run = _current_run(data, row.period)
        ours = (
            None if run is None else _ours(run, row.configuration, data.community.cabina_primaria)
        )
        if ours is None:
            continue
        problems: list[tuple[str, str, str]] = []
        if row.shared_wh is not None and ours.get("shared_wh") is not None:
            diff = abs(int(ours["shared_wh"]) - row.shared_wh)
            if diff > tolerance / 100 * max(row.shared_wh, 1):
                problems.append(
                    (
                        word("shared energy", data.profile.language),
                        f"{row.shared_wh / 1000:.3f} kWh",
                        f"{int(ours['shared_wh']) / 1000:.3f} kWh",
                    )
                )
        if (
            row.tip_eur is not None
            and ours.get("tip_eur") is not None
            and abs(Decimal(str(ours["tip_eur"])) - Decimal(row.tip_eur)) > tolerance_eur
        ):
            problems.append(("TIP", f"{row.tip_eur} €", f"{ours['tip_eur']} €"))
        for what, gse, mine in problems:
            values = {
                "period": row.period,
                "configuration": row.configuration,
                "what": what,
                "gse": gse,
                "ours": mine,
                "run_id": run.run_id,
            }
            cause = f"{row.configuration}:{row.period}:{'tip' if what == 'TIP' else 'energy'}"
            findings.append(_finding(data, "gse_discrepancy", cause, values, subject=row.period))
    return findings


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def gse_payment_late(data: AlertData) -> list[Finding]:
    """No monthly advance (acconto) recorded for a month whose payment is due: by the end of
    the ``due_months``-th month after it, plus ``grace_days`` (issue #15). Judged from the
    first month the community recorded an acconto of the configuration, so a community that
    does not key in the GSE's figures gets no alert; skipped without the table of #10."""
    if data.gse is None:
        return []
    due_months = int(data.profile.value("gse_payment_late", "due_months"))
    grace = int(data.profile.value("gse_payment_late", "grace_days"))
    today = data.local_now.date()
    by_configuration: dict[str, set[str]] = {}
    for row in data.gse:
        if row.kind == "acconto" and len(row.period) == 7:
            by_configuration.setdefault(row.configuration, set()).add(row.period)
    findings = []
    for configuration, months in sorted(by_configuration.items()):
        first = dt.date.fromisoformat(min(months) + "-01")
        month = first
        while True:
            due = _add_months(month, due_months + 1) - timedelta(days=1)
            if today <= due + timedelta(days=grace):
                break
            label = month.strftime("%Y-%m")
            if label not in months:
                values = {"period": label, "configuration": configuration, "due": due.isoformat()}
                findings.append(
                    _finding(
                        data,
                        "gse_payment_late",
                        f"{configuration}:{label}",
                        values,
                        subject=label,
                    )
                )
            month = _add_months(month, 1)
    return findings


# --- run_incomplete ------------------------------------------------------------------------


def run_incomplete(data: AlertData) -> list[Finding]:
    """The latest draft run of a period has POD-hours without readings or hours without a
    price (what ``GET /alerts`` listed before issue #15); resolved by a newer complete run
    or a final one."""
    latest: dict[str, Any] = {}
    for run in data.runs:
        latest[run.period] = run
    findings = []
    for period, run in sorted(latest.items()):
        if run.status != "draft" or not (run.missing_readings or run.missing_prices):
            continue
        values = {
            "period": period,
            "run_id": run.run_id,
            "missing_readings": run.missing_readings,
            "missing_prices": run.missing_prices,
        }
        findings.append(_finding(data, "run_incomplete", period, values, subject=period))
    return findings


#: every rule, by the kind of alert it raises
RULES: Final[dict[str, Callable[[AlertData], list[Finding]]]] = {
    "site_silent": site_silent,
    "data_incomplete": data_incomplete,
    "production_low": production_low,
    "lighting_daytime": lighting_daytime,
    "baseload_jump": baseload_jump,
    "self_consumption_drop": self_consumption_drop,
    "surplus_threshold": surplus_threshold,
    "member_leaving": member_leaving,
    "gse_discrepancy": gse_discrepancy,
    "gse_payment_late": gse_payment_late,
    "run_incomplete": run_incomplete,
}


def evaluate(data: AlertData, kinds: set[str] | None = None) -> list[Finding]:
    """Every finding of the enabled rules (or of ``kinds`` only), in rule order."""
    findings: list[Finding] = []
    for kind, rule in RULES.items():
        if not data.profile.enabled.get(kind, True) or (kinds is not None and kind not in kinds):
            continue
        findings.extend(rule(data))
    return findings
