"""A community whose PODs carry a role or a label (objects in ``members[].pods``, as the
alerts need for public lighting and buildings) can still be settled by the backend."""

from __future__ import annotations

import asyncio

import pytest

from cer_backend.database import create_engine
from cer_backend.service.settlements import create_run

from .builders import LIGHTS, build

pytestmark = pytest.mark.database


def test_a_run_of_a_community_with_pod_objects(database_url: str) -> None:
    community_id = build(database_url)

    async def run() -> dict[str, object]:
        engine = create_engine(database_url)
        try:
            return await create_run(engine, community_id, "2025-05")
        finally:
            await engine.dispose()

    answer = asyncio.run(run())
    result = answer["result"]
    assert isinstance(result, dict) and result["shared_wh"] > 0
    # the lighting POD (an object with its role) is settled among the members' points
    assert result["withdrawn_wh"] > 0 and LIGHTS not in str(result.get("warnings"))
