"""The example community: generated deterministically, eligible, settled by the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cer_backend.cli import main
from cer_backend.domain.period import Period
from cer_backend.files.example import _calendar, _solar, _sun_height, generate_example


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_example_is_deterministic_and_settles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = generate_example(tmp_path / "a")
    second = generate_example(tmp_path / "b")
    for a, b in zip(
        (first.community, first.readings, first.prices, first.study),
        (second.community, second.readings, second.prices, second.study),
        strict=True,
    ):
        assert digest(a) == digest(b)
    committed = Path(__file__).parents[3] / "examples" / "comune"
    for generated in (first.community, first.readings, first.prices, first.study):
        assert digest(generated) == digest(committed / generated.name), generated.name
    assert [p.name for p in first.dso] == [f"2025-{m:02d}.csv" for m in range(1, 13)]
    for generated, again in zip(first.dso, second.dso, strict=True):
        assert digest(generated) == digest(again) == digest(committed / "dso" / generated.name)

    assert main(["check", "--community", str(first.community)]) == 0
    capsys.readouterr()
    args = [
        "settle",
        "--community",
        str(first.community),
        "--readings",
        str(first.readings),
        "--prices",
        str(first.prices),
        "--period",
        "2025-05",
        "--json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hours"] == 744
    assert data["shared_wh"] > 0
    assert {p["id"] for p in data["plants"] if p["incentivised_wh"]} >= {"palestra", "scuola_media"}
    assert next(p for p in data["plants"] if p["id"] == "magazzino")["tip_eur"] == "0.00"
    assert main(["project", "--study", str(first.study), "--json"]) == 0


def test_example_pv_yields_about_1300_kwh_per_kwp_from_sunrise_to_sunset() -> None:
    period = Period.parse("2025")
    hour, day, _, _, offset = _calendar(period)
    sun = _solar(hour, day, offset, np.random.default_rng(2025))
    assert 1_250 < sun.sum() < 1_350  # kWh per kWp in the year
    height = _sun_height(hour + 0.5 - offset + 11.3 / 15, day)
    daylight = np.add.reduceat((height > 0).astype(np.int64), period.day_starts[:-1])
    assert daylight.min() == 9 and daylight.max() == 15  # December and June at 43° N
    assert (sun[height <= 0] == 0).all()
