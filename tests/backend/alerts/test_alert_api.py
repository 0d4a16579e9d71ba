"""``GET /api/v1/alerts?status=open|all`` (viewer: its community) and
``POST /api/v1/alerts/{id}/ack`` (admin), on a real server on 127.0.0.1; the evaluation
that ``serve`` runs in the background, stopped with the application."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cer_backend.api.alerts_handlers import ALERTS_KEY
from cer_backend.api.keys import ENGINE_KEY
from cer_backend.app import create_app
from cer_backend.service.registry import import_community
from cer_backend.service.tokens import create_token

from .builders import AT, LIGHTS, build, check, community
from .test_alert_lifecycle import _lights_on_today

pytestmark = pytest.mark.database


def _other_community() -> dict[str, Any]:
    data = copy.deepcopy(community())
    data["community"]["name"] = "CER Altra"
    data["members"] = [
        {"id": "ente", "name": "Ente", "type": "municipality", "pods": ["IT001E00000099"]}
    ]
    data["plants"] = [
        {**data["plants"][0], "id": "tetto", "pod": "IT001E00000099", "owner": "ente"}
    ]
    return data


async def _call(
    session: aiohttp.ClientSession,
    server: TestServer,
    method: str,
    path: str,
    token: str,
    **kwargs: Any,
) -> tuple[int, Any]:
    async with session.request(
        method,
        str(server.make_url(f"/api/v1{path}")),
        headers={"Authorization": f"Bearer {token}"},
        **kwargs,
    ) as response:
        return response.status, await response.json(content_type=None)


async def test_list_and_acknowledge_over_http(database_url: str) -> None:
    community_id = await asyncio.to_thread(
        build, database_url, _lights_on_today, None, AT + timedelta(days=2)
    )
    await asyncio.to_thread(check, database_url, community_id)
    app = create_app(database_url, migrate=True)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        engine = app[ENGINE_KEY]
        other, _ = await import_community(engine, _other_community())
        viewer = (await create_token(engine, "viewer", community_id))[0]
        admin = (await create_token(engine, "admin", community_id))[0]
        other_viewer = (await create_token(engine, "viewer", other))[0]
        other_admin = (await create_token(engine, "admin", other))[0]
        async with aiohttp.ClientSession() as session:
            status, alerts = await _call(session, server, "GET", "/alerts", viewer)
            assert status == 200
            assert [(a["kind"], a["pod"]) for a in alerts] == [("lighting_daytime", LIGHTS)]
            alert_id = alerts[0]["id"]
            status, mine = await _call(session, server, "GET", "/alerts?status=open", other_viewer)
            assert status == 200 and mine == []  # another community's viewer sees its own
            status, _ = await _call(
                session, server, "GET", f"/alerts?community={community_id}", other_viewer
            )
            assert status == 403
            status, problem = await _call(session, server, "GET", "/alerts?status=some", viewer)
            assert status == 422 and problem["errors"][0]["field"] == "status"

            path = f"/alerts/{alert_id}/ack"
            status, _ = await _call(session, server, "POST", path, viewer, json={"note": "ok"})
            assert status == 403
            status, _ = await _call(session, server, "POST", path, other_admin, json={"note": "x"})
            assert status == 404
            status, problem = await _call(session, server, "POST", path, admin, json={})
            assert status == 422
            status, problem = await _call(session, server, "POST", path, admin, json={"note": " "})
            assert status == 422
            status, acked = await _call(
                session, server, "POST", path, admin, json={"note": "Squadra uscita alle 10"}
            )
            assert status == 200 and acked["acknowledged"] and acked["resolved_at"] is None
            assert acked["ack_note"] == "Squadra uscita alle 10"

            # the cause goes away: resolved, in the history only
            await asyncio.to_thread(
                check, database_url, community_id, (AT + timedelta(days=1)).replace(hour=22)
            )
            status, open_now = await _call(session, server, "GET", "/alerts", viewer)
            assert status == 200 and open_now == []
            status, history = await _call(session, server, "GET", "/alerts?status=all", viewer)
            assert [(h["id"], h["acknowledged"]) for h in history] == [(alert_id, True)]
            assert history[0]["resolved_at"] is not None
            status, problem = await _call(session, server, "POST", path, admin, json={"note": "x"})
            assert status == 409
    finally:
        await server.close()


async def test_serve_evaluates_in_the_background_and_stops_with_the_app(
    database_url: str,
) -> None:
    community_id = await asyncio.to_thread(build, database_url)  # data end in June 2025
    app = create_app(database_url, migrate=True, alerts_interval=0.2)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    scheduler = app[ALERTS_KEY]
    task = scheduler._task
    try:
        assert task is not None and not task.done()
        for _ in range(200):
            if scheduler.runs >= 2:
                break
            await asyncio.sleep(0.05)
        assert scheduler.runs >= 2  # evaluated on its own, again and again
        token = (await create_token(app[ENGINE_KEY], "viewer", community_id))[0]
        async with aiohttp.ClientSession() as session:
            status, alerts = await _call(session, server, "GET", "/alerts", token)
        # now, the sites have been quiet for over a year: not "silent" (that needs an upload
        # in the last 14 days), but last month's distributor data are missing for every POD
        assert status == 200 and {a["kind"] for a in alerts} == {"data_incomplete"}
        assert len(alerts) == 6
    finally:
        await server.close()
    assert task.done()  # cancelled with the application


async def test_an_upload_asks_serve_for_an_evaluation_soon(database_url: str) -> None:
    community_id = await asyncio.to_thread(build, database_url)
    app = create_app(database_url, migrate=True, alerts_interval=3600)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        scheduler = app[ALERTS_KEY]
        site = (await create_token(app[ENGINE_KEY], "site", community_id, [LIGHTS]))[0]
        body = {
            "pod": LIGHTS,
            "readings": [
                {"hour_start": "2025-06-15T12:00:00+02:00", "injected_wh": 0, "withdrawn_wh": 0}
            ],
        }
        async with aiohttp.ClientSession() as session:
            status, _ = await _call(session, server, "GET", "/alerts", site)
            assert status == 403  # a site token does not read alerts
            assert scheduler._pending == set()
            status, answer = await _call(session, server, "POST", "/readings", site, json=body)
        assert status == 200 and answer["accepted"] == 1
        assert scheduler._pending == {community_id}
    finally:
        await server.close()
