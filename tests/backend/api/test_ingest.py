"""``POST /api/v1/readings``: the contract, idempotency, audit and every bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.models import Reading, ReadingAudit

from .conftest import POD_B, POD_FAMILY, POD_PLANT, Api

pytestmark = pytest.mark.database


def hour(day: int, h: int) -> str:
    return f"2025-06-{day:02d}T{h:02d}:00:00+02:00"


def reading(
    day: int = 1, h: int = 10, injected: int = 12_345, withdrawn: int = 500, **extra: object
) -> dict[str, object]:
    return {"hour_start": hour(day, h), "injected_wh": injected, "withdrawn_wh": withdrawn, **extra}


async def stored(api: Api) -> list[Reading]:
    engine = api.server.app[ENGINE_KEY]
    async with engine.connect() as connection:
        return list((await connection.execute(select(Reading.__table__))).all())  # type: ignore[arg-type]


async def test_a_batch_is_accepted_and_stored(api: Api) -> None:
    body = {
        "pod": POD_PLANT,
        "readings": [
            reading(h=10, produced_wh=15_100, consumed_wh=3_255, quality="measured", samples=360),
            reading(h=11, quality="estimated"),
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=body)
    assert status == 200
    assert answer == {"accepted": 2, "duplicates": 0, "replaced": 0, "rejected": []}
    rows = sorted(await stored(api), key=lambda r: r.hour_start)
    assert [r.injected_wh for r in rows] == [12_345, 12_345]
    assert rows[0].produced_wh == 15_100 and rows[0].samples == 360
    assert rows[1].quality == "estimated" and rows[1].produced_wh is None
    assert rows[0].hour_start.replace(tzinfo=UTC) == datetime(2025, 6, 1, 8, tzinfo=UTC)


async def test_the_same_batch_twice_is_all_duplicates(api: Api) -> None:
    body = {"pod": POD_PLANT, "readings": [reading(h=h) for h in range(24)]}
    first = await api.call("POST", "/readings", "site_plant", json=body)
    second = await api.call("POST", "/readings", "site_plant", json=body)
    assert first[1]["accepted"] == 24
    assert second[0] == 200
    assert second[1] == {"accepted": 0, "duplicates": 24, "replaced": 0, "rejected": []}
    assert len(await stored(api)) == 24


async def test_a_changed_value_replaces_and_is_audited(api: Api) -> None:
    await api.call(
        "POST",
        "/readings",
        "site_plant",
        json={"pod": POD_PLANT, "readings": [reading(h=9), reading(h=10)]},
    )
    status, answer, _ = await api.call(
        "POST",
        "/readings",
        "site_plant",
        json={
            "pod": POD_PLANT,
            "readings": [reading(h=9), reading(h=10, injected=999), reading(h=11)],
        },
    )
    assert status == 200
    assert answer == {"accepted": 1, "duplicates": 1, "replaced": 1, "rejected": []}
    engine = api.server.app[ENGINE_KEY]
    async with engine.connect() as connection:
        audit = (await connection.execute(select(ReadingAudit.__table__))).all()
        current = (
            await connection.execute(
                select(Reading.injected_wh).where(
                    Reading.hour_start == datetime(2025, 6, 1, 8, tzinfo=UTC)
                )
            )
        ).all()
    assert len(audit) == 1
    assert audit[0].injected_wh == 12_345 and audit[0].pod == POD_PLANT
    assert current == [(999,)]


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        (
            reading(h=10) | {"hour_start": "2025-06-01T10:30:00+02:00"},
            "hour_start",
            "start of an hour",
        ),
        (reading(h=10) | {"hour_start": "2025-06-01T10:00:00"}, "hour_start", "offset"),
        (reading(h=10) | {"injected_wh": -1}, "injected_wh", "≥ 0"),
        (reading(h=10) | {"injected_wh": "12"}, "injected_wh", "integer"),
        (reading(h=10) | {"withdrawn_wh": 1.5}, "withdrawn_wh", "integer"),
        (reading(h=10) | {"quality": "guessed"}, "quality", "one of"),
        (reading(h=10) | {"colour": "red"}, "colour", "not a known field"),
        ({"hour_start": hour(1, 10), "injected_wh": 1}, "withdrawn_wh", "required"),
        (reading(h=10, injected=200_000), "injected_wh", "implausible"),
        ("not an object", "", "object"),
    ],
)
async def test_a_bad_item_is_rejected_and_the_good_ones_stored(
    api: Api, item: object, field: str, words: str
) -> None:
    body = {"pod": POD_PLANT, "readings": [reading(h=8), item, reading(h=9)]}
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=body)
    assert status == 200
    assert answer["accepted"] == 2
    assert len(answer["rejected"]) == 1
    rejected = answer["rejected"][0]
    assert rejected["index"] == 1
    assert field in rejected.get("field", "") and words in rejected["message"]
    assert len(await stored(api)) == 2


async def test_a_batch_of_only_bad_items_names_each_with_its_status(api: Api) -> None:
    future = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    body = {
        "pod": POD_PLANT,
        "readings": [
            reading(injected=-5),
            {"hour_start": future.isoformat(), "injected_wh": 1, "withdrawn_wh": 1},
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=body)
    assert status == 200
    assert answer["accepted"] == 0
    assert [(e["index"], e["field"], e["status"]) for e in answer["rejected"]] == [
        (0, "injected_wh", 422),
        (1, "hour_start", 422),
    ]
    assert "not ended" in answer["rejected"][1]["message"]
    assert await stored(api) == []


async def test_an_hour_before_the_pod_joined_is_rejected(api: Api) -> None:
    body = {
        "pod": POD_FAMILY,
        "readings": [
            {"hour_start": "2024-12-31T23:00:00+01:00", "injected_wh": 0, "withdrawn_wh": 100},
            {"hour_start": "2025-01-01T00:00:00+01:00", "injected_wh": 0, "withdrawn_wh": 100},
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_family", json=body)
    assert status == 200
    assert answer["accepted"] == 1
    assert "before the POD joined" in answer["rejected"][0]["message"]


async def test_the_current_hour_is_refused_until_it_ends(api: Api) -> None:
    now = datetime.now(UTC)
    current = now.replace(minute=0, second=0, microsecond=0)
    previous = current - timedelta(hours=1)
    body = {
        "pod": POD_PLANT,
        "readings": [
            {"hour_start": previous.isoformat(), "injected_wh": 1, "withdrawn_wh": 1},
            {"hour_start": current.isoformat(), "injected_wh": 1, "withdrawn_wh": 1},
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=body)
    assert status == 200
    if now - current < timedelta(minutes=55):  # within 5 minutes of its end it is accepted
        assert answer["accepted"] == 1
        assert answer["rejected"][0]["index"] == 1


async def test_745_readings_are_refused_whole(api: Api) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    items = [
        {
            "hour_start": (start + timedelta(hours=i)).isoformat(),
            "injected_wh": 1,
            "withdrawn_wh": 1,
        }
        for i in range(745)
    ]
    status, problem, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_PLANT, "readings": items}
    )
    assert status == 422
    assert problem["errors"][0]["field"] == "readings"
    assert "at most 744" in problem["errors"][0]["message"]
    status, answer, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_PLANT, "readings": items[:744]}
    )
    assert status == 200 and answer["accepted"] == 744


async def test_a_body_over_1_mib_is_413(api: Api) -> None:
    body = json.dumps({"pod": POD_PLANT, "readings": [], "pad": "x" * (1024 * 1024)})
    status, problem, response = await api.call(
        "POST", "/readings", "site_plant", data=body, headers={"Content-Type": "application/json"}
    )
    assert status == 413
    assert response.content_type == "application/problem+json"
    assert "1 MiB" in problem["detail"]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ("{not json", 400, None),
        (json.dumps({"pod": POD_PLANT}), 422, "readings"),
        (json.dumps({"pod": 12, "readings": []}), 422, "pod"),
        (json.dumps({"pod": POD_PLANT, "readings": {}}), 422, "readings"),
        (json.dumps([1, 2]), 422, "body"),
    ],
)
async def test_malformed_requests_are_problems(
    api: Api, payload: str, status: int, field: str | None
) -> None:
    got, problem, response = await api.call(
        "POST",
        "/readings",
        "site_plant",
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    assert got == status
    assert response.content_type == "application/problem+json"
    assert problem["status"] == status and problem["title"] and problem["detail"]
    if field:
        assert any(e["field"] == field for e in problem["errors"])


async def test_unknown_pod_is_422_and_foreign_pod_403(api: Api) -> None:
    status, problem, _ = await api.call(
        "POST", "/readings", "root", json={"pod": POD_PLANT, "readings": []}
    )
    assert status == 403  # an admin does not upload
    status, problem, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_FAMILY, "readings": [reading()]}
    )
    assert status == 403
    assert problem["errors"][0]["field"] == "pod"
    status, _, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_B, "readings": [reading()]}
    )
    assert status == 403
    assert await stored(api) == []
