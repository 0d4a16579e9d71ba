"""A real backend server on 127.0.0.1 with the web pages, two communities and tokens."""

from __future__ import annotations

import copy
import re
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

from ..api.conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT, community_b

__all__ = ["POD_FAMILY", "POD_HOME", "POD_PLANT", "Site", "csrf_of"]


def community_a_public() -> dict[str, Any]:
    """Community A with its public page on and the municipality agreeing to be named."""
    data = copy.deepcopy(COMMUNITY_A)
    data["settings"] = {"public_page": True}
    data["members"][0]["public"] = True
    return data


def csrf_of(page: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class Site:
    """The server, its engine and the secrets of the tokens."""

    server: TestServer
    community_a: str
    community_b: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Any:
        return self.server.app[ENGINE_KEY]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def browser(self) -> aiohttp.ClientSession:
        """A client that keeps cookies (also for 127.0.0.1) and does not follow redirects."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, client: aiohttp.ClientSession, token: str = "admin_a") -> None:
        async with client.post(
            self.url("/console/accedi"),
            data={"token": self.tokens.get(token, token)},
            allow_redirects=False,
        ) as response:
            assert response.status == 303, await response.text()

    async def get(self, client: aiohttp.ClientSession, path: str, **kwargs: Any) -> tuple[int, str]:
        async with client.get(self.url(path), allow_redirects=False, **kwargs) as response:
            return response.status, await response.text()

    async def post(
        self, client: aiohttp.ClientSession, path: str, data: Any = None, **kwargs: Any
    ) -> tuple[int, str, aiohttp.ClientResponse]:
        async with client.post(
            self.url(path), data=data, allow_redirects=False, **kwargs
        ) as response:
            return response.status, await response.text(), response


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Site]:
    app = create_app(database_url, migrate=True)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    engine = app[ENGINE_KEY]
    a, _ = await import_community(engine, community_a_public())
    b, _ = await import_community(engine, community_b())
    tokens = {
        "root": (await create_token(engine, "admin"))[0],
        "admin_a": (await create_token(engine, "admin", a))[0],
        "admin_b": (await create_token(engine, "admin", b))[0],
        "viewer_a": (await create_token(engine, "viewer", a))[0],
    }
    yield Site(server, a, b, tokens)
    await server.close()
