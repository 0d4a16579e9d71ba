"""The packed reader of the alert rules gives exactly what the row-by-row reader gave: the
best-ranked source's values, ``produced_wh`` (−1 unknown), and where Home Assistant and the
distributor have each hour, with several sources of the same hours mixed."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from cer_backend.database import create_engine
from cer_backend.domain.period import epoch_hour
from cer_backend.models import Reading
from cer_backend.service.alerts import data as data_module
from cer_backend.service.alerts.data import AlertData, load_alert_data, window_start
from cer_backend.service.alerts.rules import evaluate
from cer_backend.service.alerts.window import read_window, read_window_rows

from .builders import AT, HOME, PLANT_A, ROME, _build, build, community, readings

pytestmark = pytest.mark.database


def test_packed_reader_equals_the_row_reader(database_url: str) -> None:
    community_id = build(database_url)
    start = datetime(2025, 3, 31, 12, tzinfo=UTC)  # Home Assistant's hours begin at 22:00

    async def scenario() -> None:
        engine = create_engine(database_url)
        try:
            extra = []
            for k in range(48):
                moment = start + timedelta(hours=k)
                # hours of a source ranked below Home Assistant, one with a larger value,
                # and Home Assistant's production of a plant
                extra.append(
                    {
                        "community_id": community_id,
                        "pod": HOME,
                        "hour_start": moment,
                        "source": "manual" if k % 2 else "estimate",
                        "injected_wh": 0,
                        "withdrawn_wh": 9_999 + k,
                        "quality": "estimated",
                        "received_at": moment,
                    }
                )
            async with engine.begin() as connection:
                await connection.execute(insert(Reading), extra)
                await connection.execute(
                    Reading.__table__.update()  # type: ignore[attr-defined]
                    .where(Reading.pod == PLANT_A, Reading.source == "ha")
                    .values(produced_wh=Reading.injected_wh + 7)
                )
            first = epoch_hour(start) + 2
            end = epoch_hour(AT.astimezone(UTC)) + 3
            async with engine.connect() as connection:
                window = await read_window(connection, community_id, first, end)
                pods, expected = await read_window_rows(connection, community_id, first, end)
            assert sorted(window.pod_names) == list(pods)
            got = window.matrices(pods, end - first)
            names = ("injected", "withdrawn", "produced", "present", "ha", "dso")
            for name, mine, theirs in zip(names, got, expected, strict=True):
                assert mine.dtype == theirs.dtype, name
                assert np.array_equal(mine, theirs), name
            # what the comparison covers: all four sources, known production, both flags
            present, ha, dso = expected[3], expected[4], expected[5]
            assert ha.sum() > dso.sum() > 0 and present.sum() >= ha.sum()
            assert (expected[2] > 0).any() and (expected[1] >= 9_999).any()
            home = pods.index(HOME)
            cell = epoch_hour(start) + 20 - first
            # Home Assistant's hour outranks the manual value of the same hour
            assert expected[1][home, cell] == 300
        finally:
            await engine.dispose()

    asyncio.run(scenario())


@pytest.mark.postgresql_only
def test_older_months_from_the_monthly_packs_change_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: in September the surplus rule reads from January; the months before the
    recent history come from settlement's packs, and the snapshot and its findings are the
    ones of reading every hour packed per POD."""
    at = datetime(2025, 9, 15, 12, tzinfo=ROME)
    rows = readings(first=date(2025, 1, 1), until=at)
    community_id = asyncio.run(_build(database_url, community(), rows, at))

    async def snapshot(split: bool) -> AlertData:
        if not split:
            monkeypatch.setattr(data_module, "_older_months", lambda *args: None)
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await load_alert_data(connection, community_id, at)
        finally:
            monkeypatch.undo()
            await engine.dispose()

    packed, whole = asyncio.run(snapshot(True)), asyncio.run(snapshot(False))
    older = data_module._older_months(
        window_start(at.astimezone(ROME)), at.astimezone(ROME), packed.profile, "Europe/Rome"
    )
    assert older is not None and older.months == [
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-04",
        "2025-05",
    ]
    assert packed.pods == whole.pods and packed.first_hour == whole.first_hour
    for name in ("injected", "withdrawn", "present"):
        assert np.array_equal(getattr(packed, name), getattr(whole, name)), name
    recent = slice(older.hours, None)
    for name in ("produced", "ha", "dso"):
        assert np.array_equal(getattr(packed, name)[:, recent], getattr(whole, name)[:, recent])
    assert packed.present[:, : older.hours].sum() > 0  # the packs did carry the old months
    assert [f.cause for f in evaluate(packed)] == [f.cause for f in evaluate(whole)]
