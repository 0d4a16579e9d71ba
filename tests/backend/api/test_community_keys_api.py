"""``POST /communities`` accepts every optional key of the community file (FORMATS.md)."""

from __future__ import annotations

import pytest

from tests.backend.service.test_registry_keys import with_every_key

from .conftest import Api

pytestmark = pytest.mark.database


async def test_post_communities_accepts_and_refuses_the_new_keys(api: Api) -> None:
    data = with_every_key()
    data["community"]["name"] = "CER Chiavi"
    status, created, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 201, created
    assert created["members"] == 3
    data["settings"]["language"] = "de"
    status, problem, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["settings.language"]
