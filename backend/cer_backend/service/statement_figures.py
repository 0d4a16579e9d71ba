"""Figures the reports need beyond the engine's totals, computed when a run is made.

- ``profile["shared_wh_by_day"]``: the community's shared energy per local day (chart of a
  monthly report);
- ``result["member_months"]``: per member and month, the energy withdrawn within the
  membership and the coincident (shared) energy, for the member's statement. The withdrawn
  energy is exact; the shared energy of each month is the member's hourly share of the
  hour's shared energy (E_cond,h × member's E_prel,h ÷ community's E_prel,h), its months
  rounded to the Wh by largest remainder so that they add up to the member's ``shared_wh``
  of the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def add_report_figures(
    data: dict[str, Any], profile: dict[str, Any], inputs: Any, result: Any
) -> None:
    """Add ``shared_wh_by_day`` to the profile and ``member_months`` to the result."""
    period = inputs.period
    shared = np.asarray(result.hourly.shared_wh, dtype=np.int64)
    day_starts = period.day_starts[:-1]
    by_day = np.add.reduceat(shared, day_starts) if shared.size else np.zeros(0, np.int64)
    profile["shared_wh_by_day"] = {
        day.isoformat(): int(value) for day, value in zip(period.days, by_day.tolist(), strict=True)
    }
    data["member_months"] = member_months(inputs, result)


def member_months(inputs: Any, result: Any) -> dict[str, list[dict[str, Any]]]:
    """Per member: ``[{"month", "withdrawn_wh", "shared_wh"}]`` over the period's months."""
    period = inputs.period
    energy = inputs.energy
    community = inputs.community
    hours = period.hours
    offset = period.start_epoch_hour - energy.period.start_epoch_hour
    withdrawn = np.asarray(energy.withdrawn)[:, offset : offset + hours]
    row_of = {pod: i for i, pod in enumerate(energy.pods)}
    shared_h = np.asarray(result.hourly.shared_wh, dtype=np.float64)
    withdrawn_h = np.asarray(result.hourly.withdrawn_wh, dtype=np.float64)
    ratio = np.divide(shared_h, withdrawn_h, out=np.zeros(hours), where=withdrawn_h > 0)
    starts = period.month_starts
    totals = {m.id: m.shared_wh for m in result.members}
    out: dict[str, list[dict[str, Any]]] = {}
    for member in community.members:
        if member.id not in totals:
            continue
        first = max(member.joined, community.constituted)
        a = period.hour_index(first)
        b = hours if member.left is None else period.hour_index(member.left)
        own = np.zeros(hours, dtype=np.int64)
        if b > a:
            for pod in member.pods:
                row = row_of.get(pod)
                if row is not None:
                    own[a:b] += withdrawn[row, a:b]
        months_withdrawn = np.add.reduceat(own, starts).tolist()
        weights = np.add.reduceat(own * ratio, starts).tolist()
        months_shared = _largest_remainder(weights, int(totals[member.id]))
        out[member.id] = [
            {"month": month, "withdrawn_wh": int(w), "shared_wh": int(s)}
            for month, w, s in zip(period.months, months_withdrawn, months_shared, strict=True)
        ]
    return out


def _largest_remainder(weights: list[float], total: int) -> list[int]:
    """Whole numbers in proportion to ``weights`` that add up to ``total``."""
    whole = sum(weights)
    if whole <= 0 or total <= 0:
        return [0] * len(weights)
    quotas = [w * total / whole for w in weights]
    floors = [int(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[: total - sum(floors)]:
        floors[i] += 1
    return floors
