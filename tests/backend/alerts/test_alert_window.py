"""The packed reader of the alert rules gives exactly what the row-by-row reader gave: the
best-ranked source's values, ``produced_wh`` (−1 unknown), and where Home Assistant and the
distributor have each hour, with several sources of the same hours mixed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from cer_backend.database import create_engine
from cer_backend.domain.period import epoch_hour
from cer_backend.models import Reading
from cer_backend.service.alerts.window import read_window, read_window_rows

from .builders import AT, HOME, PLANT_A, build

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
