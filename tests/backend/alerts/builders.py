"""Situations for the alert tests, built in data: a small community and its hourly readings.

The normal data are regular on purpose (a clear sky every day, fixed loads), so each test
changes one thing and the alerts it expects are exactly the ones that change causes.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import math
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import elevation
from sqlalchemy import insert

from cer_backend.cli import main
from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.models import Reading
from cer_backend.service.registry import import_community

ROME = ZoneInfo("Europe/Rome")
AT = datetime(2025, 6, 15, 12, 0, tzinfo=ROME)
FIRST_DAY = date(2025, 4, 1)

PLANT_A = "IT001E00000011"
PLANT_B = "IT001E00000012"
PLANT_C = "IT001E00000013"
LIGHTS = "IT001E00000021"
TOWN_HALL = "IT001E00000031"
HOME = "IT001E00000041"
PLANT_KW = {PLANT_A: 50, PLANT_B: 50, PLANT_C: 20}
LOCATION = {"lat": 43.45, "lon": 11.10}

COMMUNITY: dict[str, Any] = {
    "community": {
        "name": "CER Avvisi",
        "region": "Toscana",
        "cabina_primaria": "AC001E01725",
        "location": LOCATION,
        "constituted": "2025-03-01",
        "cu_afa_eur_mwh": {"2025": 10.57},
        "statute": {
            "management_pct": 15,
            "management_from": "tip",
            "valorisation_to": "plant_owners",
        },
    },
    "members": [
        {
            "id": "comune",
            "name": "Comune di Prova",
            "type": "municipality",
            "pods": [
                {"pod": PLANT_A, "label": "Scuola"},
                PLANT_B,
                PLANT_C,
                {"pod": LIGHTS, "label": "Illuminazione via Roma", "role": "lighting"},
                {"pod": TOWN_HALL, "label": "Municipio", "role": "building"},
            ],
        },
        {"id": "famiglia_1", "name": "Famiglia Bianchi", "type": "person", "pods": [HOME]},
    ],
    "plants": [
        {
            "id": "scuola",
            "pod": PLANT_A,
            "owner": "comune",
            "power_kw": 50,
            "source": "pv",
            "commissioned": "2025-03-15",
        },
        {
            "id": "palestra",
            "pod": PLANT_B,
            "owner": "comune",
            "power_kw": 50,
            "source": "pv",
            "commissioned": "2025-03-15",
        },
        {
            "id": "deposito",
            "pod": PLANT_C,
            "owner": "comune",
            "power_kw": 20,
            "source": "pv",
            "commissioned": "2025-03-15",
        },
    ],
}

OBSERVER = Observer(latitude=LOCATION["lat"], longitude=LOCATION["lon"])

#: (pod, local start of the hour, injected, withdrawn) → (injected, withdrawn) or None (missing)
Change = Callable[[str, datetime, int, int], tuple[int, int] | None]


def community(**settings: Any) -> dict[str, Any]:
    """The test community, with a ``settings`` block when given."""
    data = copy.deepcopy(COMMUNITY)
    if settings:
        data["settings"] = settings
    return data


def sun_wh_per_kw(start_utc: datetime) -> int:
    """A clear sky: 800 Wh per kW at the zenith, by the sine of the sun's height mid-hour."""
    height = elevation(OBSERVER, start_utc + timedelta(minutes=30))
    return max(0, round(800 * math.sin(math.radians(height))))


def normal(pod: str, start_utc: datetime) -> tuple[int, int]:
    """The regular hour of each POD: (injected, withdrawn)."""
    local = start_utc.astimezone(ROME)
    if pod in PLANT_KW:
        pv = sun_wh_per_kw(start_utc) * PLANT_KW[pod]
        return (pv, 0) if pv else (0, 50)
    if pod == LIGHTS:
        height = elevation(OBSERVER, start_utc + timedelta(minutes=30))
        return 0, (500 if height < -1 else 0)
    if pod == TOWN_HALL:
        return 0, (3000 if 8 <= local.hour < 18 else 1000)
    return 0, 300  # HOME


def readings(
    change: Change | None = None, first: date = FIRST_DAY, until: datetime = AT
) -> list[dict[str, Any]]:
    """Rows of ``readings`` for every POD and hour from ``first`` to ``until``."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=ROME).astimezone(UTC)
    end = until.astimezone(UTC)
    rows = []
    moment = start
    while moment < end:
        for pod in (*PLANT_KW, LIGHTS, TOWN_HALL, HOME):
            injected, withdrawn = normal(pod, moment)
            if change is not None:
                changed = change(pod, moment.astimezone(ROME), injected, withdrawn)
                if changed is None:
                    continue
                injected, withdrawn = changed
            rows.append(
                {
                    "pod": pod,
                    "hour_start": moment,
                    "injected_wh": injected,
                    "withdrawn_wh": withdrawn,
                    "quality": "measured",
                    "received_at": moment + timedelta(hours=1),
                }
            )
        moment += timedelta(hours=1)
    return rows


async def _build(
    database_url: str, data: dict[str, Any], rows: list[dict[str, Any]], until: datetime
) -> str:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        community_id, _ = await import_community(engine, data)
        with_source = hasattr(Reading, "source")
        stored = []
        for row in rows:
            stored.append({"community_id": community_id, **row})
            if with_source:
                stored[-1]["source"] = "ha"
            # the distributor's data of past months, beside Home Assistant's (issue #9)
            if with_source and row["hour_start"] < until.replace(day=1, hour=0).astimezone(UTC):
                stored.append({"community_id": community_id, **row, "source": "dso"})
        async with engine.begin() as connection:
            for i in range(0, len(stored), 5000):
                await connection.execute(insert(Reading), stored[i : i + 5000])
        return community_id
    finally:
        await engine.dispose()


def build(
    database_url: str,
    change: Change | None = None,
    data: dict[str, Any] | None = None,
    until: datetime = AT,
) -> str:
    """Store the community and its readings up to ``until``; returns the community id."""
    rows = readings(change, until=until)
    return asyncio.run(_build(database_url, data or community(), rows, until))


def check(database_url: str, community_id: str, at: datetime = AT, *extra: str) -> dict[str, Any]:
    """``cer-backend alerts check --at … --json`` in this process; the JSON it printed."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(
            [
                "alerts",
                "check",
                "--community",
                community_id,
                "--at",
                at.isoformat(),
                "--json",
                "--database",
                database_url,
                *extra,
            ]
        )
    assert code == 0
    return dict(json.loads(out.getvalue()))


def causes(answer: dict[str, Any]) -> set[str]:
    """The causes of the alerts in force."""
    return {alert["cause"] for alert in answer["alerts"]}
