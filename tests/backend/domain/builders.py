"""Builders of small communities and hourly data for the engine's tests."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from cer_backend.domain.community import Community, parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices

BASE: dict[str, Any] = {
    "community": {
        "name": "CER Test",
        "region": "Sicilia",
        "cabina_primaria": "AC001E01725",
        "constituted": "2024-01-01",
        "cu_afa_eur_mwh": {"2024": Decimal("10.57"), "2025": Decimal("10.57")},
        "statute": {
            "management_pct": 0,
            "management_from": "tip",
            "valorisation_to": "pool",
        },
    },
    "members": [
        {"id": "comune", "name": "Comune", "type": "municipality", "pods": ["IT001E00000001"]},
        {"id": "rossi", "name": "Rossi", "type": "person", "pods": ["IT001E00000002"]},
    ],
    "plants": [
        {
            "id": "scuola",
            "pod": "IT001E00000001",
            "owner": "comune",
            "power_kw": 100,
            "source": "pv",
            "commissioned": "2024-03-01",
        }
    ],
}


def community_data(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE; ``community=``/``statute=`` keys update, others replace."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "statute":
            data["community"]["statute"].update(value)
        elif key in data:
            data[key] = value
        else:
            data["community"][key] = value
    return data


def make_community(**changes: Any) -> Community:
    """``parse_community(community_data(**changes))``."""
    return parse_community(community_data(**changes))


def pod(n: int) -> str:
    """The test POD number ``n``."""
    return f"IT001E{n:08d}"


def one_hour(
    day: str,
    injected: dict[str, int],
    withdrawn: dict[str, int],
    hour: int = 12,
) -> tuple[Period, HourlyEnergy]:
    """A day period whose local hour ``hour`` has the given readings (others absent)."""
    period = Period.parse(day)
    start = period.hour_start(hour)
    pods = sorted(set(injected) | set(withdrawn))
    rows = [(p, start, injected.get(p, 0), withdrawn.get(p, 0)) for p in pods]
    return period, HourlyEnergy.from_rows(rows, period)


def flat_prices(period: Period, zone: str, eur_mwh: str | Decimal) -> HourlyPrices:
    """The same price in every hour of ``period``."""
    return HourlyPrices.from_rows(
        (zone, period.hour_start(h), Decimal(eur_mwh)) for h in range(period.hours)
    )


def local(text: str) -> dt.datetime:
    """``datetime.fromisoformat``."""
    return dt.datetime.fromisoformat(text)


def plant(
    plant_id: str,
    pod_code: str,
    power_kw: Any,
    commissioned: str,
    owner: str = "comune",
    **extra: Any,
) -> dict[str, Any]:
    """A plant entry of a community file."""
    return {
        "id": plant_id,
        "pod": pod_code,
        "owner": owner,
        "power_kw": power_kw,
        "source": extra.pop("source", "pv"),
        "commissioned": commissioned,
        **extra,
    }


def member(member_id: str, member_type: str, pods: Sequence[str], **extra: Any) -> dict[str, Any]:
    """A member entry of a community file."""
    return {
        "id": member_id,
        "name": member_id.title(),
        "type": member_type,
        "pods": list(pods),
        **extra,
    }
