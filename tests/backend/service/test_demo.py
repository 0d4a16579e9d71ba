"""`cer-backend demo` loads the example community; its run gives the `settle` figures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cer_backend.database import create_engine
from cer_backend.service.settlements import get_run
from tests.support.cli import backend_env, run_cli

pytestmark = pytest.mark.database

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "comune"


def test_demo_run_equals_cer_backend_settle(database_url: str, tmp_path: Path) -> None:
    env = backend_env(tmp_path / "data", database_url)
    demo = run_cli("demo", "--example", str(EXAMPLE), env=env)
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.strip().splitlines()
    assert lines[-1].startswith("cer_")  # the admin token, alone on the last line
    run_line = next(line for line in lines if line.startswith("draft settlement "))
    run_id, year = run_line.split()[2], run_line.split()[4].rstrip(":")
    settle = run_cli(
        "settle",
        "--community",
        str(EXAMPLE / "community.yaml"),
        "--readings",
        str(EXAMPLE / "readings.csv"),
        "--prices",
        str(EXAMPLE / "prices.csv"),
        "--period",
        year,
        "--json",
        env=env,
    )
    assert settle.returncode in (0, 1), settle.stderr
    expected = json.loads(settle.stdout)

    async def fetch() -> dict[str, Any]:
        engine = create_engine(database_url)
        try:
            return await get_run(engine, run_id, None)
        finally:
            await engine.dispose()

    run = asyncio.run(fetch())
    result = run["result"]
    # the households, shops and the parish come from the distributor's files, the
    # municipality's eight points from Home Assistant (the import, no private path)
    by_source = result["readings_by_source"]
    assert by_source["ha"] == 8 * 8760
    assert by_source["dso"] > 20 * 8760 and by_source["manual"] == by_source["estimate"] == 0
    assert "dso" in demo.stdout and "(ha)" in demo.stdout
    for key in (
        "period",
        "hours",
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "incentivised_wh",
        "tip_eur",
        "valorisation_eur",
        "surplus_earmarked_eur",
        "rid_eur",
        "gse_fees_eur",
        "plants",
        "members",
        "missing",
        "management_eur",
        "funds",
        "months",
    ):
        assert result[key] == expected[key], key
