"""HourlyEnergy and HourlyPrices construction: quarters, duplicates, missing, 15-minute mean."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices

DAY = Period.parse("2025-06-01")
T12 = dt.datetime.fromisoformat("2025-06-01T12:00:00+02:00")
Q = dt.timedelta(minutes=15)


def test_quarters_sum_and_completeness() -> None:
    rows = [("A", T12 + Q * i, 10 * (i + 1), 1) for i in range(4)]
    rows += [("B", T12 + Q * i, 5, 0) for i in range(3)]  # one quarter missing
    rows += [("C", T12, 7, 7)]  # an hourly row
    energy = HourlyEnergy.from_rows(rows, DAY)
    assert energy.pods == ("A", "B", "C")
    assert energy.injected[:, 12].tolist() == [100, 15, 7]
    assert energy.withdrawn[0, 12] == 4
    assert energy.present[:, 12].tolist() == [True, False, True]
    assert not energy.present[:, 11].any()


def test_every_row_problem_is_reported() -> None:
    rows = [
        ("A", T12, -1, 0),
        ("A", T12.replace(tzinfo=None), 1, 1),
        ("A", T12 + dt.timedelta(minutes=5), 1, 1),
        ("A", T12 + Q, 1.5, 1),
        ("B", T12, 1, 1),
        ("B", T12, 2, 2),
    ]
    with pytest.raises(InvalidInput) as caught:
        HourlyEnergy.from_rows(rows, DAY, labels=[f"f.csv:{n + 2}" for n in range(len(rows))])  # type: ignore[arg-type]
    paths = {p.path for p in caught.value.problems}
    assert paths == {"f.csv:2", "f.csv:3", "f.csv:4", "f.csv:5", "f.csv:7"}


def test_rows_outside_the_period_are_ignored() -> None:
    energy = HourlyEnergy.from_rows([("A", T12 + dt.timedelta(days=1), 1, 1)], DAY, ["B"])
    assert energy.pods == ("B",)
    assert not energy.present.any()


def test_from_arrays_sorts_pods() -> None:
    energy = HourlyEnergy.from_arrays(
        DAY, ["B", "A"], np.ones((2, 24)) * [[2], [1]], np.zeros((2, 24))
    )
    assert energy.pods == ("A", "B")
    assert energy.injected[0, 0] == 1
    with pytest.raises(InvalidInput):
        HourlyEnergy.from_arrays(DAY, ["A"], -np.ones((1, 24)), np.zeros((1, 24)))


def test_missing_hours() -> None:
    energy = HourlyEnergy.from_rows([("A", T12, 1, 1)], DAY)
    assert energy.missing_hours() == {"A": [h for h in range(24) if h != 12]}


def test_quarter_hour_prices_mean() -> None:
    rows = [
        ("NORD", T12 + Q * i, Decimal(v)) for i, v in enumerate(["100", "101", "102", "103.000001"])
    ]
    prices = HourlyPrices.from_rows(rows)
    assert prices.eur_mwh("NORD", T12) == Decimal("101.500000")  # 101.50000025 → half-up


def test_quarter_hour_prices_incomplete_or_refused() -> None:
    rows = [("NORD", T12 + Q * i, Decimal(100)) for i in range(3)]
    with pytest.raises(InvalidInput) as caught:
        HourlyPrices.from_rows(rows)
    assert "3 of 4" in caught.value.problems[0].message
    full = [*rows, ("NORD", T12 + Q * 3, Decimal(100))]
    with pytest.raises(InvalidInput):
        HourlyPrices.from_rows(full, quarter_hours="reject")


def test_price_duplicates_and_series() -> None:
    with pytest.raises(InvalidInput):
        HourlyPrices.from_rows([("SUD", T12, Decimal(1)), ("SUD", T12, Decimal(2))])
    prices = HourlyPrices.from_rows([("SUD", T12, Decimal("-3.5"))])
    values, present = prices.series("SUD", DAY)
    assert values[12] == -3_500_000 and present.sum() == 1
    assert list(prices) == [("SUD", T12.astimezone(dt.UTC), Decimal("-3.500000"))]
