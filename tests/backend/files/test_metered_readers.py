"""The columnar fast path gives the exact reader's hours, or leaves the file to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cer_backend.domain.period import Period
from cer_backend.files import load_community, load_readings, parse_readings_csv
from cer_backend.files.columnar import read_fast
from cer_backend.files.layouts import builtin_layout
from cer_backend.files.metered import MeteredHours, read_metered

from ..metered.conftest import day_values, wide_file

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "comune"


def same(a: MeteredHours, b: MeteredHours) -> None:
    def table(h: MeteredHours) -> list[tuple[str, int, int, int]]:
        return sorted(
            (h.pod_names[int(p)], int(t), int(i), int(w))
            for p, t, i, w in zip(h.pod, h.hour, h.injected, h.withdrawn, strict=True)
        )

    assert table(a) == table(b)
    assert a.values == b.values


@pytest.mark.parametrize("month", ["2025-03", "2025-06", "2025-10"])
def test_example_month_files_fast_equals_exact(month: str) -> None:
    data = (EXAMPLE / "dso" / f"{month}.csv").read_bytes()
    layout = builtin_layout("dso-wide")
    fast = read_fast(data, layout, "f.csv")
    exact = read_metered(data, layout, "f.csv")
    assert fast is not None and fast.fast
    assert exact.errors == [] and exact.warnings == []
    same(fast, exact)


def test_cer_layout_fast_equals_exact() -> None:
    lines = (EXAMPLE / "readings.csv").read_bytes().splitlines(keepends=True)[:20_000]
    data = b"".join(lines)
    layout = builtin_layout("cer")
    fast = read_fast(data, layout, "r.csv")
    exact = read_metered(data, layout, "r.csv")
    assert fast is not None
    same(fast, exact)


def test_irregular_files_are_left_to_the_exact_reader() -> None:
    layout = builtin_layout("dso-wide")
    pod = "IT001E00000001"
    finer = wide_file([(pod, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,0005"))])
    gap = wide_file([(pod, "01/06/2025", "Prelievo", ["1", "", *["1"] * 94])])
    word = wide_file([(pod, "01/06/2025", "Boh", day_values("01/06/2025"))])
    for data in (finer, gap, word, b""):
        assert read_fast(data, layout, "x.csv") is None
    clock = wide_file(
        [
            (pod, "26/10/2025", "Prelievo", day_values("26/10/2025", "0,2")),
            (pod, "26/10/2025", "Immissione", day_values("26/10/2025", "0")),
            (pod, "27/10/2025", "Prelievo", day_values("27/10/2025", "0,2")),
            (pod, "27/10/2025", "Immissione", day_values("27/10/2025", "0")),
        ]
    )
    fast = read_fast(clock, layout, "c.csv")
    assert fast is not None
    same(fast, read_metered(clock, layout, "c.csv"))
    assert len(fast.hour) == 49 and set(np.unique(fast.withdrawn).tolist()) == {800}


def test_a_pod_only_on_clock_change_rows_is_one_pod() -> None:
    layout = builtin_layout("dso-wide")
    rows = [
        ("IT001E00000001", day, word, day_values(day, "0,1"))
        for day in ("30/03/2025", "26/10/2025")
        for word in ("Prelievo", "Immissione")
    ]
    fast = read_fast(wide_file(rows), layout, "c.csv")
    assert fast is not None and fast.pod_names == ["IT001E00000001"]
    assert len(fast.hour) == 23 + 25


def test_settle_reads_a_clean_csv_through_the_columnar_reader_with_the_same_energy(
    tmp_path: Path,
) -> None:
    community = load_community(EXAMPLE / "community.yaml")
    lines = (EXAMPLE / "readings.csv").read_bytes().splitlines(keepends=True)
    part = tmp_path / "part.csv"
    part.write_bytes(b"".join(lines[:60_000]))
    period = Period.parse("2025-02", community.timezone)
    fast = load_readings(part, community, period)
    exact = parse_readings_csv(part.read_text(encoding="utf-8"), community, period, "part.csv")
    assert fast.pods == exact.pods
    for name in ("injected", "withdrawn", "present"):
        assert np.array_equal(getattr(fast, name), getattr(exact, name)), name
    no_period = load_readings(part, community)
    assert no_period.period == parse_readings_csv(part.read_text(), community).period


@pytest.mark.parametrize("cell", ["-0,1", "1.000,5", "0,1,2", "0,0001", "abc", "0,1 kWh"])
def test_odd_numbers_leave_the_fast_path(cell: str) -> None:
    values = [cell, *day_values("01/06/2025")[1:]]
    data = wide_file([("IT001E00000001", "01/06/2025", "Prelievo", values)])
    assert read_fast(data, builtin_layout("dso-wide"), "x.csv") is None


@pytest.mark.parametrize("cell", ["+0,1", "1e-1", " 0,1", "0,1000"])
def test_numbers_both_readers_accept_give_the_same_hours(cell: str) -> None:
    layout = builtin_layout("dso-wide")
    values = [cell, *day_values("01/06/2025")[1:]]
    data = wide_file(
        [
            ("IT001E00000001", "01/06/2025", "Prelievo", values),
            ("IT001E00000001", "01/06/2025", "Immissione", day_values("01/06/2025")),
        ]
    )
    exact = read_metered(data, layout, "x.csv")
    assert exact.errors == []
    assert int(exact.withdrawn[0]) == 100 + 3 * 125
    fast = read_fast(data, layout, "x.csv")
    if fast is not None:
        same(fast, exact)
