"""Generic input safety at the API layer (issue #12): checks every endpoint shares.

The registry's business rules live with the registry; here is only what keeps any input from
reaching the database or memory in a form they cannot hold: non-finite numbers, values beyond
their bounds, times outside 2000–2100.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import as_utc
from ..service.bounds import MAX_POWER_W, year_in_range
from ..service.registry import CommunityRules
from .problems import ApiError
from .schemas import parse_datetime


def wire_time(value: str, field: str) -> datetime:
    """A time on the wire as aware UTC: 422 unless it has an offset and is in 2000–2100."""
    parsed = parse_datetime(value)
    if parsed is None or not year_in_range(parsed):
        raise ApiError(
            422,
            f"{field} must be an ISO 8601 date-time with offset between 2000 and 2100",
            errors=[{"field": field, "message": "out of range (2000–2100)"}],
        )
    return as_utc(parsed)


def check_live_figures(body: dict[str, Any], rules: CommunityRules, pod: str) -> None:
    """A live snapshot's figures within the point's bounds (the stricter of the point's
    plausibility bound and the community's ``max_hour_wh``); 422 otherwise, nothing kept."""
    rule = rules.pods[pod]
    cap = rules.max_hour_wh
    bounds = (
        ("injection_w", MAX_POWER_W),
        ("withdrawal_w", MAX_POWER_W),
        ("hour_injected_wh", min(rule.max_injected_wh, cap)),
        ("hour_withdrawn_wh", min(rule.max_withdrawn_wh, cap)),
    )
    errors = [
        {"field": name, "message": f"must be at most {limit}"}
        for name, limit in bounds
        if body[name] > limit
    ]
    if errors:
        raise ApiError(422, "a live figure is implausible for this point", errors=errors)
