"""Property tests (hypothesis) of a community with several configurations (GSE-RULES §1):
each configuration is settled from its own points only, its money rounded on its own, and
the community's figures are the sums."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer_backend.domain.community import parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices
from cer_backend.domain.settlement import settle

from .builders import pod

PERIOD = Period.parse("2025-10-26")  # 25 hours
HOURS = PERIOD.hours
CABINE = ["AC001E01725", "AC001E01726", "AC001E01727"]
WH_KEYS = ("injected_wh", "withdrawn_wh", "shared_wh", "incentivised_wh")
EUR_KEYS = ("tip_eur", "valorisation_eur", "surplus_earmarked_eur", "rid_eur", "gse_fees_eur")


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, Any, int, int]], HourlyPrices]:
    n_plants = draw(st.integers(1, 4))
    n_consumers = draw(st.integers(1, 5))
    n_cabine = draw(st.integers(2, 3))

    def point(code: str) -> Any:
        cabina = CABINE[draw(st.integers(0, n_cabine - 1))]
        return code if cabina == CABINE[0] else {"pod": code, "cabina_primaria": cabina}

    plants = [
        {
            "id": f"p{k}",
            "pod": pod(k + 1),
            "owner": "comune",
            "power_kw": draw(st.sampled_from([3, 20, 150, 450, 900])),
            "source": draw(st.sampled_from(["pv", "pv", "wind"])),
            "commissioned": draw(st.sampled_from(["2019-03-01", "2024-05-01", "2025-10-26"])),
            "capital_grant_pct": draw(st.sampled_from([0, 10, 40])),
        }
        for k in range(n_plants)
    ]
    members = [
        {
            "id": "comune",
            "name": "Comune",
            "type": "municipality",
            "pods": [point(pod(k + 1)) for k in range(n_plants)],
        }
    ]
    members += [
        {
            "id": f"c{c}",
            "name": f"C{c}",
            "type": draw(st.sampled_from(["person", "sme", "association", "environmental"])),
            "pods": [point(pod(100 + c))],
        }
        for c in range(n_consumers)
    ]
    data = {
        "community": {
            "name": "Prop",
            "region": draw(st.sampled_from(["Lombardia", "Lazio", "Sicilia"])),
            "cabina_primaria": CABINE[0],
            "constituted": "2024-01-01",
            "cu_afa_eur_mwh": {"2025": Decimal("10.57")},
            "statute": {
                "management_pct": draw(st.sampled_from([0, 15])),
                "management_from": draw(st.sampled_from(["tip", "total"])),
                "valorisation_to": draw(st.sampled_from(["plant_owners", "pool"])),
                "producers_pct": draw(st.sampled_from([0, 30])),
                "surplus_to": "social_fund",
            },
        },
        "members": members,
        "plants": plants,
    }
    rows = []
    amounts = st.integers(0, 200_000)
    for code in [pod(k + 1) for k in range(n_plants)] + [pod(100 + c) for c in range(n_consumers)]:
        for h in range(HOURS):
            if draw(st.integers(0, 9)) == 0:
                continue
            injected = draw(amounts) if code < pod(100) else 0
            rows.append((code, PERIOD.hour_start(h), injected, draw(amounts)))
    zone = parse_community(data).market_zone
    prices = HourlyPrices.from_rows(
        (zone, PERIOD.hour_start(h), Decimal(draw(st.integers(-5_000, 40_000))) / 100)
        for h in range(HOURS)
    )
    return data, rows, prices


def only(data: dict[str, Any], cabina: str) -> dict[str, Any]:
    """The community reduced to the points and plants under ``cabina``."""
    out = copy.deepcopy(data)
    community = parse_community(data)
    for entry in out["members"]:
        entry["pods"] = [
            p
            for p in entry["pods"]
            if community.cabina_of(p if isinstance(p, str) else p["pod"]) == cabina
        ]
    out["plants"] = [p for p in out["plants"] if community.cabina_of(p["pod"]) == cabina]
    return out


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_configurations_are_settled_apart_and_summed(
    case: tuple[dict[str, Any], list[Any], HourlyPrices],
) -> None:
    data, rows, prices = case
    community = parse_community(data)
    energy = HourlyEnergy.from_rows(rows, PERIOD)
    out = settle(community, energy, prices, PERIOD).to_json_dict()
    configurations = out["configurations"]
    assert [c["cabina_primaria"] for c in configurations] == list(community.configurations)

    for conf in configurations:
        # per configuration: shared ≤ min(injected, withdrawn), incentivised ≤ shared
        assert conf["shared_wh"] <= min(conf["injected_wh"], conf["withdrawn_wh"])
        assert conf["incentivised_wh"] <= conf["shared_wh"]
        # and it is what the configuration alone would give: nothing crosses cabine
        if not conf["plants"]:
            assert conf["shared_wh"] == 0 and conf["tip_eur"] == "0.00"
            continue
        alone = settle(parse_community(only(data, conf["cabina_primaria"])), energy, prices, PERIOD)
        alone_out = alone.to_json_dict()
        for key in (*WH_KEYS, *EUR_KEYS):
            assert conf[key] == alone_out[key], key

    # the community's totals are the sums of its configurations' (rounded) figures
    for key in WH_KEYS:
        assert out[key] == sum(c[key] for c in configurations), key
    for key in EUR_KEYS:
        assert cents(out[key]) == sum(cents(c[key]) for c in configurations), key
    assert sum(p["allocated_wh"] for p in out["plants"]) == out["shared_wh"]
    assert sum(m["shared_wh"] for m in out["members"]) == out["shared_wh"]

    # members + management + funds add up to the cent to the reported TIP + valorisation
    distributed = (
        sum(cents(m["amount_eur"]) for m in out["members"])
        + cents(out["management_eur"])
        + cents(out["funds"]["social_eur"])
        + cents(out["funds"]["investment_eur"])
    )
    assert distributed == cents(out["tip_eur"]) + cents(out["valorisation_eur"])
