"""Issue #12: hypothesis drives ``POST /readings`` and ``POST /live`` of a live server with a
valid POD and values across every boundary (energies, samples, power, times from year 1 to
9999, offsets). Whatever the values: never a 5xx, a reading is refused alone exactly when a
value is out of its bounds, and every answer is strict JSON with finite figures.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer_backend.service.bounds import (
    DEFAULT_MAX_HOUR_WH,
    INT64_MAX,
    MAX_POWER_W,
    MAX_SAMPLES,
)
from tests.backend.api.conftest import COMMUNITY_A, POD_PLANT
from tests.support.serve import ServedBackend

pytestmark = pytest.mark.database

EXAMPLES = 60
#: the plant's point: 80 kW x 1.1 for injection and production; withdrawal up to the cap
MAX_INJECTED_WH = 88_000


def edges(*limits: int) -> st.SearchStrategy[int]:
    around = {v + d for v in limits for d in (-1, 0, 1)}
    return st.sampled_from(sorted(around | {2**31, 2**63, 2**70, -(2**63) - 1})) | st.integers(
        min_value=-10, max_value=2 * DEFAULT_MAX_HOUR_WH
    )


ENERGY = edges(0, MAX_INJECTED_WH, DEFAULT_MAX_HOUR_WH, INT64_MAX)
SAMPLES = edges(0, MAX_SAMPLES, 2**31 - 1)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
YEARS = st.sampled_from([1, 1999, 2000, 2024, 2025, 2100, 2101, 9999])


@st.composite
def hours(draw: st.DrawFn) -> str:
    year = draw(YEARS)
    moment = datetime(
        year, draw(st.integers(1, 12)), draw(st.integers(1, 28)), draw(st.integers(0, 23))
    )
    return moment.replace(tzinfo=draw(OFFSETS)).isoformat()


@st.composite
def readings(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "hour_start": draw(hours()),
        "injected_wh": draw(ENERGY),
        "withdrawn_wh": draw(ENERGY),
    }
    for name in ("produced_wh", "consumed_wh"):
        if draw(st.booleans()):
            item[name] = draw(ENERGY)
    if draw(st.booleans()):
        item["samples"] = draw(SAMPLES)
    return item


def out_of_bounds(item: dict[str, Any]) -> bool:
    """A value beyond its generic bound (the rest may still be refused for other reasons)."""
    energies = [
        item[k] for k in ("injected_wh", "withdrawn_wh", "produced_wh", "consumed_wh") if k in item
    ]
    if any(not 0 <= v <= DEFAULT_MAX_HOUR_WH for v in energies):
        return True
    if item["injected_wh"] > MAX_INJECTED_WH or item.get("produced_wh", 0) > MAX_INJECTED_WH:
        return True
    if not 0 <= item.get("samples", 0) <= MAX_SAMPLES:
        return True
    return not 2000 <= datetime.fromisoformat(item["hour_start"]).year <= 2100


def strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in {text}")

    return json.loads(text, parse_constant=refuse)


def post(server: ServedBackend, path: str, token: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.api}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, strict(reply.read().decode())
    except urllib.error.HTTPError as err:
        return err.code, strict(err.read().decode())


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[ServedBackend, str]]:
    server = ServedBackend(tmp_path / "data", database_url)
    community_file = tmp_path / "community.json"
    community_file.write_text(json.dumps(COMMUNITY_A))
    community = server.command("community", "import", str(community_file))
    token = server.command(
        "token", "create", "--role", "site", "--community", community, "--pod", POD_PLANT
    )
    server.start()
    try:
        yield server, token
    finally:
        server.stop()


FIXTURE_OK = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FIXTURE_OK
@given(batch=st.lists(readings(), min_size=1, max_size=6))
def test_readings_across_boundaries(
    served: tuple[ServedBackend, str], batch: list[dict[str, Any]]
) -> None:
    server, token = served
    status, answer = post(server, "/readings", token, {"pod": POD_PLANT, "readings": batch})
    assert status == 200, answer
    rejected = {r["index"]: r for r in answer["rejected"]}
    assert len(rejected) == len(answer["rejected"])
    assert answer["accepted"] + answer["duplicates"] + answer["replaced"] + len(rejected) == len(
        batch
    )
    for index, item in enumerate(batch):
        if out_of_bounds(item):
            assert index in rejected, (item, answer)
            assert rejected[index]["status"] == 422


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    now = datetime.now(UTC)
    ts = draw(
        st.one_of(
            st.just(now.replace(tzinfo=draw(OFFSETS)).astimezone(draw(OFFSETS))),
            hours().map(datetime.fromisoformat),
        )
    )
    power = st.one_of(
        st.sampled_from([0, 0.5, MAX_POWER_W, MAX_POWER_W + 1, 1e308, -1]),
        st.floats(min_value=0, max_value=2 * MAX_POWER_W),
    )
    return {
        "pod": POD_PLANT,
        "ts": ts.isoformat(),
        "injection_w": draw(power),
        "withdrawal_w": draw(power),
        "hour_injected_wh": draw(ENERGY),
        "hour_withdrawn_wh": draw(ENERGY),
    }


@FIXTURE_OK
@given(snapshot=snapshots())
def test_live_across_boundaries(
    served: tuple[ServedBackend, str], snapshot: dict[str, Any]
) -> None:
    server, token = served
    status, answer = post(server, "/live", token, snapshot)
    ts = datetime.fromisoformat(snapshot["ts"])
    valid = (
        2000 <= ts.year <= 2100
        and ts <= datetime.now(UTC) + timedelta(minutes=5)
        and all(0 <= snapshot[k] <= MAX_POWER_W for k in ("injection_w", "withdrawal_w"))
        and 0 <= snapshot["hour_injected_wh"] <= MAX_INJECTED_WH
        and 0 <= snapshot["hour_withdrawn_wh"] <= DEFAULT_MAX_HOUR_WH
    )
    assert status == (200 if valid else 422), (snapshot, answer)
    if status == 200:
        assert 0 <= answer["injected_wh"] <= MAX_INJECTED_WH
        assert 0 <= answer["withdrawn_wh"] <= DEFAULT_MAX_HOUR_WH
        assert abs(answer["surplus_w"]) <= MAX_POWER_W
