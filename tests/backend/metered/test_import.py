"""Import of the distributor's files: layouts, clock changes, all or nothing, idempotency."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cer_backend.domain.errors import InvalidInput
from cer_backend.domain.period import Period
from cer_backend.files.layouts import builtin_layout, load_layout, resolve_layout
from cer_backend.models import ReadingAudit, ReadingImport
from cer_backend.service.metered import import_file

from ..api.conftest import POD_FAMILY, POD_HOME, POD_PLANT
from .conftest import Db, day_values, wide_file

pytestmark = pytest.mark.database

WIDE = builtin_layout("dso-wide")


async def test_dso_wide_both_clock_changes_and_comma_decimals(db: Db) -> None:
    data = wide_file(
        [
            (POD_HOME, "30/03/2025", "Prelievo", day_values("30/03/2025", "0,125")),
            (POD_HOME, "30/03/2025", "Immissione", day_values("30/03/2025", "0,000")),
            (POD_HOME, "26/10/2025", "prelevata", day_values("26/10/2025", "0,1")),
            (POD_HOME, "26/10/2025", "IMMESSA", day_values("26/10/2025", "0,002")),
        ],
        crlf=True,
        bom=True,
    )
    outcome = await import_file(db.engine, db.community, data, "giugno.csv", WIDE)
    assert outcome.errors == []
    assert outcome.as_dict()["hours"] == {"new": 23 + 25, "unchanged": 0, "replaced": 0}
    assert outcome.pods == 1
    values = await db.values(POD_HOME, "dso")
    assert len(values) == 48
    assert values[:23] == [(500, 0)] * 23  # 4 × 0,125 kWh = 500 Wh, exactly
    assert values[23:] == [(400, 8)] * 25
    assert await db.count("ha") == 0


async def test_hourly_wide_rows_and_latin1_header(db: Db) -> None:
    text = "POD;Data;Grandezza;" + ";".join(f"h{h}" for h in range(24)) + " (è)\n"
    text += ";".join([POD_HOME, "01/06/2025", "Prelievo", *["1,5"] * 24]) + "\n"
    text += ";".join([POD_HOME, "01/06/2025", "Immissione", *["0"] * 24]) + ";;\n"
    outcome = await import_file(db.engine, db.community, text.encode("latin-1"), "orario.csv", WIDE)
    assert outcome.errors == []
    assert outcome.new == 24
    assert set(await db.values(POD_HOME, "dso")) == {(1500, 0)}


async def test_values_finer_than_a_wh_are_rounded_half_up_and_counted(db: Db) -> None:
    values = ["0,0005"] * 95 + ["0,0004"]
    data = wide_file(
        [
            (POD_HOME, "02/06/2025", "Prelievo", values),
            (POD_HOME, "02/06/2025", "Immissione", ["0,000"] * 96),
        ]
    )
    outcome = await import_file(db.engine, db.community, data, "f.csv", WIDE)
    assert outcome.errors == []
    assert outcome.warnings == ["f.csv:2: 96 values finer than 1 Wh rounded half-up"]
    stored = await db.values(POD_HOME, "dso")
    assert stored[0] == (4, 0)  # 4 × round_half_up(0.5 Wh) = 4
    assert stored[-1] == (3, 0)  # 3 × 1 + round_half_up(0.4) = 3


async def test_dso_long_end_stamps_across_the_autumn_change(db: Db) -> None:
    rows = ["POD;Fine intervallo;Prelievo kWh;Immissione kWh"]
    # 01:00–03:00 CEST then 02:00–03:00 CET: three local hours, the middle one twice
    for offset, hours in (("+02:00", (1, 2)), ("+01:00", (2,))):
        for hour in hours:
            for minute in (15, 30, 45, 60):
                end_hour, end_minute = (hour + 1, 0) if minute == 60 else (hour, minute)
                rows.append(
                    f"{POD_HOME};2025-10-26T{end_hour:02d}:{end_minute:02d}:00{offset};0,250;0,010"
                )
    data = ("\n".join(rows) + "\n").encode()
    outcome = await import_file(
        db.engine, db.community, data, "long.csv", resolve_layout("dso-long")
    )
    assert outcome.errors == []
    assert outcome.new == 3
    assert await db.values(POD_HOME, "dso") == [(1000, 40)] * 3
    # the same times read as starts shift every quarter: the first and last hours lack one
    start_layout = resolve_layout("dso-long").with_stamp("start")
    outcome = await import_file(db.engine, db.community, data, "long.csv", start_layout)
    assert outcome.errors == []
    assert (outcome.new, outcome.unchanged, outcome.replaced) == (0, 2, 0)
    assert outcome.warnings == ["long.csv:2: 2 POD-hours lack some intervals: not stored"]


async def test_dso_long_spring_change_has_23_hours(db: Db) -> None:
    rows = ["POD;Fine intervallo;Prelievo kWh;Immissione kWh"]
    start = dt.datetime(2025, 3, 30, tzinfo=ZoneInfo("Europe/Rome")).astimezone(dt.UTC)
    for q in range(92):
        end = (start + dt.timedelta(minutes=15 * (q + 1))).astimezone(ZoneInfo("Europe/Rome"))
        rows.append(f"{POD_HOME};{end.isoformat()};0,100;0,000")
    outcome = await import_file(
        db.engine, db.community, ("\n".join(rows)).encode(), "s.csv", builtin_layout("dso-long")
    )
    assert outcome.errors == []
    assert outcome.new == 23


async def test_cer_layout_with_point_decimals_in_wh_and_quarter_rows(db: Db) -> None:
    data = (
        "pod,hour_start,injected_wh,withdrawn_wh\n"
        f"{POD_PLANT},2025-06-01T12:00:00+02:00,41250,310\n"
        f"{POD_PLANT},2025-06-01T13:00:00+02:00,10,1\n"
        f"{POD_PLANT},2025-06-01T13:15:00+02:00,10,1\n"
        f"{POD_PLANT},2025-06-01T13:30:00+02:00,10,1\n"
        f"{POD_PLANT},2025-06-01T13:45:00+02:00,10,1\n"
        f"{POD_PLANT},2025-06-01T14:00:00+02:00,10,1\n"
        f"{POD_PLANT},2025-06-01T14:15:00+02:00,10,1\n"
    ).encode()
    outcome = await import_file(
        db.engine, db.community, data, "r.csv", builtin_layout("cer"), source="manual"
    )
    assert outcome.errors == []
    assert outcome.new == 2  # 14:00 has two quarters only: not stored, said in a warning
    assert outcome.warnings == ["r.csv:7: 1 POD-hours lack some intervals: not stored"]
    assert await db.values(POD_PLANT, "manual") == [(310, 41250), (4, 40)]


async def test_a_layout_file(db: Db, tmp_path: Path) -> None:
    layout_path = tmp_path / "vendor.yaml"
    layout_path.write_text(
        "kind: long\n"
        "delimiter: ','\n"
        "decimal: '.'\n"
        "encoding: latin-1\n"
        "skip_rows: 2\n"
        "interval_minutes: 60\n"
        "time_column: Inizio\n"
        "time_format: '%d/%m/%Y %H:%M%z'\n"
        "stamp: start\n"
        "value_columns: {withdrawn: Prelievo, injected: Immissione}\n"
        "unit: Wh\n",
        encoding="utf-8",
    )
    layout = load_layout(layout_path)
    data = "Esportazione\nContatore n° 12\nInizio,Prelievo,Immissione\n"
    data += "".join(f"01/06/2025 {h:02d}:00+0200,{100 + h},0\n" for h in range(3))
    outcome = await import_file(
        db.engine, db.community, data.encode("latin-1"), "v.csv", layout, pod=POD_HOME
    )
    assert outcome.errors == []
    assert await db.values(POD_HOME, "dso") == [(100, 0), (101, 0), (102, 0)]


def test_layout_files_with_unknown_keys_or_ambiguous_times_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "kind: long\ndelimiter: ';'\ndecimal: ','\ncolour: red\ntime_column: T\n"
        "time_format: '%d/%m/%Y %H:%M'\nvalue_columns: {withdrawn: A, injected: B}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        load_layout(path)
    messages = [str(p) for p in caught.value.problems]
    assert any("colour" in m and "unknown key" in m for m in messages)
    assert any("time_format" in m and "offset" in m for m in messages)


async def test_every_error_is_listed_and_nothing_is_stored(db: Db) -> None:
    good = day_values("01/06/2025")
    data = wide_file(
        [
            (POD_HOME, "01/06/2025", "Prelievo", good),
            (POD_HOME, "01/06/2025", "Immissione", good),
            (POD_HOME, "02/06/2025", "Prelievo", good[:95]),  # wrong count
            (POD_HOME, "31/06/2025", "Prelievo", good),  # bad date
            (POD_HOME, "03/06/2025", "Prelievo", ["abc", *good[1:]]),  # bad number
        ]
    )
    outcome = await import_file(db.engine, db.community, data, "bad.csv", WIDE)
    assert outcome.errors == [
        "bad.csv:4: 95 values for 02/06/2025: that day has 96 quarter-hours or 24 hours",
        "bad.csv:5: '31/06/2025' is not a date (%d/%m/%Y)",
        "bad.csv:6: value 1 'abc' is not an energy ≥ 0",
    ]
    assert await db.count() == 0


async def test_an_unknown_pod_and_a_pod_outside_its_membership(db: Db) -> None:
    data = wide_file(
        [
            ("IT001E99999999", "01/06/2025", "Prelievo", day_values("01/06/2025")),
            (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025")),
            (POD_FAMILY, "31/12/2024", "Prelievo", day_values("31/12/2024")),
            (POD_FAMILY, "01/01/2025", "Prelievo", day_values("01/01/2025")),
        ]
    )
    outcome = await import_file(db.engine, db.community, data, "m.csv", WIDE)
    assert outcome.errors == [
        "m.csv:2: POD IT001E99999999 is not in the community",
        f"m.csv:4: POD {POD_FAMILY} is not in the community on 2024-12-31"
        " (24 hours outside its membership)",
    ]
    assert await db.count() == 0


async def test_duplicates_same_values_pass_other_values_fail(db: Db) -> None:
    row = (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025"))
    inj = (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0"))
    outcome = await import_file(db.engine, db.community, wide_file([row, inj, row]), "d.csv", WIDE)
    assert outcome.errors == [] and outcome.new == 24
    other = (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,2"))
    outcome = await import_file(
        db.engine, db.community, wide_file([row, inj, other]), "d2.csv", WIDE
    )
    assert len(outcome.errors) == 1
    assert outcome.errors[0].startswith("d2.csv:4: IT001E00000001 2025-06-01T00:00:00+02:00")
    assert outcome.errors == [
        "d2.csv:4: IT001E00000001 2025-06-01T00:00:00+02:00 and 95 more intervals are also on"
        " line 2 with other values"
    ]


async def test_a_truncated_file_and_an_empty_file(db: Db) -> None:
    data = wide_file(
        [
            (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025")),
            (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025")),
        ]
    )
    truncated = data[: len(data) - 200]
    outcome = await import_file(db.engine, db.community, truncated, "t.csv", WIDE)
    assert len(outcome.errors) == 1 and outcome.errors[0].startswith("t.csv:3: ")
    assert "values for 01/06/2025" in outcome.errors[0]
    empty = await import_file(db.engine, db.community, b"", "e.csv", WIDE)
    assert empty.errors == ["e.csv:1: empty file: a header row is required"]
    header_only = await import_file(db.engine, db.community, data.split(b"\n")[0], "h.csv", WIDE)
    assert header_only.errors == ["h.csv:2: no readings after the header"]
    assert await db.count() == 0


async def test_dry_run_then_import_then_reimport_then_correction(db: Db) -> None:
    rows = [
        (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
        (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
    ]
    data = wide_file(rows)
    dry = await import_file(db.engine, db.community, data, "a.csv", WIDE, dry_run=True)
    assert (dry.new, dry.unchanged, dry.replaced, dry.dry_run) == (24, 0, 0, True)
    assert await db.count() == 0
    first = await import_file(db.engine, db.community, data, "a.csv", WIDE)
    assert (first.new, first.unchanged, first.replaced) == (24, 0, 0)
    again = await import_file(db.engine, db.community, data, "a.csv", WIDE)
    assert (again.new, again.unchanged, again.replaced) == (0, 24, 0)
    assert again.import_id is None  # nothing changed, nothing recorded
    corrected = list(day_values("01/06/2025", "0,125"))
    corrected[:4] = ["0,250"] * 4  # the first hour: 1,000 Wh instead of 500
    data2 = wide_file([(POD_HOME, "01/06/2025", "Prelievo", corrected), rows[1]])
    dry2 = await import_file(db.engine, db.community, data2, "b.csv", WIDE, dry_run=True)
    assert (dry2.new, dry2.unchanged, dry2.replaced) == (0, 23, 1)
    fixed = await import_file(db.engine, db.community, data2, "b.csv", WIDE)
    assert (fixed.new, fixed.unchanged, fixed.replaced) == (0, 23, 1)
    assert (await db.values(POD_HOME, "dso"))[0] == (1000, 0)
    async with db.engine.connect() as connection:
        audit = (await connection.execute(select(ReadingAudit.__table__))).all()  # type: ignore[arg-type]
        imports = (await connection.execute(select(ReadingImport.__table__))).all()  # type: ignore[arg-type]
    assert len(audit) == 1
    assert (audit[0].withdrawn_wh, audit[0].source) == (500, "dso")
    assert audit[0].import_id == first.import_id
    assert audit[0].replaced_by_import == fixed.import_id
    assert [(i.file_name, i.hours_new, i.hours_replaced) for i in imports] == [
        ("a.csv", 24, 0),
        ("b.csv", 0, 1),
    ]


async def test_the_same_file_imported_twice_at_once_stores_each_hour_once(db: Db) -> None:
    data = wide_file(
        [
            (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
            (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
        ]
    )
    outcomes = await asyncio.gather(
        *(import_file(db.engine, db.community, data, f"{n}.csv", WIDE) for n in range(4))
    )
    assert all(outcome.errors == [] for outcome in outcomes)
    assert sum(outcome.new for outcome in outcomes) == 24
    assert sum(outcome.unchanged for outcome in outcomes) == 3 * 24
    assert await db.count("dso") == 24
    async with db.engine.connect() as connection:
        imports = (await connection.execute(select(ReadingImport.__table__))).all()  # type: ignore[arg-type]
    assert len(imports) == 1


async def test_cer_layout_on_both_clock_change_days(db: Db) -> None:
    lines = ["pod,hour_start,injected_wh,withdrawn_wh"]
    for day in ("2025-03-30", "2025-10-26"):
        period = Period.parse(day)
        lines += [
            f"{POD_HOME},{period.hour_start(h).isoformat()},0,{100 + h}"
            for h in range(period.hours)
        ]
    outcome = await import_file(
        db.engine, db.community, "\n".join(lines).encode(), "cer.csv", builtin_layout("cer")
    )
    assert outcome.errors == []
    assert outcome.new == 23 + 25
    values = await db.values(POD_HOME, "dso")
    assert [w for w, _ in values] == [*(100 + h for h in range(23)), *(100 + h for h in range(25))]


async def test_a_file_without_one_complete_hour_stores_nothing_and_says_why(db: Db) -> None:
    data = (
        "POD;Fine intervallo;Prelievo kWh;Immissione kWh\n"
        f"{POD_HOME};2025-06-01T10:15:00+02:00;0,100;0,000\n"
    ).encode()
    outcome = await import_file(db.engine, db.community, data, "q.csv", builtin_layout("dso-long"))
    assert outcome.errors == []
    assert (outcome.new, outcome.unchanged, outcome.replaced) == (0, 0, 0)
    assert outcome.warnings == ["q.csv:2: 1 POD-hours lack some intervals: not stored"]
    assert await db.count() == 0
