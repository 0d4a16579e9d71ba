"""Metered data: reading the distributor's files, importing them, and `settle --readings`.

    python benchmarks/bench_readings.py --pods 100 [--database postgresql://…/cer_bench]

Writes a year of quarter-hour ``dso-wide`` files (one per month, two directions per POD and
day: 96 values a row, 92/100 on the clock-change days) for ``--pods`` PODs and measures, in
the same run:

- reading each file into hours with the backend's reader against ``pyarrow.csv.read_csv`` of
  the same bytes (the ratio must stay ≤ 3);
- importing the files into SQLite (and into PostgreSQL with ``--database``, a throw-away
  database: its backend tables are dropped), in quarter-hour values per second, with the
  peak RSS of the process;
- ``settle --readings``' reader on a readings CSV of the same PODs and year: the columnar
  path against the exact line-by-line reader (CPU seconds) and ``pyarrow.csv.read_csv``.

Rates are per value, so a run with 100 PODs says what 1,000 PODs would do (the work is
linear in the values; memory is bounded by one monthly file).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pcsv
import yaml
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from cer_backend.database import create_engine
from cer_backend.domain.period import Period
from cer_backend.files import parse_readings_csv
from cer_backend.files.columnar import read_fast
from cer_backend.files.community import read_community_text
from cer_backend.files.layouts import builtin_layout
from cer_backend.files.readings import load_readings
from cer_backend.migrate import upgrade
from cer_backend.service.metered import import_file
from cer_backend.service.registry import import_community
from cer_backend.settings import normalise_database_url

LABELS = [
    f"{q // 4:02d}:{q % 4 * 15:02d}-{(q + 1) // 4:02d}:{(q + 1) % 4 * 15:02d}" for q in range(96)
]


def community(pods: int) -> dict[str, Any]:
    """One municipality with a plant, the rest households."""
    members = [
        {"id": f"m{n}", "name": f"Member {n}", "type": "person", "pods": [f"IT001E{n:08d}"]}
        for n in range(1, pods + 1)
    ]
    members[0]["type"] = "municipality"
    return {
        "community": {
            "name": "CER Bench Readings",
            "region": "Toscana",
            "cabina_primaria": "AC001E01725",
            "constituted": "2024-06-01",
            "cu_afa_eur_mwh": {"2025": "10.57"},
            "statute": {
                "management_pct": 15,
                "management_from": "tip",
                "valorisation_to": "plant_owners",
                "consumers_by": "coincident_withdrawal",
                "surplus_to": "non_business_consumers",
            },
        },
        "members": members,
        "plants": [
            {
                "id": "p1",
                "pod": "IT001E00000001",
                "owner": "m1",
                "power_kw": 200,
                "source": "pv",
                "commissioned": "2024-09-01",
            }
        ],
    }


def write_files(folder: Path, pods: int, year: int) -> tuple[list[Path], Path, int]:
    """Monthly dso-wide files and the same data as a readings CSV; the number of values."""
    rng = np.random.default_rng(7)
    period = Period.parse(str(year))
    starts = period.day_starts.tolist()
    words = [f"{w},{k:03d}" for w in range(3) for k in range(1000)]
    header = "POD;Data;Grandezza;" + ";".join(LABELS) + "\n"
    paths: list[Path] = []
    values = 0
    quarters = rng.integers(0, 600, size=(pods, 2, period.hours * 4), dtype=np.int64)
    files: dict[str, list[str]] = {month: [header] for month in period.months}
    for index, day in enumerate(period.days):
        month = f"{day.year:04d}-{day.month:02d}"
        label = day.strftime("%d/%m/%Y")
        first, end = starts[index] * 4, starts[index + 1] * 4
        for p in range(pods):
            for d, word in ((0, "Prelievo"), (1, "Immissione")):
                cells = [words[v] for v in quarters[p, d, first:end].tolist()]
                files[month].append(f"IT001E{p + 1:08d};{label};{word};{';'.join(cells)}\n")
                values += end - first
    for month, lines in files.items():
        path = folder / f"{month}.csv"
        path.write_text("".join(lines), encoding="utf-8")
        paths.append(path)
    hourly = quarters.reshape(pods, 2, period.hours, 4).sum(axis=3)
    stamps = [period.hour_start(h).isoformat() for h in range(period.hours)]
    csv_path = folder / "readings.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write("pod,hour_start,injected_wh,withdrawn_wh\n")
        for p in range(pods):
            withdrawn, injected = hourly[p, 0].tolist(), hourly[p, 1].tolist()
            out.writelines(
                f"IT001E{p + 1:08d},{stamps[h]},{injected[h]},{withdrawn[h]}\n"
                for h in range(period.hours)
            )
    return paths, csv_path, values


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _skip(row: Any) -> str:
    return "skip"


def _cpu(action: Any, repeat: int = 3) -> float:
    """The best CPU time of a few runs (the machine is shared: the best is the cost)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        action()
        best = min(best, time.process_time() - started)
    return best


