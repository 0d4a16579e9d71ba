"""The ``project`` study: yearly energies with degradation, money, present value."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.projection import parse_study, project

STUDY: dict[str, Any] = {
    "study": {
        "years": 20,
        "first_year": 2025,
        "degradation_pct": Decimal("0.4"),
        "discount_rate_pct": Decimal("4.45"),
        "zonal_price_eur_mwh": 130,
        "energy_price_eur_kwh": Decimal("0.35"),
        "cu_afa_eur_mwh": Decimal("10.57"),
        "region": "Sicilia",
    },
    "plants": [
        {
            "id": "santa_chiara",
            "power_kw": 20,
            "produced_kwh": 33780,
            "self_consumed_kwh": 16890,
            "shared_fraction": Decimal("0.95"),
        }
    ],
}


def test_first_and_second_year_by_hand() -> None:
    result = project(parse_study(STUDY)).to_json_dict()
    first, second = result["years"][0], result["years"][1]
    # injected 16,890 kWh; shared 95 % = 16,045.5 kWh; TIP 120 €/MWh (Sud, Pz 130)
    assert first["year"] == 2025
    assert first["produced_kwh"] == 33780
    assert first["injected_kwh"] == 16890
    assert first["shared_kwh"] == 16046  # 16,045.5 half-up
    assert first["tip_eur"] == "1925.46"  # 16,045.5 × 0.120
    assert first["valorisation_eur"] == "169.60"  # 16,045.5 × 0.01057 = 169.600935
    assert first["rid_eur"] == "2195.70"  # 16,890 × 0.130
    assert first["savings_eur"] == "5911.50"  # 16,890 × 0.35
    assert first["present_value_eur"] == "2095.06"
    # year 2: × 0.996, discounted by 1.0445
    tip2 = Fraction("16045.5") * Fraction("0.996") * Fraction("0.120")
    val2 = Fraction("16045.5") * Fraction("0.996") * Fraction("10.57") / 1000
    pv2 = (tip2 + val2) / Fraction("1.0445")
    assert second["present_value_eur"] == f"{float(pv2):.2f}"
    assert second["produced_kwh"] == 33645  # 33,644.88
    assert len(result["years"]) == 20
    assert set(result["totals"]) >= {"tip_eur", "present_value_eur"}


def test_years_override_and_incentive_end() -> None:
    result = project(parse_study(STUDY), years=22).to_json_dict()
    assert len(result["years"]) == 22
    assert result["years"][20]["tip_eur"] == "0.00"
    assert result["years"][20]["valorisation_eur"] != "0.00"


def test_study_problems_have_paths() -> None:
    data: dict[str, Any] = {
        "study": {**STUDY["study"], "region": "Narnia", "extra": 1},
        "plants": [{**STUDY["plants"][0], "self_consumed_kwh": 40000, "power_kw": 2000}],
    }
    with pytest.raises(InvalidInput) as caught:
        parse_study(data)
    paths = {p.path for p in caught.value.problems}
    assert paths == {
        "study.region",
        "study.extra",
        "plants[0].self_consumed_kwh",
        "plants[0].power_kw",
    }
