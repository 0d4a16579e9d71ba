"""Settlement run of 1,000 PODs × one year from PostgreSQL, as `POST /api/v1/settlements`.

    python benchmarks/bench_settlement_run.py --database postgresql://USER:PW@127.0.0.1/cer_bench

The database must be a throw-away one: its backend tables are dropped first. A year of hourly
readings for every POD (8.76 million rows) is generated inside PostgreSQL, then the run is
timed: loading readings and prices, the engine, and storing the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect, text

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.service.prices import store_prices
from cer_backend.service.registry import import_community
from cer_backend.service.settlements import create_run, load_inputs, settle_inputs
from cer_backend.settings import normalise_database_url


def wipe(url: str) -> None:
    """Drop the backend tables of the throw-away database."""
    sync = create_sync_engine(url)
    with sync.begin() as connection:
        for name in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    sync.dispose()


def community(pods: int, plants: int) -> dict[str, object]:
    members = []
    for n in range(1, pods + 1):
        members.append(
            {
                "id": f"m{n}",
                "name": f"Member {n}",
                "type": "municipality" if n <= plants else "person",
                "pods": [f"IT001E{n:08d}"],
            }
        )
    return {
        "community": {
            "name": "CER Bench Run",
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
                "id": f"pv{n}",
                "pod": f"IT001E{n:08d}",
                "owner": f"m{n}",
                "power_kw": 200,
                "source": "pv",
                "commissioned": "2024-09-01",
            }
            for n in range(1, plants + 1)
        ],
    }


GENERATE = """
INSERT INTO readings (community_id, pod, hour_start, injected_wh, withdrawn_wh, quality,
                      received_at)
SELECT :community, 'IT001E' || lpad(p::text, 8, '0'), ts,
       CASE WHEN p <= :plants THEN
         (greatest(0, 6 - abs(extract(hour FROM ts AT TIME ZONE 'Europe/Rome') - 13))
          * 25000)::bigint ELSE 0 END,
       (300 + (p * 37 + extract(epoch FROM ts)::bigint / 3600) % 1200)::bigint,
       'measured', now()
FROM generate_series(1, :pods) AS p,
     generate_series(CAST(:start AS timestamptz), CAST(:last AS timestamptz),
                     interval '1 hour') AS ts
"""


async def prepare(url: str, pods: int, plants: int) -> str:
    engine = create_engine(url)
    await upgrade(engine)
    community_id, _ = await import_community(engine, community(pods, plants))
    start = datetime(2024, 12, 31, 23, tzinfo=UTC)
    last = datetime(2025, 12, 31, 22, tzinfo=UTC)
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(
            text(GENERATE),
            {
                "community": community_id,
                "plants": plants,
                "pods": pods,
                "start": start,
                "last": last,
            },
        )
        await connection.execute(text("ANALYZE readings"))
    hours = int((last - start).total_seconds() // 3600) + 1
    print(f"generated {pods * hours:,} readings in {time.perf_counter() - started:.1f} s")
    prices = [
        ("CNOR", start + timedelta(hours=i), Decimal(80) + Decimal(i % 24) * Decimal("4.5"))
        for i in range(hours)
    ]
    await store_prices(engine, prices, [community_id], "bench")
    await engine.dispose()
    return community_id


async def measure(url: str, community_id: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    for label in ("first run (builds the monthly packs)", "next run (packs up to date)"):
        started = time.perf_counter()
        inputs = await load_inputs(engine, community_id, "2025")
        loaded = time.perf_counter()
        settle_inputs(inputs)
        settled = time.perf_counter()
        run = await create_run(engine, community_id, "2025")
        elapsed = time.perf_counter() - settled
        print(
            f"{label}: load readings and prices {loaded - started:.2f} s, engine "
            f"{settled - loaded:.2f} s; the whole run as the API makes it (load, settle, store) "
            f"{elapsed:.2f} s for {len(inputs.energy.pods)} PODs × {inputs.period.hours} hours; "
            f"shared {run['shared_wh'] / 1e6:,.1f} MWh, TIP {run['tip_eur']} €"
        )
    await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("CER_BENCH_DATABASE_URL"))
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data of a previous run of this script"
    )
    args = parser.parse_args()
    if not args.database:
        parser.error("--database URL (a throw-away PostgreSQL database) is required")
    url = normalise_database_url(args.database)
    if args.reuse:
        community_id = "cer-bench-run"
    else:
        wipe(url)
        community_id = asyncio.run(prepare(url, args.pods, args.plants))
    asyncio.run(measure(url, community_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
