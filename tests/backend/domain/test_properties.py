"""Property tests of the engine (hypothesis): conservation, exact cents, order independence."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer_backend.domain import rules
from cer_backend.domain.community import parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices
from cer_backend.domain.settlement import settle

from .builders import pod

PERIOD = Period.parse("2025-10-26")  # 25 hours: the clock change is part of every case
HOURS = PERIOD.hours


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, Any, int, int]], HourlyPrices]:
    n_plants = draw(st.integers(1, 3))
    n_consumers = draw(st.integers(1, 4))
    plants = []
    for k in range(n_plants):
        plants.append(
            {
                "id": f"p{k}",
                "pod": pod(k + 1),
                "owner": "comune",
                "power_kw": draw(st.sampled_from([3, 20, 150, 200, 450, 600, 900])),
                "source": draw(st.sampled_from(["pv", "pv", "wind", "hydro"])),
                "commissioned": draw(st.sampled_from(["2019-03-01", "2024-05-01", "2025-10-26"])),
                "capital_grant_pct": draw(st.sampled_from([0, 0, 10, 40])),
            }
        )
    members = [
        {
            "id": "comune",
            "name": "Comune",
            "type": "municipality",
            "pods": [pod(k + 1) for k in range(n_plants)],
        }
    ]
    for c in range(n_consumers):
        members.append(
            {
                "id": f"c{c}",
                "name": f"C{c}",
                "type": draw(st.sampled_from(sorted(rules.MEMBER_TYPES))),
                "pods": [pod(100 + c)],
                **({"joined": "2025-10-27"} if draw(st.booleans()) and c else {}),
            }
        )
    statute = {
        "management_pct": draw(st.sampled_from([0, 7.5, 15, 33])),
        "management_from": draw(st.sampled_from(["tip", "total"])),
        "valorisation_to": draw(st.sampled_from(["plant_owners", "pool"])),
        "social_fund_pct": draw(st.sampled_from([0, 5])),
        "investment_fund_pct": draw(st.sampled_from([0, 12.5])),
        "producers_pct": draw(st.sampled_from([0, 30])),
        "consumers_by": draw(st.sampled_from(["coincident_withdrawal", "withdrawal", "equal"])),
        "surplus_to": draw(st.sampled_from(["non_business_consumers", "social_fund"])),
    }
    data = {
        "community": {
            "name": "Prop",
            "region": draw(st.sampled_from(["Lombardia", "Lazio", "Sicilia"])),
            "cabina_primaria": "AC001E01725",
            "constituted": "2024-01-01",
            "cu_afa_eur_mwh": {"2025": Decimal("10.57")},
            "statute": statute,
        },
        "members": members,
        "plants": plants,
    }
    rows = []
    amounts = st.integers(0, 200_000)
    for code in [pod(k + 1) for k in range(n_plants)] + [pod(100 + c) for c in range(n_consumers)]:
        for h in range(HOURS):
            if draw(st.integers(0, 9)) == 0:
                continue  # a missing hour
            injected = draw(amounts) if code < pod(100) else 0
            rows.append((code, PERIOD.hour_start(h), injected, draw(amounts)))
    zone = parse_community(data).market_zone
    prices = HourlyPrices.from_rows(
        (zone, PERIOD.hour_start(h), Decimal(draw(st.integers(-5_000, 40_000))) / 100)
        for h in range(HOURS)
    )
    return data, rows, prices


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_engine_properties(case: tuple[dict[str, Any], list[Any], HourlyPrices], seed: int) -> None:
    data, rows, prices = case
    community = parse_community(data)
    energy = HourlyEnergy.from_rows(rows, PERIOD)
    result = settle(community, energy, prices, PERIOD)
    out = result.to_json_dict()

    # shared ≤ min(Σ injected, Σ withdrawn), hour by hour and in total
    hourly = result.hourly
    assert (hourly.shared_wh <= hourly.injected_wh).all()
    assert (hourly.shared_wh <= hourly.withdrawn_wh).all()
    assert out["shared_wh"] <= min(out["injected_wh"], out["withdrawn_wh"])
    assert out["incentivised_wh"] <= out["shared_wh"]

    # allocations sum to the shared energy; so do the members' coincident shares
    assert sum(p["allocated_wh"] for p in out["plants"]) == out["shared_wh"]
    assert sum(m.shared_wh for m in result.members) == out["shared_wh"]

    # members + management + funds = tip_eur + valorisation_eur, to the cent
    distributed = (
        sum(_cents(m["amount_eur"]) for m in out["members"])
        + _cents(out["management_eur"])
        + _cents(out["funds"]["social_eur"])
        + _cents(out["funds"]["investment_eur"])
    )
    assert distributed == _cents(out["tip_eur"]) + _cents(out["valorisation_eur"])
    for m in out["members"]:
        assert sum(_cents(v) for v in m["parts"].values()) == _cents(m["amount_eur"])

    # the input's row order does not matter
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    again = settle(community, HourlyEnergy.from_rows(shuffled, PERIOD), prices, PERIOD)
    assert again.to_json_dict() == out
