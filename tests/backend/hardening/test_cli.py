"""Issue #12, defect 8: start-up and command-line messages.

Before the fix: ``serve`` on a busy port printed a 24-line traceback; ``token create --pod A
--pod B`` kept only B; "1 errors", "0 errors, 1 warnings", "a admin token"; a token's
``created_at`` had no offset on SQLite; ``check`` given a study file printed 45 "unknown
key" lines instead of saying it is a study file.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from cer_backend.wording import counted
from tests.backend.api.conftest import COMMUNITY_A, POD_FAMILY, POD_PLANT, Api
from tests.support.cli import backend_env, run_cli

REPO = Path(__file__).resolve().parents[3]


def cli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=backend_env(tmp_path / "data"), timeout=timeout)


def test_serve_on_a_busy_port_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(tmp_path, "serve", "--port", str(port), "--log-format", "text")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("cer-backend: error: ")
    assert f"127.0.0.1:{port}" in errors[0]
    assert len(result.stderr.splitlines()) <= 3, result.stderr


def test_token_create_keeps_every_pod_option(tmp_path: Path) -> None:
    community_file = tmp_path / "community.json"
    community_file.write_text(json.dumps(COMMUNITY_A))
    imported = cli(tmp_path, "community", "import", str(community_file))
    assert imported.returncode == 0, imported.stderr
    community = imported.stdout.strip().splitlines()[-1]
    made = cli(
        tmp_path, "token", "create", "--role", "site", "--community", community,
        "--pod", POD_PLANT, "--pod", POD_FAMILY,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"PODs {POD_PLANT} {POD_FAMILY}" in made.stdout


def test_counted_says_one_error_and_n_warnings() -> None:
    assert counted(1, "error") == "1 error"
    assert counted(0, "error") == "0 errors"
    assert counted(2, "warning") == "2 warnings"


def test_check_counts_in_good_english(tmp_path: Path) -> None:
    result = cli(tmp_path, "check", "--community", str(REPO / "examples/comune/community.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(": 0 errors, 1 warning")


def test_check_given_a_study_file_says_so(tmp_path: Path) -> None:
    study = REPO / "examples/comune/study.yaml"
    result = cli(tmp_path, "check", "--community", str(study))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"cer-backend: error: {study} is a study file (for cer-backend project --study), "
        "not a community file"
    ]


@pytest.mark.database
async def test_an_admin_token_and_offsets_of_token_times(api: Api) -> None:
    status, problem, _ = await api.call("POST", "/readings", "root", json={})
    assert status == 403
    assert problem["detail"] == "an admin token may not use POST /readings"
    status, tokens, _ = await api.call("GET", "/tokens", "root")
    assert status == 200
    assert all(token["created_at"].endswith("+00:00") for token in tokens), tokens
