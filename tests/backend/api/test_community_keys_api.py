"""``POST /communities`` accepts every optional key of the community file (FORMATS.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.backend.service.test_registry_keys import with_every_key

from .conftest import Api

pytestmark = pytest.mark.database


async def test_post_communities_accepts_and_refuses_the_new_keys(api: Api) -> None:
    # a second community of its own PODs: a POD is active in one community only
    data: dict[str, Any] = json.loads(
        json.dumps(with_every_key()).replace("IT001E000000", "IT001E000009")
    )
    data["community"]["name"] = "CER Chiavi"
    status, created, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 201, created
    assert created["members"] == 3
    data["settings"]["language"] = "de"
    status, problem, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 422
    assert [e["field"] for e in problem["errors"]] == ["settings.language"]
