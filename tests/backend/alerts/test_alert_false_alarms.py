"""Quiet by design: the example community's year raises no ``production_low``,
``lighting_daytime`` or ``baseload_jump`` alert, yet the same rules see a fault planted in
the same data. The example's public lighting (two PODs) and its buildings are given their
roles here, as a referent would in the community file; the generator plants none of these
three faults (its only planted fault is a household meter silent for three days in November,
which ``site_silent`` and ``data_incomplete`` are for).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import text

from cer_backend.cli import main
from cer_backend.database import create_engine
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.files import load_community, load_readings
from cer_backend.service.alerts.config import profile_of
from cer_backend.service.alerts.data import AlertData
from cer_backend.service.alerts.rules import RULES, Finding

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "comune"
ROME = ZoneInfo("Europe/Rome")
QUIET = ("production_low", "lighting_daytime", "baseload_jump")
LIGHTING = ("IT001E00000107", "IT001E00000108")
BUILDINGS = (
    "IT001E00000101",  # schools, town hall, gym, depot, library
    "IT001E00000102",
    "IT001E00000103",
    "IT001E00000104",
    "IT001E00000105",
    "IT001E00000106",
    "IT001E00000201",  # parish
    "IT001E00000204",  # rest home
)
ROLES = {**dict.fromkeys(LIGHTING, "lighting"), **dict.fromkeys(BUILDINGS, "building")}


@pytest.fixture(scope="module")
def example() -> tuple[Any, HourlyEnergy]:
    community = load_community(EXAMPLE / "community.yaml")
    return community, load_readings(EXAMPLE / "readings.csv", community)


def _snapshot(community: Any, energy: HourlyEnergy, at: dt.datetime) -> AlertData:
    """The rules' view of the example at ``at``: the hours that ended by then."""
    end = int(at.timestamp()) // 3600 - energy.period.start_epoch_hour
    profile = replace(profile_of(community), roles=ROLES)
    present = energy.present[:, :end]
    return AlertData(
        community_id="example",
        community=community,
        profile=profile,
        at=at.astimezone(dt.UTC),
        zone=ROME,
        first_hour=energy.period.start_epoch_hour,
        pods=energy.pods,
        injected=energy.injected[:, :end],
        withdrawn=energy.withdrawn[:, :end],
        produced=np.full(present.shape, -1, dtype=np.int64),
        present=present,
        ha=present,
        dso=present,
    )


def _quiet_findings(data: AlertData) -> list[Finding]:
    return [f for kind in QUIET for f in RULES[kind](data)]


def test_the_example_year_raises_none_of_the_quiet_alerts(example: tuple[Any, Any]) -> None:
    community, energy = example
    day, found = dt.date(2025, 1, 2), []
    while day <= dt.date(2025, 12, 31):  # every evening: every day and night is judged
        at = dt.datetime.combine(day, dt.time(23), tzinfo=ROME)
        found += [
            (day.isoformat(), f.cause) for f in _quiet_findings(_snapshot(community, energy, at))
        ]
        day += dt.timedelta(days=1)
    assert found == []


def _pod_row(energy: HourlyEnergy, pod: str) -> int:
    return energy.pods.index(pod)


def test_the_same_rules_see_faults_planted_in_the_example(example: tuple[Any, Any]) -> None:
    community, energy = example
    injected, withdrawn = energy.injected.copy(), energy.withdrawn.copy()
    period = energy.period
    # the town hall's inverter stops on 10 June; a street lamp burns at noon on 11 June;
    # the library's night load triples from the night of 12 June
    town_hall = _pod_row(energy, "IT001E00000103")
    june_10 = period.hour_index(dt.date(2025, 6, 10))
    withdrawn[town_hall, june_10 : june_10 + 24] += injected[town_hall, june_10 : june_10 + 24]
    injected[town_hall, june_10 : june_10 + 24] = 0
    lamp = _pod_row(energy, LIGHTING[0])
    june_11 = period.hour_index(dt.date(2025, 6, 11))
    withdrawn[lamp, june_11 + 12 : june_11 + 14] = 900
    library = _pod_row(energy, "IT001E00000106")
    for night in (12, 13):
        start = period.hour_index(dt.date(2025, 6, night))
        withdrawn[library, start : start + 5] *= 3
    faulty = HourlyEnergy(period, energy.pods, injected, withdrawn, energy.present)
    at = dt.datetime(2025, 6, 13, 23, tzinfo=ROME)
    causes_then = {
        f.cause
        for day_at in (dt.datetime(2025, 6, 11, 23, tzinfo=ROME), at)
        for f in _quiet_findings(_snapshot(community, faulty, day_at))
    }
    assert causes_then == {
        "production_low:municipio",
        f"lighting_daytime:{LIGHTING[0]}",
        "baseload_jump:IT001E00000106",
    }


@pytest.mark.database
def test_a_normal_week_of_the_demo_through_alerts_check(database_url: str, tmp_path: Path) -> None:
    env = dict(os.environ, CER_DATA_DIR=str(tmp_path / "data"), CER_DATABASE_URL=database_url)
    demo = subprocess.run(
        [sys.executable, "-m", "cer_backend", "demo", "--example", str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr

    async def give_roles() -> None:  # as the community file would, with role: on its PODs
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                for pod, role in ROLES.items():
                    await connection.execute(
                        text("UPDATE pods SET role = :role WHERE pod = :pod"),
                        {"role": role, "pod": pod},
                    )
        finally:
            await engine.dispose()

    asyncio.run(give_roles())
    kinds: list[str] = []
    for day in (12, 15, 18):  # a week of May
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(
                [
                    "alerts",
                    "check",
                    "--community",
                    "cer-borgo-sole",
                    "--at",
                    f"2025-05-{day}T23:00+02:00",
                    "--json",
                    "--database",
                    database_url,
                ]
            )
        assert code == 0
        kinds += [a["kind"] for a in json.loads(out.getvalue())["alerts"]]
    assert kinds  # the check ran and found what the example has (surplus, DSO data)
    assert not set(kinds) & set(QUIET)
