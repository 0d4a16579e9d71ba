"""Ingest through the HTTP API into PostgreSQL: 744-reading batches and single-hour uploads.

    python benchmarks/bench_ingest.py --database postgresql://USER:PW@127.0.0.1/cer_bench

The database must be a throw-away one: its backend tables are dropped first. The server runs
as `cer-backend serve` in its own process (as in production); the client sends concurrent
requests from this process and prints readings per second and uploads per second. The same
requests then go, in the same run, to a reference server (`reference_ingest_server.py`:
aiohttp alone, no validation, no database), and each figure is also given as a share of the
reference's: the part of the machine's HTTP and JSON capacity the backend keeps after its own
work, which a loaded machine changes far less than the absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, inspect, text

from cer_backend.database import create_engine as create_async_engine
from cer_backend.migrate import upgrade
from cer_backend.service.registry import import_community
from cer_backend.service.tokens import create_token
from cer_backend.settings import normalise_database_url

START = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=1)  # 2025-01-01T00:00+01:00


def community(pods: int) -> dict[str, object]:
    codes = [f"IT001E{n:08d}" for n in range(1, pods + 1)]
    return {
        "community": {
            "name": "CER Bench",
            "region": "Toscana",
            "cabina_primaria": "AC001E01725",
            "constituted": "2024-06-01",
            "cu_afa_eur_mwh": {"2025": 10.57},
            "statute": {
                "management_pct": 15,
                "management_from": "tip",
                "valorisation_to": "plant_owners",
                "consumers_by": "coincident_withdrawal",
                "surplus_to": "non_business_consumers",
            },
        },
        "members": [
            {"id": f"m{n}", "name": f"Member {n}", "type": "person", "pods": [code]}
            for n, code in enumerate(codes)
        ],
        "plants": [],
    }


def wipe(url: str) -> None:
    sync = create_engine(normalise_database_url(url))
    with sync.begin() as connection:
        for name in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    sync.dispose()


async def prepare(url: str, pods: int) -> tuple[str, list[str]]:
    engine = create_async_engine(url)
    await upgrade(engine)
    community_id, _ = await import_community(engine, community(pods))
    codes = [f"IT001E{n:08d}" for n in range(1, pods + 1)]
    token, _ = await create_token(engine, "site", community_id, codes)
    await engine.dispose()
    return token, codes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def readings(first_hour: int, count: int) -> list[dict[str, object]]:
    return [
        {
            "hour_start": (START + timedelta(hours=first_hour + i)).isoformat(),
            "injected_wh": (i * 37) % 5000,
            "withdrawn_wh": (i * 53) % 3000,
            "quality": "measured",
        }
        for i in range(count)
    ]


async def run_requests(
    base: str, token: str, bodies: list[dict[str, object]], concurrency: int
) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    queue = [json.dumps(body).encode() for body in reversed(bodies)]  # client CPU aside
    accepted = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while queue:
            body = queue.pop()
            async with session.post(f"{base}/api/v1/readings", data=body, headers=headers) as r:
                answer = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"{r.status}: {answer}")
                accepted += answer["accepted"]

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started, accepted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("CER_BENCH_DATABASE_URL"))
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--batches", type=int, default=200, help="744-reading requests")
    parser.add_argument("--singles", type=int, default=5000, help="one-reading requests")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    args = parser.parse_args()
    if not args.database:
        parser.error("--database URL (a throw-away PostgreSQL database) is required")
    url = normalise_database_url(args.database)
    wipe(url)
    token, codes = asyncio.run(prepare(url, args.pods))
    batches = [
        {"pod": codes[n % len(codes)], "readings": readings((n // len(codes)) * 744, 744)}
        for n in range(args.batches)
    ]
    offset = ((args.batches // len(codes)) + 1) * 744
    singles = [
        {"pod": codes[n % len(codes)], "readings": readings(offset + n // len(codes), 1)}
        for n in range(args.singles)
    ]
    env = dict(os.environ, CER_DATABASE_URL=url)
    backend = [sys.executable, "-m", "cer_backend", "serve", "--no-access-log", "--port"]
    reference = [sys.executable, str(Path(__file__).with_name("reference_ingest_server.py"))]
    figures = {}
    for name, command in (("backend", backend), ("reference", reference)):
        figures[name] = measure(
            command,
            env=env,
            token=token,
            batches=batches,
            singles=singles,
            concurrency=args.concurrency,
        )
    for kind, unit in (("batches", "readings/s"), ("singles", "uploads/s")):
        ours, ref = figures["backend"][kind], figures["reference"][kind]
        print(
            f"{kind}: backend {ours:,.0f} {unit}, reference (aiohttp alone) {ref:,.0f} {unit}:"
            f" {ours / ref:.2f} of the reference"
        )
    return 0


def measure(
    command: list[str],
    *,
    env: dict[str, str],
    token: str,
    batches: list[dict[str, object]],
    singles: list[dict[str, object]],
    concurrency: int,
) -> dict[str, float]:
    """Throughput of one server for the batches (readings/s) and the single hours (uploads/s)."""
    port = free_port()
    server = subprocess.Popen([*command, str(port)], env=env, stderr=subprocess.DEVNULL)
    name = "backend" if "cer_backend" in command else "reference"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        cpu = cpu_seconds(server.pid)
        elapsed, accepted = asyncio.run(run_requests(base, token, batches, concurrency))
        cpu = cpu_seconds(server.pid) - cpu
        per_second = accepted / elapsed
        print(
            f"{name}: 744-reading batches: {len(batches)} requests, {accepted} readings in "
            f"{elapsed:.2f} s = {per_second:,.0f} readings/s "
            f"(server CPU {cpu:.2f} s = {accepted / max(cpu, 1e-9):,.0f} readings per CPU-second)"
        )
        cpu = cpu_seconds(server.pid)
        elapsed, accepted = asyncio.run(run_requests(base, token, singles, concurrency))
        cpu = cpu_seconds(server.pid) - cpu
        uploads = len(singles) / elapsed
        print(
            f"{name}: single-hour uploads: {len(singles)} requests ({accepted} new readings) in "
            f"{elapsed:.2f} s = {uploads:,.0f} uploads/s "
            f"(server CPU {cpu:.2f} s = "
            f"{len(singles) / max(cpu, 1e-9):,.0f} uploads per CPU-second)"
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
    return {"batches": per_second, "singles": uploads}


if __name__ == "__main__":
    sys.exit(main())
