"""Several sources per POD-hour: the ranking in a run, completeness ranges, HA against meter."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from cer_backend.database import create_engine
from cer_backend.files.layouts import builtin_layout
from cer_backend.migrate import upgrade
from cer_backend.models import READING_SOURCES
from cer_backend.service.coverage import compare, coverage, differs
from cer_backend.service.ingest import ingest_readings
from cer_backend.service.metered import import_file
from cer_backend.service.registry import import_community, load_rules
from cer_backend.service.settlements import create_run
from cer_backend.service.sources import DEFAULT_RANKING, source_ranking

from ..api.conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT
from .conftest import Db, day_values, wide_file

pytestmark = pytest.mark.database

WIDE = builtin_layout("dso-wide")


def test_the_ranking_is_a_community_setting_with_a_default() -> None:
    assert source_ranking({"community": {}}) == ("dso", "ha", "manual", "estimate")
    assert source_ranking({"settings": {"reading_sources": ["ha", "dso"]}}) == (
        "ha",
        "dso",
        "manual",
        "estimate",
    )
    assert set(DEFAULT_RANKING) == set(READING_SOURCES)


def test_the_comparison_threshold_needs_both_bounds() -> None:
    assert differs(1_060, 1_000)  # 60 Wh and 6 %
    assert not differs(1_040, 1_000)  # 4 %, but only 40 Wh
    assert not differs(10_100, 10_000)  # 100 Wh, but only 1 %
    assert differs(60, 0)


async def _upload(db: Db, pod: str, hours: range, withdrawn: int, injected: int = 0) -> None:
    async with db.engine.connect() as connection:
        rules = await load_rules(connection, db.community)
    items = [
        {
            "hour_start": f"2025-06-01T{h:02d}:00:00+02:00",
            "injected_wh": injected,
            "withdrawn_wh": withdrawn,
        }
        for h in hours
    ]
    outcome = await ingest_readings(db.engine, rules, db.community, pod, items, token_id=None)
    assert outcome.rejected == []
    assert outcome.accepted + outcome.replaced + outcome.duplicates == len(items)


async def test_a_run_uses_dso_over_ha_and_counts_the_sources(db: Db) -> None:
    # HA has the home's whole day at 1 kWh an hour; the meter says 500 Wh for the same hours
    await _upload(db, POD_HOME, range(24), withdrawn=1_000)
    data = wide_file(
        [
            (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
            (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
        ]
    )
    outcome = await import_file(db.engine, db.community, data, "dso.csv", WIDE)
    assert outcome.new == 24
    # the upload after the import never overrides the meter, and the import kept HA's hours
    await _upload(db, POD_PLANT, range(10, 14), withdrawn=0, injected=20_000)
    assert await db.count("ha") == 28 and await db.count("dso") == 24
    run = await create_run(db.engine, db.community, "2025-06-01")
    result = run["result"]
    assert result["readings_by_source"] == {"dso": 24, "ha": 4, "manual": 0, "estimate": 0}
    assert result["withdrawn_wh"] == 24 * 500  # the meter's values, not HA's
    # a second HA upload with other values replaces only the HA hours
    await _upload(db, POD_HOME, range(24), withdrawn=2_000)
    again = await create_run(db.engine, db.community, "2025-06-01")
    assert again["result"]["withdrawn_wh"] == 24 * 500
    assert set(await db.values(POD_HOME, "dso")) == {(500, 0)}
    assert set(await db.values(POD_HOME, "ha")) == {(2_000, 0)}
    # what the dashboards read: one row per POD-hour, of the best source
    async with db.engine.connect() as connection:
        ranked = (
            await connection.execute(
                text(
                    "SELECT source, count(*), sum(withdrawn_wh) FROM readings_ranked"
                    " WHERE community_id = :c GROUP BY source ORDER BY source"
                ),
                {"c": db.community},
            )
        ).all()
    assert [tuple(r) for r in ranked] == [("dso", 24, 24 * 500), ("ha", 4, 0)]


async def test_the_completeness_report_names_the_missing_ranges(db: Db) -> None:
    rows = [
        (POD_FAMILY, "01/06/2025", "Prelievo", day_values("01/06/2025")),
        (POD_FAMILY, "01/06/2025", "Immissione", day_values("01/06/2025")),
        (POD_FAMILY, "03/06/2025", "Prelievo", day_values("03/06/2025")),
        (POD_FAMILY, "03/06/2025", "Immissione", day_values("03/06/2025")),
    ]
    await import_file(db.engine, db.community, wide_file(rows), "f.csv", WIDE)
    await _upload(db, POD_HOME, range(14, 24), withdrawn=100)
    status = await coverage(db.engine, db.community, "2025-06-01..2025-06-03")
    by_pod = {item["pod"]: item for item in status["pods"]}
    family = by_pod[POD_FAMILY]
    assert (family["expected"], family["present"], family["missing"]) == (72, 48, 24)
    assert family["missing_ranges"] == ["2025-06-02T00:00+02:00/2025-06-03T00:00+02:00"]
    assert family["by_source"] == {"dso": 48}
    home = by_pod[POD_HOME]
    assert home["missing_ranges"] == [
        "2025-06-01T00:00+02:00/2025-06-01T14:00+02:00",
        "2025-06-02T00:00+02:00/2025-06-04T00:00+02:00",
    ]
    assert by_pod[POD_PLANT]["missing_ranges"] == ["2025-06-01T00:00+02:00/2025-06-04T00:00+02:00"]
    assert status["expected"] == 3 * 72
    assert status["present"] == 48 + 10
    assert status["coverage_pct"] == round(100 * 58 / 216, 2)
    assert status["readings_by_source"]["dso"] == 48
    assert status["readings_by_source"]["ha"] == 10


async def test_the_family_is_expected_only_from_the_day_it_joined(db: Db) -> None:
    status = await coverage(db.engine, db.community, "2024-12")
    by_pod = {item["pod"]: item for item in status["pods"]}
    assert by_pod[POD_FAMILY]["expected"] == 0
    assert by_pod[POD_FAMILY]["coverage_pct"] is None
    assert by_pod[POD_HOME]["expected"] == 31 * 24


async def test_ha_against_the_meter(db: Db) -> None:
    await _upload(db, POD_HOME, range(24), withdrawn=500)
    meter = day_values("01/06/2025", "0,125")
    meter[40:44] = ["0,500"] * 4  # 10:00: the meter says 2,000 Wh, HA 500
    data = wide_file(
        [
            (POD_HOME, "01/06/2025", "Prelievo", meter),
            (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
        ]
    )
    await import_file(db.engine, db.community, data, "m.csv", WIDE)
    result = await compare(db.engine, db.community, "2025-06")
    assert [p["pod"] for p in result["pods"]] == [POD_HOME]
    item = result["pods"][0]
    assert item["hours_both"] == 24
    assert item["differing_hours"] == 1
    assert item["differences"] == [
        {
            "hour_start": "2025-06-01T10:00:00+02:00",
            "direction": "withdrawn_wh",
            "ha_wh": 500,
            "dso_wh": 2_000,
        }
    ]
    assert item["months"] == [
        {
            "month": "2025-06",
            "ha": {"hours": 24, "withdrawn_wh": 12_000, "injected_wh": 0},
            "dso": {"hours": 24, "withdrawn_wh": 13_500, "injected_wh": 0},
        }
    ]


async def test_a_community_that_prefers_home_assistant_settles_on_its_hours(
    database_url: str,
) -> None:
    """``settings.reading_sources`` in the community file reaches the run (stored and read)."""
    document = copy.deepcopy(COMMUNITY_A)
    document["settings"] = {"reading_sources": ["ha"]}
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        community, _ = await import_community(engine, document)
        db = Db(engine, community)
        await _upload(db, POD_HOME, range(24), withdrawn=1_000)
        data = wide_file(
            [
                (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
                (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
            ]
        )
        assert (await import_file(engine, community, data, "dso.csv", WIDE)).new == 24
        run = await create_run(engine, community, "2025-06-01")
        assert run["result"]["withdrawn_wh"] == 24 * 1_000  # Home Assistant's, as asked
        assert run["result"]["readings_by_source"]["ha"] == 24
        assert run["result"]["readings_by_source"]["dso"] == 0
    finally:
        await engine.dispose()
