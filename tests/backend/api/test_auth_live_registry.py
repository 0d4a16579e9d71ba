"""Auth rules, live figures, the registry API and the OpenAPI document, on a real server."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.service import estimates
from cer_backend.service.prices import store_prices

from .conftest import COMMUNITY_A, POD_B, POD_FAMILY, POD_PLANT, Api

pytestmark = pytest.mark.database


async def test_no_token_or_unknown_token_is_401_and_the_token_is_not_logged(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    status, _, response = await api.call("GET", "/community/live")
    assert status == 401 and response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    secret = "cer_not-a-real-token-0123456789"
    status, problem, _ = await api.call("GET", "/community/live", secret)
    assert status == 401 and problem["status"] == 401
    assert "Authentication failed" in caplog.text
    assert secret not in caplog.text


async def test_a_viewer_cannot_write(api: Api) -> None:
    for path, body in (
        ("/readings", {"pod": POD_PLANT, "readings": []}),
        (
            "/live",
            {
                "pod": POD_PLANT,
                "ts": datetime.now(UTC).isoformat(),
                "injection_w": 1,
                "withdrawal_w": 1,
                "hour_injected_wh": 1,
                "hour_withdrawn_wh": 1,
            },
        ),
        ("/communities", COMMUNITY_A),
        ("/settlements", {"period": "2025-06"}),
    ):
        status, problem, _ = await api.call("POST", path, "viewer_a", json=body)
        assert status == 403, path
        assert problem["status"] == 403


async def test_a_site_token_writes_only_its_own_pods(api: Api) -> None:
    body = {
        "pod": POD_FAMILY,
        "readings": [
            {"hour_start": "2025-06-01T10:00:00+02:00", "injected_wh": 0, "withdrawn_wh": 10}
        ],
    }
    assert (await api.call("POST", "/readings", "site_plant", json=body))[0] == 403
    assert (await api.call("POST", "/readings", "site_b", json=body))[0] == 403
    assert (await api.call("POST", "/readings", "site_family", json=body))[0] == 200


async def test_a_token_of_community_a_reads_nothing_of_b(api: Api) -> None:
    b = api.community_b
    for token in ("viewer_a", "admin_a", "site_plant"):
        status, _, _ = await api.call("GET", f"/community/live?community={b}", token)
        assert status == 403, token
        status, _, _ = await api.call(
            "GET", f"/community/summary?period=2025-06&community={b}", token
        )
        assert status == 403, token
    for path in (f"/communities/{b}", f"/communities/{b}/members", f"/communities/{b}/pods"):
        assert (await api.call("GET", path, "admin_a"))[0] == 403
    status, listing, _ = await api.call("GET", "/communities", "admin_a")
    assert [c["id"] for c in listing] == [api.community_a]
    status, listing, _ = await api.call("GET", "/settlements", "admin_a")
    assert status == 200 and all(run["community"] == api.community_a for run in listing)


async def test_live_snapshots_make_the_community_live_figures(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    plant = {
        "pod": POD_PLANT,
        "ts": now.isoformat(),
        "injection_w": 30_000.0,
        "withdrawal_w": 0,
        "hour_injected_wh": 12_000,
        "hour_withdrawn_wh": 0,
    }
    family = {
        "pod": POD_FAMILY,
        "ts": now.isoformat(),
        "injection_w": 0,
        "withdrawal_w": 2_000.0,
        "hour_injected_wh": 0,
        "hour_withdrawn_wh": 900,
    }
    status, live, _ = await api.call("POST", "/live", "site_plant", json=plant)
    assert status == 200
    assert live["sites_reporting"] == 1
    status, live, _ = await api.call("POST", "/live", "site_family", json=family)
    assert status == 200
    assert live["injected_wh"] == 12_000 and live["withdrawn_wh"] == 900
    assert live["shared_wh"] == 900
    assert live["surplus_w"] == 28_000.0
    assert live["sites_reporting"] == 2 and live["sites_total"] == 3
    assert set(live) == {
        "hour_start",
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "surplus_w",
        "sites_reporting",
        "sites_total",
        "tip_estimate_eur_mwh",
        "sites_expected",
    }
    status, viewed, _ = await api.call("GET", "/community/live", "viewer_a")
    assert status == 200 and viewed["shared_wh"] == 900
    status, other, _ = await api.call("GET", "/community/live", "viewer_b")
    assert other["sites_reporting"] == 0
    bad = dict(plant, pod=POD_B)
    assert (await api.call("POST", "/live", "site_plant", json=bad))[0] == 403


async def test_registry_create_read_update_end_date(api: Api) -> None:
    a = api.community_a
    member = {"id": "bar", "name": "Bar Centrale", "type": "sme", "pods": ["IT001E00000077"]}
    status, created, _ = await api.call("POST", f"/communities/{a}/members", "admin_a", json=member)
    assert status == 201 and created["id"] == "bar"
    status, pods, _ = await api.call("GET", f"/communities/{a}/pods", "admin_a")
    assert "IT001E00000077" in [p["pod"] for p in pods]
    status, patched, _ = await api.call(
        "PATCH", f"/communities/{a}/pods/IT001E00000077", "admin_a", json={"power_kw": 6}
    )
    assert status == 200 and patched["power_kw"] == 6
    status, ended, _ = await api.call(
        "POST", f"/communities/{a}/members/bar/end", "admin_a", json={"date": "2026-01-01"}
    )
    assert status == 200 and ended["left"] == "2026-01-01"
    status, got, _ = await api.call("GET", f"/communities/{a}/members/bar", "root")
    assert got["left"] == "2026-01-01"
    assert (await api.call("DELETE", f"/communities/{a}/members/bar", "root"))[0] == 405
    status, problem, _ = await api.call(
        "POST", f"/communities/{a}/members", "admin_a", json={"id": "x"}
    )
    assert status == 422 and {e["field"] for e in problem["errors"]} == {"name", "type"}
    status, _, _ = await api.call("POST", f"/communities/{a}/members", "admin_a", json=member)
    assert status == 409


async def test_community_post_creates_then_updates_by_name(api: Api) -> None:
    # its own PODs: those of CER Test A are active there (a POD is in one community at a time)
    text = json.dumps(COMMUNITY_A).replace("IT001E0000000", "IT001E0000010")
    data = {**json.loads(text), "community": {**COMMUNITY_A["community"], "name": "CER Nuova"}}
    status, created, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 201 and created["id"] == "cer-nuova" and created["members"] == 2
    status, updated, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 200 and updated["id"] == "cer-nuova"
    broken = {**data, "plants": [{**data["plants"][0], "power_kw": -3}]}
    status, problem, _ = await api.call("POST", "/communities", "root", json=broken)
    assert status == 422
    assert any("plants" in e["field"] for e in problem["errors"])


async def test_tokens_by_api(api: Api) -> None:
    status, made, _ = await api.call(
        "POST", "/tokens", "admin_a", json={"role": "site", "pods": [POD_FAMILY]}
    )
    assert status == 201 and made["community"] == api.community_a
    assert (await api.call("GET", "/community/live", made["token"]))[0] == 200
    status, _, _ = await api.call("POST", f"/tokens/{made['id']}/revoke", "admin_a")
    assert status == 200
    assert (await api.call("GET", "/community/live", made["token"]))[0] == 401
    status, listing, _ = await api.call("GET", "/tokens", "admin_a")
    assert all("token" not in t and t["community"] == api.community_a for t in listing)


async def test_openapi_is_public_and_matches_the_routes(api: Api) -> None:
    status, document, _ = await api.call("GET", "/openapi.json")
    assert status == 200
    readings = document["paths"]["/api/v1/readings"]["post"]
    schema = readings["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["readings"]["maxItems"] == 744
    assert "/api/v1/community/live" in document["paths"]
    assert "/api/v1/settlements/{run}/finalise" in document["paths"]


async def test_unknown_paths_are_problems(api: Api) -> None:
    status, _, response = await api.call("GET", "/nothing-here")
    assert status == 404 and response.content_type == "application/problem+json"


async def test_live_tip_estimate_uses_the_current_hour_price(api: Api) -> None:
    status, live, _ = await api.call("GET", "/community/live", "viewer_a")
    assert status == 200 and live["tip_estimate_eur_mwh"] is None  # no price for this hour yet
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await store_prices(
        api.server.app[ENGINE_KEY], [("CNOR", hour, Decimal("100"))], [api.community_a], "test"
    )
    estimates._cache.clear()
    status, live, _ = await api.call("GET", "/community/live", "viewer_a")
    # 80 kW PV in Toscana at Pz 100: min(120; 80 + 80) + FC 4 (GSE-RULES §2)
    assert status == 200
    assert live["tip_estimate_eur_mwh"] == 124.0
