"""The registry keeps every optional key of the community file (FORMATS.md) on import,
and gives them back in the document a settlement run is built from."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from cer_backend.database import create_engine
from cer_backend.domain.community import parse_community
from cer_backend.migrate import upgrade
from cer_backend.models import Community
from cer_backend.service.registry import (
    RegistryError,
    community_document,
    import_community,
    jsonable,
)
from tests.backend.api.conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT

pytestmark = pytest.mark.database


def with_every_key() -> dict[str, Any]:
    data = copy.deepcopy(COMMUNITY_A)
    data["community"]["location"] = {"lat": 43.32, "lon": 11.33}
    data["community"]["gse_fees"] = {
        "free_up_to_kw": 3,
        "base_eur": 15,
        "base_up_to_kw": 20,
        "eur_per_kw_beyond": 2,
    }
    comune, famiglia = data["members"]
    comune["pods"] = [
        {"pod": POD_HOME, "label": "Municipio", "role": "building"},
        {"pod": POD_PLANT, "cabina_primaria": "AC001E01726", "role": "other"},
    ]
    comune.update(tax_code="00123456789", email="tecnico@example.it", public=True)
    famiglia.update(email="rossi@example.it")
    data["members"].append(
        {
            "id": "parco",
            "name": "Ente Parco",
            "type": "environmental",
            "pods": ["IT001E00000004"],
            "ateco": "91.04.00",
        }
    )
    data["plants"][0]["built_for_cer"] = "delibera di giunta 12/2023"
    data["settings"] = {
        "f_exemption_persons_from": "2025-06-01",
        "finalise_min_coverage_pct": 97.5,
        "public_page": True,
        "language": "en",
        "report_recipients": ["tecnico@example.it"],
        "alert_webhook_url": "https://hooks.example.it/cer",
    }
    return data


async def test_an_imported_community_keeps_every_optional_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        data = with_every_key()
        community_id, created = await import_community(engine, data)
        assert created
        async with engine.connect() as connection:
            document = jsonable(await community_document(connection, community_id))
    finally:
        await engine.dispose()
    assert parse_community(document) == parse_community(data)
    stored = parse_community(document)
    assert stored.location is not None and stored.location.lat == Decimal("43.32")
    assert stored.configurations == ("AC001E01725", "AC001E01726")
    assert stored.members[0].points[0].label == "Municipio"
    assert stored.members[2].type == "environmental"
    assert stored.plants[0].built_for_cer == "delibera di giunta 12/2023"
    assert stored.settings.language == "en"
    assert stored.settings.finalise_min_coverage_pct == Decimal("97.5")
    assert stored.gse_fees.eur_per_kw_beyond == 2
    assert document["members"][1]["pods"] == [POD_FAMILY]  # a plain code stays a code


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "large_enterprise"}, "members[1].type"),
        ({"type": "central_administration"}, "members[1].type"),
        ({"type": "sme", "ateco": "35.14.00"}, "members[1].ateco"),
    ],
)
async def test_the_registry_refuses_who_cannot_be_a_member(
    database_url: str, change: dict[str, str], field: str
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        data = copy.deepcopy(COMMUNITY_A)
        data["members"][1].update(change)
        with pytest.raises(RegistryError) as caught:
            await import_community(engine, data)
        async with engine.connect() as connection:
            stored = (await connection.execute(select(Community))).all()
    finally:
        await engine.dispose()
    assert caught.value.status == 422
    assert [p["field"] for p in caught.value.problems] == [field]
    assert stored == []  # nothing half-stored
