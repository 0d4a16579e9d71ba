"""Monthly advance (acconto), GSE-RULES §5: 110.00, 550.00 and 58.14 (58.135 half-up)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from cer_backend.domain.advance import monthly_advance
from cer_backend.domain.errors import InvalidInput

from .builders import make_community, member, plant, pod


def test_worked_numbers() -> None:
    community = make_community(
        region="Puglia",
        members=[
            member("comune", "municipality", [pod(1), pod(2)]),
            member("r", "person", [pod(3)]),
        ],
        plants=[plant("small", pod(1), 20, "2024-03-01"), plant("big", pod(2), 100, "2024-03-01")],
    )
    advance = monthly_advance(community, "2025-06")
    data = advance.to_json_dict()
    plants = {p["id"]: p for p in data["plants"]}
    assert plants["small"]["tip_eur"] == "110.00"
    assert plants["big"]["tip_eur"] == "550.00"
    # 0.1 MW × 1,100 h × 0.60 × 10.57 €/MWh / 12 = 58.135 → 58.14
    big = next(p for p in advance.plants if p.id == "big")
    assert big.valorisation == Fraction(58135, 1000)
    assert plants["big"]["valorisation_eur"] == "58.14"
    assert data["month"] == "2025-06"
    assert data["tip_eur"] == "660.00"
    # the total is the rounding of the exact sum: 11.627 + 58.135 = 69.762
    assert data["valorisation_eur"] == "69.76"
    assert set(data) >= {"month", "tip_eur", "valorisation_eur", "plants"}


@pytest.mark.parametrize(
    ("region", "source", "hours"),
    [
        ("Lombardia", "pv", 900),
        ("Toscana", "pv", 1050),
        ("Sicilia", "pv", 1100),
        ("Sicilia", "wind", 1500),
        ("Sicilia", "hydro", 1500),
        ("Sicilia", "biogas", 5000),
        ("Sicilia", "other", 500),
    ],
)
def test_hours_by_source_and_area(region: str, source: str, hours: int) -> None:
    community = make_community(
        region=region, plants=[plant("p", pod(1), 100, "2024-03-01", source=source)]
    )
    advance = monthly_advance(community, "2025-06")
    assert advance.plants[0].hours == hours
    fc = {"Lombardia": 10, "Toscana": 4}.get(region, 0) if source == "pv" else 0
    expected = Fraction(100, 1000) * hours * Fraction(6, 10) * (80 + 20 + fc) / 12
    assert advance.plants[0].tip == expected


def test_grant_reduces_tip_a() -> None:
    community = make_community(plants=[plant("p", pod(1), 100, "2024-03-01", capital_grant_pct=20)])
    advance = monthly_advance(community, "2025-06")
    assert advance.plants[0].tip_a_eur_mwh == 75  # (80 + 20 + 0) × 0.75
    assert advance.plants[0].tip == Fraction(4125, 10)


def test_pre_existing_plant_gets_valorisation_only() -> None:
    community = make_community(
        plants=[
            plant("old", pod(1), 20, "2019-01-01"),
            plant("new", pod(2), 100, "2024-03-01", owner="rossi"),
        ]
    )
    advance = monthly_advance(community, "2025-06")
    old = next(p for p in advance.plants if p.id == "old")
    assert old.tip == 0 and old.valorisation > 0


def test_plant_starting_in_the_month_waits() -> None:
    community = make_community(plants=[plant("p", pod(1), 100, "2025-06-10")])
    advance = monthly_advance(community, "2025-06")
    assert advance.plants == []
    assert advance.warnings
    assert len(monthly_advance(community, "2025-07").plants) == 1


def test_month_cu_afa_and_missing_cu_afa() -> None:
    community = make_community(cu_afa_eur_mwh={"2025-06": Decimal(12)})
    assert monthly_advance(community, "2025-06").plants[0].valorisation == Fraction(66)
    with pytest.raises(InvalidInput):
        monthly_advance(community, "2025-07")


def test_needs_a_month() -> None:
    with pytest.raises(InvalidInput):
        monthly_advance(make_community(), "2025")


def test_advances_of_a_year_match_month_by_month() -> None:
    from cer_backend.domain.advance import advances_of_months  # noqa: PLC0415

    community = make_community(
        region="Lazio",
        members=[
            member("comune", "municipality", [pod(1), pod(2), pod(3)]),
            member("r", "person", [pod(4)], left="2025-08-01"),
        ],
        plants=[
            plant("a", pod(1), 20, "2024-03-01"),
            plant("b", pod(2), 20, "2025-04-10", capital_grant_pct=20),
            plant("c", pod(3), 20, "2019-01-01", source="hydro"),
            plant("d", pod(4), 6, "2024-05-01", owner="r"),
        ],
    )
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    # GSE-RULES §5: the sum of the monthly amounts as paid (each rounded to the cent)
    expected_tip = sum(monthly_advance(community, m).tip_cents for m in months)
    expected_val = sum(monthly_advance(community, m).valorisation_cents for m in months)
    assert advances_of_months(community, months) == {"AC001E01725": (expected_tip, expected_val)}
    assert advances_of_months(community, ["2023-01"]) is None
