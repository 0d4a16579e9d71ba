"""A settled month of a small community with names, tax codes, e-mails and a meter gap."""

from __future__ import annotations

import copy
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cer_backend.database import create_engine
from cer_backend.migrate import upgrade
from cer_backend.service.prices import store_prices
from cer_backend.service.registry import import_community
from cer_backend.service.report_model import RunFacts, load_facts
from cer_backend.service.settlements import create_run, finalise_run
from tests.backend.reports.energy import store_energy

P_TOWN_HALL = "IT001E00000101"
P_SCHOOL = "IT001E00000102"
P_ROSSI = "IT001E00000103"
P_BAR = "IT001E00000104"
START = datetime(2025, 5, 31, 22, tzinfo=UTC)  # 2025-06-01T00:00+02:00
HOURS = 30 * 24
#: Famiglia Rossi's meter is silent for three days
GAP = range(200, 272)
FORCED_REASON = "contatore di Famiglia Rossi guasto: dati del distributore attesi a luglio"

COMMUNITY: dict[str, Any] = {
    "community": {
        "name": "CER Valverde",
        "region": "Toscana",
        "cabina_primaria": "AC001E01725",
        "constituted": "2024-06-01",
        "cu_afa_eur_mwh": {"2025": 10.57},
        "statute": {
            "management_pct": 15,
            "management_from": "tip",
            "valorisation_to": "plant_owners",
            "social_fund_pct": 10,
            "producers_pct": 20,
            "consumers_by": "coincident_withdrawal",
            "surplus_to": "non_business_consumers",
        },
    },
    "members": [
        {
            "id": "comune",
            "name": "Comune di Valverde",
            "type": "municipality",
            "pods": [P_TOWN_HALL, P_SCHOOL],
            "tax_code": "00123456789",
            "email": "ufficio.tecnico@valverde.example.it",
        },
        {
            "id": "rossi",
            "name": "Famiglia Rossi",
            "type": "person",
            "pods": [P_ROSSI],
            "tax_code": "RSSMRA80A01H501U",
            "email": "mario.rossi@example.it",
        },
        {
            "id": "bar",
            "name": "Bar Centrale",
            "type": "sme",
            "pods": [P_BAR],
            "tax_code": "01234567890",
        },
    ],
    "plants": [
        {
            "id": "scuola",
            "pod": P_SCHOOL,
            "owner": "comune",
            "power_kw": 60,
            "source": "pv",
            "commissioned": "2024-09-01",
        }
    ],
    "settings": {
        "language": "it",
        "report_recipients": ["sindaco@valverde.example.it", "ragioneria@valverde.example.it"],
        "emission_factor_g_kwh": 300,
        "emission_factor_source": "Regione Toscana, inventario 2024",
    },
}
NAMES = {"comune": "Comune di Valverde", "rossi": "Famiglia Rossi", "bar": "Bar Centrale"}


def energy_of(pod: str, i: int) -> tuple[int, int]:
    local_hour = (i + 2) % 24
    sun = max(0, 6 - abs(local_hour - 13)) * 2_000
    if pod == P_SCHOOL:
        return sun, 150
    if pod == P_TOWN_HALL:
        return 0, 3_000 + (i % 7) * 100
    if pod == P_ROSSI:
        return 0, 700 + (i % 3) * 150
    return 0, 2_000 + (i % 5) * 200


@dataclass
class Settled:
    """The engine, the community id and the run."""

    engine: AsyncEngine
    community: str
    run: dict[str, Any]

    async def facts(self) -> RunFacts:
        return await load_facts(self.engine, self.run["id"], None)

    async def finalise(self) -> None:
        """Finalise; a run with the meter gap needs force and a reason (issue #10's guard)."""
        self.run = await finalise_run(
            self.engine, self.run["id"], None, force=True, reason=FORCED_REASON
        )


async def settle_month(
    database_url: str, *, gap: bool = True, document: dict[str, Any] | None = None
) -> Settled:
    engine = create_engine(database_url)
    await upgrade(engine)
    community, _ = await import_community(engine, copy.deepcopy(document or COMMUNITY))
    pods = [P_TOWN_HALL, P_SCHOOL, P_ROSSI, P_BAR]
    rows = []
    for pod in pods:
        for i in range(HOURS):
            if gap and pod == P_ROSSI and i in GAP:
                continue
            injected, withdrawn = energy_of(pod, i)
            rows.append((pod, START + timedelta(hours=i), injected, withdrawn))
    await store_energy(engine, community, rows)
    prices = [
        ("CNOR", START + timedelta(hours=i), Decimal("95.50") + Decimal(i % 24) * 3)
        for i in range(HOURS)
    ]
    await store_prices(engine, prices, [community], "test")
    run = await create_run(engine, community, "2025-06")
    return Settled(engine, community, run)


@pytest.fixture
async def settled(database_url: str) -> AsyncIterator[Settled]:
    result = await settle_month(database_url)
    yield result
    await result.engine.dispose()


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, no-break spaces as spaces."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text().replace("\xa0", " ") for page in reader.pages]


def italian_amount(text: str) -> Decimal:
    """``1.234,56 €`` → Decimal("1234.56")."""
    return Decimal(text.replace("€", "").strip().replace(".", "").replace(",", "."))


def value_after(lines: list[str], label: str) -> str:
    """The table cell that follows a label cell in the extracted text."""
    for i, line in enumerate(lines):
        if line.strip() == label:
            return lines[i + 1].strip()
    raise AssertionError(f"{label!r} not found in {lines}")
