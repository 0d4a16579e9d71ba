"""Alert rules of a community of 1,000 PODs over a month of hours, as `alerts check` runs them.

    python benchmarks/bench_alerts.py [--pods 1000] [--database postgresql://…/cer_bench]

Stores a community (plants, street lighting, public buildings, households) and every POD's
Home Assistant hours from 1 May 2025 to the evaluation in SQLite (and in PostgreSQL with
``--database``, a throw-away database: its backend tables are dropped), then evaluates every
rule at
2025-06-01 12:00 as ``alerts check --dry-run`` does, twice in the same run:

- with the readings packed per POD and source by the database (what the rules use);
- with the reference, every reading fetched as a row and placed one by one (the reader
  before it).

It prints the seconds of each (the reading and the rules apart) and their ratio; both must
find the same alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.service.alerts import data as alert_data
from cer_backend.service.alerts.rules import evaluate
from cer_backend.service.alerts.window import read_window_rows
from cer_backend.service.registry import import_community
from cer_backend.settings import normalise_database_url

ROME = ZoneInfo("Europe/Rome")
AT = datetime(2025, 6, 1, 12, tzinfo=ROME)
FIRST = datetime(2025, 5, 1, tzinfo=ROME).astimezone(UTC)
LAST = AT.astimezone(UTC)


def pod_of(n: int) -> str:
    return f"IT001E{n:08d}"


def community(pods: int, plants: int, lights: int, buildings: int) -> dict[str, Any]:
    """A municipality with the plants, the lighting and the buildings; the rest households."""
    town = [pod_of(n) for n in range(1, plants + 1)]
    town += [{"pod": pod_of(n), "role": "lighting"} for n in range(plants + 1, plants + lights + 1)]
    town += [
        {"pod": pod_of(n), "role": "building"}
        for n in range(plants + lights + 1, plants + lights + buildings + 1)
    ]
    members: list[dict[str, Any]] = [
        {"id": "comune", "name": "Comune", "type": "municipality", "pods": town}
    ]
    first_home = plants + lights + buildings + 1
    members += [
        {"id": f"m{n}", "name": f"Member {n}", "type": "person", "pods": [pod_of(n)]}
        for n in range(first_home, pods + 1)
    ]
    return {
        "community": {
            "name": "CER Bench Alerts",
            "region": "Toscana",
            "cabina_primaria": "AC001E01725",
            "constituted": "2024-06-01",
            "location": {"lat": 43.45, "lon": 11.10},
            "cu_afa_eur_mwh": {"2025": "10.57"},
            "statute": {
                "management_pct": 15,
                "management_from": "tip",
                "valorisation_to": "plant_owners",
            },
        },
        "members": members,
        "plants": [
            {
                "id": f"pv{n}",
                "pod": pod_of(n),
                "owner": "comune",
                "power_kw": 50,
                "source": "pv",
                "commissioned": "2024-09-01",
            }
            for n in range(1, plants + 1)
        ],
    }


def hour_values(n: int, moment: datetime, plants: int, lights: int) -> tuple[int, int]:
    """(injected, withdrawn) of POD ``n`` in the hour starting at ``moment`` (UTC)."""
    local = moment.astimezone(ROME).hour
    if n <= plants:
        pv = max(0, 6 - abs(local - 13)) * 6_000
        return (pv, 0) if pv else (0, 50)
    if n <= plants + lights:
        return 0, (0 if 6 <= local < 21 else 500)
    return 0, 300 + (n * 37 + local) % 400


def rows(community_id: str, pods: int, plants: int, lights: int) -> list[tuple[Any, ...]]:
    """Every POD's Home Assistant hours from 1 May 2025 to the evaluation."""
    out = []
    moment = FIRST
    while moment < LAST:
        for n in range(1, pods + 1):
            injected, withdrawn = hour_values(n, moment, plants, lights)
            out.append((community_id, pod_of(n), moment, "ha", injected, withdrawn))
        moment += timedelta(hours=1)
    return out


def wipe(url: str) -> None:
    """Drop the backend tables of the throw-away database."""
    sync = create_sync_engine(url)
    with sync.begin() as connection:
        for name in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    sync.dispose()


