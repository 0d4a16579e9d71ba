"""Issue #12, defect 2: a live snapshot is validated and bounded before anything is kept.

Before the fix ``hour_injected_wh`` = 2^70 answered 500 but stayed in memory (every building
then saw 1.18e21 Wh), and ``injection_w`` = ``1e999`` was kept and made ``/community/live``
answer ``Infinity``, which is not JSON.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from cer_backend.service.bounds import DEFAULT_MAX_HOUR_WH, MAX_POWER_W
from tests.backend.api.conftest import POD_PLANT, Api

pytestmark = pytest.mark.database


def snapshot(**changes: Any) -> dict[str, Any]:
    return {
        "pod": POD_PLANT,
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "injection_w": 30_000.5,
        "withdrawal_w": 2_000,
        "hour_injected_wh": 12_000,
        "hour_withdrawn_wh": 500,
        **changes,
    }


async def raw_live(api: Api, body: str) -> tuple[int, str]:
    headers = {
        "Authorization": f"Bearer {api.tokens['site_plant']}",
        "Content-Type": "application/json",
    }
    async with api.session.post(api.url("/live"), data=body, headers=headers) as response:
        return response.status, await response.text()


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a JSON answer: {text}")

    return json.loads(text, parse_constant=refuse)


async def community_live(api: Api) -> dict[str, Any]:
    async with api.session.get(
        api.url("/community/live"), headers={"Authorization": f"Bearer {api.tokens['viewer_a']}"}
    ) as response:
        assert response.status == 200
        data = strict_json(await response.text())
    for key in ("injected_wh", "withdrawn_wh", "shared_wh", "surplus_w"):
        assert math.isfinite(data[key]), data
    return dict(data)


BAD: list[tuple[str, str]] = [
    ("hour 2^70", json.dumps(snapshot(hour_injected_wh=2**70))),
    ("hour 2^63", json.dumps(snapshot(hour_withdrawn_wh=2**63))),
    ("hour over 10 MWh", json.dumps(snapshot(hour_withdrawn_wh=DEFAULT_MAX_HOUR_WH + 1))),
    ("power 1e999", json.dumps(snapshot()).replace("30000.5", "1e999")),
    ("power -1e999", json.dumps(snapshot()).replace("2000", "-1e999")),
    ("power Infinity", json.dumps(snapshot()).replace("30000.5", "Infinity")),
    ("power NaN", json.dumps(snapshot()).replace("30000.5", "NaN")),
    ("power over 1 GW", json.dumps(snapshot(injection_w=MAX_POWER_W + 1))),
    ("ts year 1", json.dumps(snapshot(ts="0001-01-01T00:00:00+02:00"))),
    ("ts year 1 UTC", json.dumps(snapshot(ts="0001-01-01T00:00:00+00:00"))),
    ("ts year 9999", json.dumps(snapshot(ts="9999-12-31T23:59:59-05:00"))),
]


@pytest.mark.parametrize("body", [b for _, b in BAD], ids=[name for name, _ in BAD])
async def test_a_bad_snapshot_is_refused_and_nothing_is_kept(api: Api, body: str) -> None:
    status, answer = await raw_live(api, json.dumps(snapshot()))
    assert status == 200, answer
    before = await community_live(api)
    status, answer = await raw_live(api, body)
    assert status in (400, 422), answer
    problem = strict_json(answer)
    assert problem["status"] == status
    after = await community_live(api)
    assert after["injected_wh"] == before["injected_wh"] == 12_000
    assert after["surplus_w"] == before["surplus_w"]
