"""Money: half-up to the cent, largest remainder, GSE fees, surplus rule."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cer_backend.domain import rules
from cer_backend.domain.money import eur, largest_remainder, round_cents
from cer_backend.domain.surplus import excess_share, surplus_earmark


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Fraction(58135, 1000), "58.14"),
        (Decimal("58.135"), "58.14"),
        (Fraction(-5, 1000), "-0.01"),
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (0, "0.00"),
    ],
)
def test_half_up(amount: Fraction | Decimal | int, text: str) -> None:
    assert eur(amount) == text


def test_round_cents_is_decimal() -> None:
    assert round_cents(Fraction(33616168, 1000)) == Decimal("33616.17")


def test_largest_remainder_example() -> None:
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(10, [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]) == [5, 3, 2]
    assert largest_remainder(0, [0, 0]) == [0, 0]


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
        lambda w: sum(w) > 0
    ),
)
def test_largest_remainder_adds_up(total: int, weights: list[int]) -> None:
    shares = largest_remainder(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - Fraction(total * weight, whole)) < 1


@pytest.mark.parametrize(
    ("power", "fee"),
    [
        ("2", "0"),
        ("3", "0"),
        ("3.5", "15"),
        ("20", "15"),
        ("21", "16"),
        ("100", "95"),
        ("1000", "995"),
    ],
)
def test_gse_fee_per_year(power: str, fee: str) -> None:
    assert rules.GSE_FEES.per_year(Decimal(power)) == Decimal(fee)


def test_surplus_worked_example() -> None:
    """Ratio 0.95, C_ACI 84,040.42 € → 40 points → 33,616.17 € earmarked."""
    earmark = surplus_earmark(95, 100, Decimal("84040.42"), Decimal("0.55"))
    assert eur(earmark) == "33616.17"
    assert excess_share(95, 100, Decimal("0.55")) == Fraction(40, 100)
    wrong = (Fraction(95, 100) - Fraction(55, 100)) / Fraction(95, 100) * Fraction("84040.42")
    assert eur(earmark) != eur(wrong)


def test_surplus_thresholds() -> None:
    assert {
        "tip_only": Decimal("0.55"),
        "tip_with_grant": Decimal("0.45"),
    } == rules.SURPLUS_THRESHOLDS
    assert excess_share(50, 100, Decimal("0.55")) == 0
    assert excess_share(50, 100, Decimal("0.45")) == Fraction(5, 100)
    assert excess_share(10, 0, Decimal("0.45")) == 0
