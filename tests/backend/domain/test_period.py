"""Periods of local hours, with 23- and 25-hour days."""

from __future__ import annotations

import datetime as dt

import pytest

from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.period import Period


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("2025", 8760),
        ("2024", 8784),
        ("2025-03", 743),
        ("2025-10", 745),
        ("2025-06", 720),
        ("2025-03-30", 23),
        ("2025-10-26", 25),
        ("2025-06-01", 24),
    ],
)
def test_hours(text: str, hours: int) -> None:
    assert Period.parse(text).hours == hours


def test_bounds_and_months() -> None:
    period = Period.parse("2025")
    assert period.start_utc == dt.datetime(2024, 12, 31, 23, tzinfo=dt.UTC)
    assert period.end_utc == dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC)
    assert len(period.months) == 12
    assert period.month_starts[2] == 31 * 24 + 28 * 24
    assert period.month_of_hour[-1] == 11
    assert period.hour_start(0).isoformat() == "2025-01-01T00:00:00+01:00"


def test_autumn_day_repeats_two_oclock() -> None:
    period = Period.parse("2025-10-26")
    starts = [period.hour_start(h).isoformat() for h in range(period.hours)]
    assert starts[2] == "2025-10-26T02:00:00+02:00"
    assert starts[3] == "2025-10-26T02:00:00+01:00"


@pytest.mark.parametrize("text", ["25", "2025-13", "2025-02-30", "June", "2025-6"])
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Period.parse(text)
    assert caught.value.problems[0].path == "period"
