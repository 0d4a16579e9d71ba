"""The thresholds of the alert rules, as data, with their defaults (docs/alerts.md).

A community overrides any of them under ``settings.alerts.<rule>.<name>`` of its community
file; ``settings.alerts.<rule>.enabled: false`` turns a rule off. The rules themselves are in
``cer_backend.service.alerts.rules``; the reasoning for each default is in docs/alerts.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

#: every rule's thresholds and their defaults
DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "site_silent": {"silent_hours": 3, "active_days": 14, "unavailable_minutes": 60},
    "data_incomplete": {"after_day": 10},
    "production_low": {
        "share_pct": 60,
        "min_hours": 3,
        "min_sun_elevation_deg": 15,
        "min_reference_wh_per_kw": 150,
        "load_days": 90,
    },
    "lighting_daytime": {"max_wh": 200, "sun_elevation_deg": 5},
    "baseload_jump": {
        "rise_pct": 50,
        "median_days": 28,
        "usual_days": 90,
        "usual_pct": 75,
        "nights": 2,
        "night_hours": [0, 1, 2, 3, 4],
        "min_rise_wh": 100,
        "roles": ["building"],
    },
    "self_consumption_drop": {"drop_pct": 20, "weeks": 8, "min_weeks": 4},
    "surplus_threshold": {"margin_points": 5},
    "member_leaving": {"days": 30},
    "gse_discrepancy": {"tolerance_pct": 1, "tolerance_eur": 1},
    "gse_payment_late": {"due_months": 2, "grace_days": 15},
    "run_incomplete": {},
}

KINDS: Final = tuple(DEFAULTS)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _fits(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if _is_number(default):
        return _is_number(value)
    if isinstance(default, list):
        return isinstance(value, list) and all(
            _is_number(v) if default and _is_number(default[0]) else isinstance(v, str)
            for v in value
        )
    return isinstance(value, type(default))


def alert_settings_problems(value: Any, path: str = "settings.alerts") -> list[tuple[str, str]]:
    """Problems of a ``settings.alerts`` block as (path, message): unknown alerts or
    thresholds, values unlike their default, negative numbers."""
    problems: list[tuple[str, str]] = []
    if value is None:
        return problems
    if not isinstance(value, Mapping):
        return [(path, "must be a mapping of alert → thresholds")]
    for rule, values in value.items():
        where = f"{path}.{rule}"
        if rule not in DEFAULTS:
            problems.append((where, f"unknown alert (expected one of: {', '.join(DEFAULTS)})"))
            continue
        if not isinstance(values, Mapping):
            problems.append((where, "must be a mapping of threshold → value"))
            continue
        for name, item in values.items():
            if name == "enabled":
                if not isinstance(item, bool):
                    problems.append((f"{where}.enabled", "must be true or false"))
                continue
            if name not in DEFAULTS[rule]:
                known = ", ".join(["enabled", *DEFAULTS[rule]])
                problems.append(
                    (f"{where}.{name}", f"unknown threshold (expected one of: {known})")
                )
                continue
            default = DEFAULTS[rule][name]
            if not _fits(default, item):
                problems.append((f"{where}.{name}", f"must be of the kind of {default!r}"))
            elif _is_number(item) and item < 0:
                problems.append((f"{where}.{name}", "must be ≥ 0"))
    return problems


def merged_thresholds(value: Any) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
    """(thresholds, enabled) of every rule: the defaults with a valid ``settings.alerts`` over
    them (invalid entries keep their default)."""
    bad = {where for where, _ in alert_settings_problems(value)}
    thresholds = {rule: dict(values) for rule, values in DEFAULTS.items()}
    enabled = dict.fromkeys(DEFAULTS, True)
    if isinstance(value, Mapping) and "settings.alerts" not in bad:
        for rule, values in value.items():
            if rule not in DEFAULTS or not isinstance(values, Mapping):
                continue
            for name, item in values.items():
                if f"settings.alerts.{rule}.{name}" in bad:
                    continue
                if name == "enabled":
                    enabled[rule] = bool(item)
                elif _is_number(item):
                    thresholds[rule][name] = float(item) if isinstance(item, Decimal) else item
                else:
                    thresholds[rule][name] = item
    return thresholds, enabled