def bench_readers(paths: list[Path]) -> None:
    """The backend's reader against pyarrow.csv on the same bytes (best of 3 per file)."""
    layout = builtin_layout("dso-wide")
    options = pcsv.ParseOptions(delimiter=";", invalid_row_handler=_skip)
    ours = arrow = 0.0
    for path in paths:
        data = path.read_bytes()
        assert read_fast(data, layout, str(path)) is not None, path
        # the clock-change rows are longer or shorter than the header: skipped by pyarrow
        arrow += _cpu(lambda data=data: pcsv.read_csv(io.BytesIO(data), parse_options=options))
        ours += _cpu(lambda data=data: read_fast(data, layout, "bench"))
    print(
        f"dso-wide into hours: backend {ours:.2f} s CPU, pyarrow.csv.read_csv {arrow:.2f} s"
        f" -> ratio {ours / arrow:.2f} (goal <= 3); peak RSS {peak_rss_mb():.0f} MB"
    )


async def bench_import(url: str, paths: list[Path], values: int, pods: int, label: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        community_id, _ = await import_community(engine, community(pods))
        layout = builtin_layout("dso-wide")
        started = time.perf_counter()
        new = 0
        for path in paths:
            outcome = await import_file(
                engine, community_id, path.read_bytes(), str(path), layout,
                now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )  # fmt: skip
            assert not outcome.errors, outcome.errors[:3]
            new += outcome.new
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    print(
        f"import into {label}: {values:,} quarter-hour values ({new:,} POD-hours) in"
        f" {seconds:.1f} s = {values / seconds:,.0f} values/s; peak RSS {peak_rss_mb():.0f} MB"
    )


def run_import(url: str, paths: list[Path], values: int, pods: int, label: str) -> None:
    """:func:`bench_import` in its own process."""
    asyncio.run(bench_import(url, paths, values, pods, label))


def bench_settle_reader(csv_path: Path, pods: int) -> None:
    document = community(pods)
    parsed = read_community_text(yaml.safe_dump(document), "bench")
    period = Period.parse("2025")
    arrow = _cpu(lambda: pcsv.read_csv(csv_path))
    columnar = _cpu(lambda: load_readings(csv_path, parsed, period))
    fast = load_readings(csv_path, parsed, period)
    started = time.process_time()
    exact = parse_readings_csv(csv_path.read_text(encoding="utf-8"), parsed, period, "r.csv")
    line_by_line = time.process_time() - started
    assert np.array_equal(fast.withdrawn, exact.withdrawn)
    rows = pods * period.hours
    print(
        f"settle --readings, {rows:,} rows: columnar {columnar:.2f} s CPU (best of 3), line by line"
        f" {line_by_line:.2f} s, pyarrow.csv.read_csv {arrow:.2f} s; for 1,000 PODs the"
        f" columnar reader needs about {columnar * 1000 / pods:.1f} s (goal < 5 s)"
    )


def wipe(url: str) -> None:
    sync = create_sync_engine(url.replace("+asyncpg", "+psycopg"))
    with sync.begin() as connection:
        for name in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    sync.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--database", help="a throw-away PostgreSQL database")
    parser.add_argument("--readers-only", action="store_true", help="no import")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cer-bench-readings-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths, csv_path, values = write_files(folder, args.pods, 2025)
        print(
            f"{args.pods} PODs, a year: {len(paths)} dso-wide files,"
            f" {sum(p.stat().st_size for p in paths) / 1e6:.0f} MB, {values:,} values"
            f" (written in {time.perf_counter() - started:.1f} s)"
        )
        # each part in a fresh process: its peak RSS is its own
        spawn = multiprocessing.get_context("spawn")
        parts: list[tuple[Any, tuple[Any, ...]]] = [
            (bench_readers, (paths,)),
            (bench_settle_reader, (csv_path, args.pods)),
        ]
        if not args.readers_only:
            sqlite = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
            parts.append((run_import, (sqlite, paths, values, args.pods, "SQLite")))
            if args.database:
                url = normalise_database_url(args.database)
                wipe(url)
                parts.append((run_import, (url, paths, values, args.pods, "PostgreSQL")))
        for target, arguments in parts:
            process = spawn.Process(target=target, args=arguments)
            process.start()
            process.join()
            if process.exitcode:
                raise SystemExit(f"{target.__name__} failed")
        if args.database and not args.readers_only:
            wipe(normalise_database_url(args.database))


if __name__ == "__main__":
    main()
