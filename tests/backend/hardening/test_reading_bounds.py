"""Issue #12, defect 1: one out-of-range value is refused alone; the rest of the batch is stored.

Before the fix a reading with ``consumed_wh`` ≥ 2^63, ``samples`` ≥ 2^31 or an hour in year 1
or 9999 answered 500 for the whole upload and stored nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.models import Reading
from cer_backend.service.bounds import DEFAULT_MAX_HOUR_WH, INT64_MAX
from tests.backend.api.conftest import POD_FAMILY, POD_PLANT, Api

pytestmark = pytest.mark.database


def good(h: int, **extra: Any) -> dict[str, Any]:
    return {
        "hour_start": f"2025-06-02T{h:02d}:00:00+02:00",
        "injected_wh": 1_000,
        "withdrawn_wh": 200,
        **extra,
    }


async def count(api: Api) -> int:
    async with api.server.app[ENGINE_KEY].connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Reading)) or 0)


POISON: list[tuple[str, dict[str, Any]]] = [
    ("consumed_wh", {"consumed_wh": 2**63}),
    ("consumed_wh", {"consumed_wh": INT64_MAX}),
    ("consumed_wh", {"consumed_wh": DEFAULT_MAX_HOUR_WH + 1}),
    ("produced_wh", {"produced_wh": 2**70}),
    ("samples", {"samples": 2**31}),
    ("samples", {"samples": 3601}),
    ("samples", {"samples": -1}),
    ("hour_start", {"hour_start": "0001-01-01T00:00:00+02:00"}),
    ("hour_start", {"hour_start": "9999-12-31T23:00:00-02:00"}),
    ("hour_start", {"hour_start": "1999-12-31T23:00:00+00:00"}),
    ("hour_start", {"hour_start": "2101-01-01T00:00:00+00:00"}),
]


@pytest.mark.parametrize(("field", "bad"), POISON, ids=[f"{f}={v}" for f, v in POISON])
async def test_one_bad_reading_is_rejected_and_the_ten_good_are_stored(
    api: Api, field: str, bad: dict[str, Any]
) -> None:
    readings = [good(h) for h in range(10)]
    readings.insert(4, good(20, **bad))
    status, answer, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_PLANT, "readings": readings}
    )
    assert status == 200, answer
    assert answer["accepted"] == 10
    assert [(r["index"], r["status"], r.get("field")) for r in answer["rejected"]] == [
        (4, 422, field)
    ]
    assert await count(api) == 10


async def test_the_boundaries_themselves_are_accepted(api: Api) -> None:
    readings = [
        good(1, samples=0),
        good(2, samples=3600),
        good(3, consumed_wh=DEFAULT_MAX_HOUR_WH),
        {**good(4), "hour_start": "2000-01-01T00:00:00+00:00"},
    ]
    status, answer, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_PLANT, "readings": readings}
    )
    assert status == 200
    # 2000-01-01 is before the POD joined (the community was constituted in 2024)
    assert answer["accepted"] == 3
    assert [r["index"] for r in answer["rejected"]] == [3]
    assert "before the POD joined" in answer["rejected"][0]["message"]


async def test_the_community_setting_lowers_the_plausibility_bound(api: Api) -> None:
    status, answer, _ = await api.call(
        "PATCH", f"/communities/{api.community_a}", "admin_a", json={"max_hour_wh": 5_000}
    )
    assert status == 200, answer
    assert answer["max_hour_wh"] == 5_000
    readings = [good(1, consumed_wh=5_000), good(2, consumed_wh=5_001), good(3, withdrawn_wh=9_000)]
    status, answer, _ = await api.call(
        "POST", "/readings", "site_family", json={"pod": POD_FAMILY, "readings": readings}
    )
    assert status == 200
    assert answer["accepted"] == 1
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [
        (1, "consumed_wh"),
        (2, "withdrawn_wh"),
    ]


async def test_the_community_setting_has_bounds_too(api: Api) -> None:
    for value in (0, -1, 2**63, "10"):
        status, answer, _ = await api.call(
            "PATCH", f"/communities/{api.community_a}", "admin_a", json={"max_hour_wh": value}
        )
        assert status == 422, (value, answer)