async def prepare(url: str, args: argparse.Namespace) -> str:
    engine = create_engine(url)
    await upgrade(engine)
    data = community(args.pods, args.plants, args.lights, args.buildings)
    community_id, _ = await import_community(engine, data)
    await engine.dispose()
    values = rows(community_id, args.pods, args.plants, args.lights)
    received = LAST.isoformat()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with sqlite3.connect(path) as connection:
            connection.executemany(
                "INSERT INTO readings (community_id, pod, hour_start, source, injected_wh,"
                " withdrawn_wh, quality, received_at) VALUES (?, ?, ?, ?, ?, ?, 'measured', ?)",
                [
                    (c, p, m.strftime("%Y-%m-%d %H:%M:%S.000000"), s, i, w, received)
                    for c, p, m, s, i, w in values
                ],
            )
    else:
        sync = create_sync_engine(url)
        with sync.begin() as connection:
            raw: Any = connection.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY readings (community_id, pod, hour_start, source, injected_wh,"
                    " withdrawn_wh, quality, received_at) FROM STDIN"
                ) as copy,
            ):
                for row in values:
                    copy.write_row((*row, "measured", LAST))
            connection.execute(text("ANALYZE readings"))
        sync.dispose()
    return community_id


class _RowWindow:
    """The reference reader behind the interface of :class:`Window`."""

    def __init__(self, pods: tuple[str, ...], matrices: tuple[Any, ...]) -> None:
        self.pod_names = pods
        self._matrices = matrices

    def matrices(self, pods: tuple[str, ...], hours: int, offset: int = 0) -> tuple[Any, ...]:
        index = [pods.index(pod) for pod in self.pod_names]
        out = []
        for k, matrix in enumerate(self._matrices):
            target = np.full((len(pods), hours), -1 if k == 2 else 0, dtype=matrix.dtype)
            target[index, offset:] = matrix
            out.append(target)
        return tuple(out)


async def read_rows(connection: Any, community_id: str, first: int, end: int) -> Any:
    pods, matrices = await read_window_rows(connection, community_id, first, end)
    return _RowWindow(pods, matrices)


async def evaluate_once(url: str, community_id: str, reader: Any) -> tuple[float, float, Any]:
    """Seconds to read the snapshot, seconds of the rules, and the causes found."""
    alert_data.read_window = reader  # type: ignore[attr-defined]
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        async with engine.connect() as connection:
            snapshot = await alert_data.load_alert_data(connection, community_id, AT)
        loaded = time.perf_counter()
        findings = evaluate(snapshot)
        done = time.perf_counter()
    finally:
        await engine.dispose()
    return loaded - started, done - loaded, sorted(f.cause for f in findings)


async def measure(url: str, community_id: str, label: str, pods: int) -> None:
    packed, older = alert_data.read_window, alert_data._older_months
    try:
        fast = await evaluate_once(url, community_id, packed)
        fast = min(fast, await evaluate_once(url, community_id, packed))
        # the reference: every hour of the window as a row (no monthly packs either)
        alert_data._older_months = lambda *args: None  # type: ignore[attr-defined]
        slow = await evaluate_once(url, community_id, read_rows)
    finally:
        alert_data.read_window = packed  # type: ignore[attr-defined]
        alert_data._older_months = older  # type: ignore[attr-defined]
    if fast[2] != slow[2]:
        raise SystemExit(f"{label}: the two readers found different alerts")
    total_fast, total_slow = fast[0] + fast[1], slow[0] + slow[1]
    counts = Counter(cause.split(":", 1)[0] for cause in fast[2])
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
    print(
        f"{label}: every rule for {pods} PODs × a month of hours: packed {total_fast:.2f} s "
        f"(reading {fast[0]:.2f} s, rules {fast[1]:.2f} s); row by row {total_slow:.2f} s "
        f"(reading {slow[0]:.2f} s); {total_slow / total_fast:.1f}× faster; "
        f"{len(fast[2])} alerts ({kinds})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("CER_BENCH_DATABASE_URL"))
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--lights", type=int, default=20)
    parser.add_argument("--buildings", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        community_id = asyncio.run(prepare(url, args))
        asyncio.run(measure(url, community_id, "SQLite", args.pods))
    if args.database:
        url = normalise_database_url(args.database)
        wipe(url)
        community_id = asyncio.run(prepare(url, args))
        asyncio.run(measure(url, community_id, "PostgreSQL", args.pods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
