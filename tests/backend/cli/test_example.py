"""The example community: generated deterministically, eligible, settled by the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cer_backend.cli import main
from cer_backend.files.example import generate_example


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
