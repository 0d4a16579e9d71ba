"""``cer-backend readings import | status`` from the shell (the console script)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.service.registry import import_community
from tests.support.cli import backend_env, run_cli

from ..api.conftest import COMMUNITY_A, POD_HOME
from .conftest import day_values, wide_file

pytestmark = pytest.mark.database

GOOD = wide_file(
    [
        (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
        (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
    ]
)
BAD = wide_file([("IT001E99999999", "01/06/2025", "Prelievo", day_values("01/06/2025"))])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env)


def test_cli_folder_import_exit_codes_and_status(database_url: str, tmp_path: Path) -> None:
    async def setup() -> str:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            return (await import_community(engine, COMMUNITY_A))[0]
        finally:
            await engine.dispose()

    community = asyncio.run(setup())
    env = backend_env(tmp_path / "data", database_url)
    folder = tmp_path / "dso"
    folder.mkdir()
    (folder / "a.csv").write_bytes(GOOD)
    (folder / "b.csv").write_bytes(BAD)
    result = _cli(
        env, "readings", "import", str(folder), "--community", community, "--layout", "dso-wide",
        "--json",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    answer = json.loads(result.stdout)
    assert [f["hours"]["new"] for f in answer["files"]] == [24, 0]
    assert answer["total"]["files_with_errors"] == 1
    assert f"{folder / 'b.csv'}:2: POD IT001E99999999 is not in the community" in result.stderr
    assert "Traceback" not in result.stderr
    again = _cli(
        env, "readings", "import", str(folder / "a.csv"), "--community", community,
        "--layout", "dso-wide",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "new 0, unchanged 24, replaced 0" in again.stdout
    status = _cli(env, "readings", "status", "--community", community, "--period", "2025-06")
    assert status.returncode == 0, status.stderr
    assert "24 of 2160 POD-hours present" in status.stdout
    as_json = _cli(
        env, "readings", "status", "--community", community, "--period", "2025-06", "--json"
    )
    report = json.loads(as_json.stdout)
    assert report["present"] == 24 and report["readings_by_source"]["dso"] == 24
    bad_layout = _cli(
        env, "readings", "import", str(folder), "--community", community, "--layout", "x.yaml"
    )
    assert bad_layout.returncode == 2
    assert bad_layout.stderr.strip().splitlines() == [
        "cer-backend: error: x.yaml: no such layout file"
    ]
