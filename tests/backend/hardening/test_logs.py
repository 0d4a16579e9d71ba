"""Issue #12, defect 5: no secret, token hash or POD code in any log line.

A real ``cer-backend serve`` (JSON logs) on a private PostgreSQL that is stopped while
requests authenticate, upload and post live figures; then every log line is searched for
the token secrets, their SHA-256 hashes and the POD codes. Before the fix the SQL error of
a dropped connection logged the ``token_hash`` parameter, an error on ``/live`` logged a POD
code, and the access log wrote POD codes in paths.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cer_backend.logs import mask_pod
from tests.backend.api.conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT
from tests.support.serve import ServedBackend

from .private_pg import PrivatePostgres


def call(server: ServedBackend, method: str, path: str, token: str | None, body: Any = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.api}{path}", data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    try:
        pg = PrivatePostgres.create()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


def test_no_secret_hash_or_pod_code_in_the_logs_of_a_run_with_faults(
    cluster: PrivatePostgres, tmp_path: Path
) -> None:
    server = ServedBackend(tmp_path / "data", cluster.url)
    community_file = tmp_path / "community.json"
    community_file.write_text(json.dumps(COMMUNITY_A))
    community = server.command("community", "import", str(community_file))
    site = server.command(
        "token", "create", "--role", "site", "--community", community, "--pod", POD_PLANT
    )
    admin = server.command("token", "create", "--role", "admin", "--label", "ops")
    spare = server.command("token", "create", "--role", "viewer", "--community", community)
    secrets = [site, admin, spare, "cer_made-up-secret-token-0123456789"]
    hour = datetime(2025, 6, 1, tzinfo=UTC)
    reading = {"hour_start": hour.isoformat(), "injected_wh": 100, "withdrawn_wh": 5}
    live = {
        "pod": POD_PLANT,
        "ts": datetime.now(UTC).isoformat(),
        "injection_w": 1000,
        "withdrawal_w": 10,
        "hour_injected_wh": 100,
        "hour_withdrawn_wh": 5,
    }
    server.start()
    try:
        assert (
            call(server, "POST", "/readings", site, {"pod": POD_PLANT, "readings": [reading]})
            == 200
        )
        assert call(server, "GET", f"/communities/{community}/pods/{POD_FAMILY}", admin) == 200
        assert call(server, "GET", f"/communities/{community}/pods/{POD_HOME}x", admin) == 404
        assert call(server, "GET", "/communities", secrets[3]) == 401
        assert call(server, "POST", "/live", site, live) == 200

        cluster.stop()  # faults: the lookup of a token not cached yet, an upload, live
        assert call(server, "GET", "/community/live", spare) == 503
        later = {**reading, "hour_start": (hour + timedelta(hours=1)).isoformat()}
        assert (
            call(server, "POST", "/readings", site, {"pod": POD_PLANT, "readings": [later]}) == 503
        )
        assert call(server, "POST", "/live", site, live) == 503
        assert call(server, "GET", f"/communities/{community}/pods/{POD_PLANT}", admin) == 503
        assert call(server, "GET", "/health", None) == 503
        cluster.start()
        assert call(server, "GET", "/community/live", spare) == 200
    finally:
        server.stop()

    text = server.log.read_text()
    assert "Database unavailable" in text  # the run did meet the faults
    assert mask_pod(POD_FAMILY) == "IT001E****0003"
    assert f"/pods/{mask_pod(POD_FAMILY)}" in text  # the access log still says what was asked
    forbidden = [
        *secrets,
        *(hashlib.sha256(s.encode()).hexdigest() for s in secrets),
        POD_HOME,
        POD_PLANT,
        POD_FAMILY,
    ]
    leaks = [(word, line) for line in text.splitlines() for word in forbidden if word in line]
    assert leaks == []
