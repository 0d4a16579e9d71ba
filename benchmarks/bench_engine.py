"""Benchmark of the settlement engine: one year, hourly, 1,000 and 10,000 PODs, data in memory.

Run ``python benchmarks/bench_engine.py`` (or with ``--pods 10000 --repeat 3``). It builds a
synthetic community (one plant every 20 PODs, the rest consumers, a third of them with an
exempt capital-grant plant mix), a year of hourly readings as ``int64`` arrays and prices, and
times ``settle`` only: reading files and building arrays are not measured. The goal is
10,000 PODs × 8,760 hours in under 1 s on one core.
"""

from __future__ import annotations

import argparse
import os
import time
from decimal import Decimal
from typing import Any

# one core: keep BLAS and numpy's helpers single-threaded
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

from cer_backend.domain.community import Community, parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices
from cer_backend.domain.settlement import settle

PLANT_EVERY = 20
TYPES = ("person", "person", "person", "sme", "association", "third_sector")


def build_community(pods: int) -> Community:
    """A community with ``pods`` points: one plant every 20 PODs."""
    members: list[dict[str, Any]] = []
    plants: list[dict[str, Any]] = []
    for i in range(pods):
        code = f"IT001E{i:08d}"
        if i % PLANT_EVERY == 0:
            plants.append(
                {
                    "id": f"plant{i}",
                    "pod": code,
                    "owner": "comune",
                    "power_kw": [20, 100, 250, 700][(i // PLANT_EVERY) % 4],
                    "source": "pv",
                    "commissioned": f"2024-{(i // PLANT_EVERY) % 12 + 1:02d}-15",
                    "capital_grant_pct": [0, 0, 20][(i // PLANT_EVERY) % 3],
                }
            )
        else:
            members.append(
                {
                    "id": f"m{i}",
                    "name": f"Member {i}",
                    "type": TYPES[i % len(TYPES)],
                    "pods": [code],
                    **({"joined": "2025-04-01"} if i % 97 == 0 else {}),
                }
            )
    members.append(
        {
            "id": "comune",
            "name": "Comune",
            "type": "municipality",
            "pods": [p["pod"] for p in plants],
        }
    )
    return parse_community(
        {
            "community": {
                "name": "Bench",
                "region": "Toscana",
                "cabina_primaria": "AC001E01725",
                "constituted": "2024-01-01",
                "cu_afa_eur_mwh": {"2025": Decimal("10.57")},
                "statute": {
                    "management_pct": 15,
                    "management_from": "tip",
                    "valorisation_to": "plant_owners",
                    "social_fund_pct": 5,
                    "producers_pct": 20,
                },
            },
            "members": members,
            "plants": plants,
        }
    )


def build_energy(community: Community, period: Period, seed: int = 1) -> HourlyEnergy:
    """Random but plausible hourly readings: PV bell by day, consumers' withdrawal."""
    rng = np.random.default_rng(seed)
    pods = sorted({p for m in community.members for p in m.pods})
    hours = period.hours
    local_hour = (np.arange(hours) + 1) % 24  # CET approximation is enough for load shape
    sun = np.clip(np.sin((local_hour - 6) / 12 * np.pi), 0, None)
    plant_pods = {p.pod: p for p in community.plants}
    injected = np.zeros((len(pods), hours), dtype=np.int64)
    withdrawn = rng.integers(100, 1_500, size=(len(pods), hours), dtype=np.int64)
    for row, pod in enumerate(pods):
        plant = plant_pods.get(pod)
        if plant is not None:
            peak = float(plant.power_kw) * 700
            injected[row] = (sun * peak * rng.uniform(0.3, 1.0, hours)).astype(np.int64)
            withdrawn[row] //= 4
    return HourlyEnergy.from_arrays(period, pods, injected, withdrawn)


def build_prices(period: Period, seed: int = 2) -> HourlyPrices:
    """Hourly CNOR prices around 110 €/MWh, some negative."""
    rng = np.random.default_rng(seed)
    start = period.start_epoch_hour
    micro = rng.integers(-10_000_000, 250_000_000, size=period.hours)
    return HourlyPrices({"CNOR": {start + h: int(v) for h, v in enumerate(micro)}})


def bench(pods: int, repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``settle`` over one year, in seconds.

    The CPU time of the process is printed too: on a shared machine it is the steadier figure.
    """
    period = Period.parse("2025")
    community = build_community(pods)
    energy = build_energy(community, period)
    prices = build_prices(period)
    best = best_cpu = float("inf")
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = settle(community, energy, prices, period)
        best = min(best, time.perf_counter() - began)
        best_cpu = min(best_cpu, time.process_time() - began_cpu)
    print(
        f"{pods:>6} PODs × {period.hours} hours: {best:.3f} s wall, {best_cpu:.3f} s CPU "
        f"(best of {repeat}; {len(community.plants)} plants, {len(community.members)} members, "
        f"shared {result.shared_wh / 1e6:,.0f} MWh, TIP {float(result.tip):,.0f} €)"
    )
    return best


def main() -> None:
    """Print the figures for 1,000 and 10,000 PODs (or ``--pods``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for pods in args.pods:
        bench(pods, args.repeat)


if __name__ == "__main__":
    main()
