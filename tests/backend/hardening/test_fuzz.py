"""Issue #12: schemathesis fuzzes a live ``cer-backend serve`` with an admin, a site and a
viewer token, a bounded number of examples per operation: zero 5xx, zero responses that do not
match the OpenAPI document (status, content type, schema). The admin token runs every phase
(coverage, fuzzing, stateful) with 8 examples per operation; the site and viewer tokens, for
which most operations answer 403, the fuzzing phase with 3.

Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL. ``CER_FUZZ_EXAMPLES`` (default 8)
and ``CER_FUZZ_SEED`` (default fixed, so CI is reproducible; ``random`` for a new one) tune it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.api.conftest import COMMUNITY_A, POD_PLANT
from tests.support.serve import ServedBackend

pytestmark = pytest.mark.database

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)
EXAMPLES = os.environ.get("CER_FUZZ_EXAMPLES", "8")
SEED = os.environ.get("CER_FUZZ_SEED", "20261205")


def schemathesis() -> str:
    found = Path(sys.executable).with_name("st")
    if found.exists():
        return str(found)
    which = shutil.which("st")
    if which is None:
        pytest.fail(
            "schemathesis is not installed: it is in the dev extras (pip install -e .[dev])"
        )
    return which


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
    database_url: str, tmp_path: Path
) -> None:
    server = ServedBackend(tmp_path / "data", database_url)
    community_file = tmp_path / "community.json"
    community_file.write_text(json.dumps(COMMUNITY_A))
    community = server.command("community", "import", str(community_file))
    tokens = {
        "site": server.command(
            "token", "create", "--role", "site", "--community", community, "--pod", POD_PLANT
        ),
        "viewer": server.command("token", "create", "--role", "viewer", "--community", community),
        # last: the admin's fuzzing may revoke tokens or end-date PODs
        "admin": server.command("token", "create", "--role", "admin"),
    }
    server.start()
    failures = []
    try:
        for role, token in tokens.items():
            command = [
                schemathesis(), "run", f"{server.api}/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", CHECKS,
                "--max-examples", EXAMPLES if role == "admin" else "3",
                "--workers", "1",
                "--request-timeout", "30",
                "--output-truncate", "true",
                "--report-dir", str(tmp_path / "reports"),
            ]  # fmt: skip
            if role != "admin":  # most operations answer 403: the fuzzing phase is enough
                command += ["--phases", "fuzzing"]
            if SEED != "random":
                command += ["--seed", SEED]
            result = subprocess.run(
                command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
            )
            if result.returncode != 0:
                failures.append(f"--- {role} token ---\n{result.stdout[-12000:]}{result.stderr}")
    finally:
        server.stop()
    errors = [r for r in server.log_records() if r.get("level") == "error"]
    unhandled = [r for r in errors if r.get("logger") != "aiohttp.server"]
    assert failures == [], "\n".join(failures)
    assert unhandled == []
