"""A real backend server on 127.0.0.1 with two communities and tokens of every role."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.app import create_app
from cer_backend.service.registry import import_community
from cer_backend.service.tokens import create_token

POD_HOME = "IT001E00000001"
POD_PLANT = "IT001E00000002"
POD_FAMILY = "IT001E00000003"
POD_B = "IT001E00000009"

COMMUNITY_A: dict[str, Any] = {
    "community": {
        "name": "CER Test A",
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
        {"id": "comune", "name": "Comune", "type": "municipality", "pods": [POD_HOME, POD_PLANT]},
        {
            "id": "famiglia",
            "name": "Famiglia Rossi",
            "type": "person",
            "pods": [POD_FAMILY],
            "joined": "2025-01-01",
        },
    ],
    "plants": [
        {
            "id": "scuola",
            "pod": POD_PLANT,
            "owner": "comune",
            "power_kw": 80,
            "source": "pv",
            "commissioned": "2024-09-01",
        },
    ],
}


def community_b() -> dict[str, Any]:
    data = copy.deepcopy(COMMUNITY_A)
    data["community"]["name"] = "CER Test B"
    data["members"] = [{"id": "ente", "name": "Ente", "type": "municipality", "pods": [POD_B]}]
    data["plants"] = [
        {
            "id": "tetto",
            "pod": POD_B,
            "owner": "ente",
            "power_kw": 50,
            "source": "pv",
            "commissioned": "2024-09-01",
        }
    ]
    return data


@dataclass
class Api:
    """The server, an HTTP session and a token per role."""

    server: TestServer
    session: aiohttp.ClientSession
    community_a: str
    community_b: str
    tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(f"/api/v1{path}"))

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        async with self.session.request(
            method, self.url(path), headers=headers, **kwargs
        ) as response:
            if response.content_type in ("application/json", "application/problem+json"):
                body = await response.json(content_type=None)
            else:
                body = await response.read()
            return response.status, body, response


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    app = create_app(database_url, migrate=True)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    engine = app[ENGINE_KEY]
    a, _ = await import_community(engine, COMMUNITY_A)
    b, _ = await import_community(engine, community_b())
    tokens = {
        "root": (await create_token(engine, "admin"))[0],
        "admin_a": (await create_token(engine, "admin", a))[0],
        "viewer_a": (await create_token(engine, "viewer", a))[0],
        "site_plant": (await create_token(engine, "site", a, [POD_PLANT]))[0],
        "site_family": (await create_token(engine, "site", a, [POD_FAMILY])).__getitem__(0),
        "site_b": (await create_token(engine, "site", b, [POD_B]))[0],
        "viewer_b": (await create_token(engine, "viewer", b))[0],
    }
    async with aiohttp.ClientSession() as session:
        yield Api(server, session, a, b, tokens)
    await server.close()
