"""The operating cycle from the shell (#10): community import, settlement runs, GSE figures."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cer_backend.cli import main
from tests.backend.api.conftest import COMMUNITY_A

pytestmark = pytest.mark.database


@pytest.fixture
def shell(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """Run ``cer-backend`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("CER_DATABASE_URL", database_url)
    monkeypatch.setenv("CER_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def test_community_import_validates_as_check_and_end_dates_what_the_file_drops(
    shell: Any, tmp_path: Path
) -> None:
    bad = copy.deepcopy(COMMUNITY_A)
    bad["members"][0]["pods"][0] = "IT001E1"
    code, _, err = shell("community", "import", write(tmp_path, "bad.yaml", bad))
    assert code == 1 and "members[0].pods[0]" in err and "not a POD code" in err
    broken = copy.deepcopy(bad)
    broken["plants"][0]["power_kw"] = -1
    code, _, err = shell("community", "import", write(tmp_path, "broken.yaml", broken))
    assert code == 2 and "plants[0].power_kw" in err and "members[0].pods[0]" in err
    code, _, err = shell("settlement", "list", "--community", "cer-test-a")
    assert code == 2 and "no community" in err  # nothing was stored
    code, out, _ = shell("community", "import", write(tmp_path, "a.yaml", COMMUNITY_A))
    assert code == 0 and out.splitlines()[-1] == "cer-test-a"
    smaller = copy.deepcopy(COMMUNITY_A)
    smaller["members"][1] = {
        "id": "scuola",
        "name": "Scuola",
        "type": "public_body",
        "pods": ["IT001E00000044"],
    }
    path = write(tmp_path, "smaller.yaml", smaller)
    code, out, _ = shell("community", "import", path, "--dry-run")
    assert code == 0 and 'members ended: "famiglia"' in out
    code, _, err = shell("community", "import", path)
    assert code == 2 and "effective" in err
    code, out, _ = shell("community", "import", path, "--effective", "2025-07-01", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["diff"]["members"]["ended"] == ["famiglia"]
    assert answer["effective"] == "2025-07-01"


def test_settlement_and_gse_commands_answer_the_api_json(shell: Any, tmp_path: Path) -> None:
    assert shell("community", "import", write(tmp_path, "a.yaml", COMMUNITY_A))[0] == 0
    code, out, _ = shell("settlement", "run", "--community", "cer-test-a", "--period", "2025-06")
    run = json.loads(out)
    assert code == 0 and run["kind"] == "month" and run["status"] == "draft"
    # no readings at all: incomplete, refused like the API (409 → exit 1)
    code, out, err = shell("settlement", "finalise", run["id"], "--community", "cer-test-a")
    assert code == 1 and "coverage 0.00 %" in err
    problem = json.loads(out)  # the API's problem body, with the guards' figures
    assert problem["status"] == 409 and problem["guards"]["completeness"]["present_pod_hours"] == 0
    code, out, _ = shell(
        "settlement",
        "finalise",
        run["id"],
        "--community",
        "cer-test-a",
        "--force",
        "--reason",
        "test month",
    )
    assert code == 0 and json.loads(out)["forced_reason"] == "test month"
    code, out, _ = shell("settlement", "show", run["id"], "--community", "cer-test-a")
    assert code == 0 and json.loads(out)["status"] == "final"
    code, out, _ = shell("settlement", "list", "--community", "cer-test-a")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [run["id"]]
    code, _, err = shell("settlement", "run", "--community", "cer-test-a", "--period", "2025-06")
    assert code == 1 and "correction" in err
    code, _, err = shell("settlement", "show", "nope", "--community", "cer-test-a")
    assert code == 2 and "no settlement run" in err
    gse = tmp_path / "gse.csv"
    gse.write_text(
        "configurazione;periodo;tipo;energia_condivisa_kwh;energia_incentivata_kwh;tip_eur;"
        "valorizzazione_eur;importo_eur;data\n"
        "AC001E01725;2025-06;acconto;;;;;1234,56;2025-08-31\n",
        encoding="utf-8",
    )
    code, out, _ = shell("gse", "import", str(gse), "--community", "cer-test-a")
    assert code == 0 and json.loads(out)["new"] == 1
    code, out, _ = shell("gse", "status", "--community", "cer-test-a", "--year", "2025")
    status = json.loads(out)
    june = next(m for m in status["months"] if m["month"] == "2025-06")
    assert code == 0 and june["paid_eur"] == "1234.56" and june["flagged"]
    gse.write_text("not;the;header\n", encoding="utf-8")
    code, _, err = shell("gse", "import", str(gse), "--community", "cer-test-a")
    assert code == 2 and "gse.csv:1" in err


def test_a_refused_import_is_one_line_per_problem_without_a_traceback(
    database_url: str, tmp_path: Path
) -> None:
    bad = copy.deepcopy(COMMUNITY_A)
    bad["members"][1]["pods"] = ["ITX", "ITY"]
    env = dict(os.environ, CER_DATA_DIR=str(tmp_path / "data"), CER_DATABASE_URL=database_url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cer_backend",
            "community",
            "import",
            write(tmp_path, "b.yaml", bad),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "members[1].pods[0]" in done.stderr and "members[1].pods[1]" in done.stderr
    assert "Traceback" not in done.stderr
