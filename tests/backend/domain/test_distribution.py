"""Distribution by the statute: each key, exact cents by largest remainder."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from cer_backend.domain.community import Member, Statute
from cer_backend.domain.distribution import Distribution, DistributionInput, distribute

D = __import__("datetime").date(2024, 1, 1)
MEMBERS = [
    Member("comune", "Comune", "municipality", ("IT001E00000001",), D),
    Member("anna", "Anna", "person", ("IT001E00000002",), D),
    Member("bar", "Bar", "sme", ("IT001E00000003",), D),
]


def statute(**changes: object) -> Statute:
    base: dict[str, object] = {
        "management_pct": Decimal(0),
        "management_from": "tip",
        "valorisation_to": "pool",
    }
    base.update(changes)
    return Statute(**base)  # type: ignore[arg-type]


def run(
    st: Statute,
    tip: str = "100",
    val: str = "10",
    weights: dict[str, int] | None = None,
    surplus: str = "0",
) -> Distribution:
    return distribute(
        DistributionInput(
            statute=st,
            members=MEMBERS,
            plant_owners=["comune"],
            plant_tip=[Fraction(tip)],
            plant_valorisation=[Fraction(val)],
            plant_incentivised_wh=[1000],
            consumer_weights=weights or {"comune": 0, "anna": 1, "bar": 1},
            surplus=Fraction(surplus),
        )
    )


def total_of(result: Distribution) -> int:
    return int(
        result.management_cents
        + result.social_fund_cents
        + result.investment_fund_cents
        + sum(result.member_cents.values())
    )


def test_management_from_tip_and_pool() -> None:
    result = run(statute(management_pct=Decimal(15)))
    assert result.total_cents == 11000
    assert result.management_cents == 1650  # 15 % of 110
    assert result.member_cents == {"comune": 0, "anna": 4675, "bar": 4675}
    assert total_of(result) == 11000


def test_management_from_total_and_valorisation_to_owners() -> None:
    result = run(
        statute(management_pct=Decimal(10), management_from="total", valorisation_to="plant_owners")
    )
    assert result.management_cents == 1100
    # owner gets valorisation net of 10 %: 9.00; the pool 90.00 split in two
    assert result.member_cents == {"comune": 900, "anna": 4500, "bar": 4500}
    assert result.member_parts["comune"]["valorisation"] == 900


def test_management_beyond_tip_warns() -> None:
    result = run(statute(management_pct=Decimal(95)), tip="10", val="100")
    assert result.warnings
    assert total_of(result) == result.total_cents


def test_funds_and_producers() -> None:
    result = run(
        statute(
            social_fund_pct=Decimal(10), investment_fund_pct=Decimal(5), producers_pct=Decimal(20)
        )
    )
    # pool 110: social 11, investment 5.50, rest 93.50; producers 20 % = 18.70 to comune
    assert result.social_fund_cents == 1100
    assert result.investment_fund_cents == 550
    assert result.member_cents["comune"] == 1870
    assert result.member_cents["anna"] == result.member_cents["bar"] == 3740


def test_surplus_goes_to_non_business_consumers() -> None:
    result = run(statute(), surplus="40")
    # 40 to anna alone (bar is a business), the remaining 70 split 35/35
    assert result.member_cents == {"comune": 0, "anna": 7500, "bar": 3500}
    assert result.member_parts["anna"] == {
        "valorisation": 0,
        "surplus": 4000,
        "producers": 0,
        "consumers": 3500,
    }


def test_surplus_to_social_fund_tops_it_up() -> None:
    result = run(statute(surplus_to="social_fund", social_fund_pct=Decimal(10)), surplus="40")
    assert result.social_fund_cents == 4000
    assert result.member_cents == {"comune": 0, "anna": 3500, "bar": 3500}


def test_surplus_not_covered_warns() -> None:
    result = run(statute(management_pct=Decimal(80)), surplus="40")
    assert any("surplus" in w for w in result.warnings)
    assert total_of(result) == result.total_cents


def test_cents_add_up_with_awkward_weights() -> None:
    result = run(
        statute(management_pct=Decimal("12.5")),
        tip="0.07",
        val="0.03",
        weights={"comune": 3, "anna": 3, "bar": 3},
    )
    assert total_of(result) == 10


def test_total_is_sum_of_reported_rounded_parts() -> None:
    # tip 0.005 → 0.01, valorisation 0.005 → 0.01: 2 cents to share although the exact sum is 0.01
    result = run(statute(), tip="0.005", val="0.005")
    assert result.total_cents == 2
    assert total_of(result) == 2
