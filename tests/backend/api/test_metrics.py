"""``GET /metrics``: Prometheus text that Prometheus's own parser reads, behind a token."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import text

from cer_backend.api import metrics as metrics_module
from cer_backend.api.keys import ENGINE_KEY
from cer_backend.models import Alert, table

from .conftest import POD_PLANT, Api

pytestmark = pytest.mark.database


async def scrape(api: Api, token: str | None) -> tuple[int, str, str]:
    headers = {} if token is None else {"Authorization": f"Bearer {api.tokens.get(token, token)}"}
    url = str(api.server.make_url("/metrics"))
    async with api.session.get(url, headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def samples(text: str) -> dict[str, list[Sample]]:
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def value(found: dict[str, list[Sample]], name: str, **labels: str) -> float:
    matching = [
        s.value for s in found.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matching) == 1, (name, labels, found.get(name))
    return matching[0]


async def test_only_a_global_admin_or_the_metrics_token_may_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await scrape(api, None))[0] == 401
    assert (await scrape(api, "not-a-token"))[0] == 401
    assert (await scrape(api, "viewer_a"))[0] == 403
    assert (await scrape(api, "site_plant"))[0] == 403
    assert (await scrape(api, "admin_a"))[0] == 403  # one community's admin: not all sites
    status, content_type, _ = await scrape(api, "root")
    assert status == 200
    assert content_type.startswith("text/plain")
    monkeypatch.setenv("CER_METRICS_TOKEN", "scraper-secret-0123456789")
    assert (await scrape(api, "scraper-secret-0123456789"))[0] == 200
    assert (await scrape(api, "scraper-secret-012345678"))[0] == 401


async def test_requests_ingest_readings_uploads_alerts_and_pool_are_reported(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "DATABASE_REFRESH", 0.0)
    readings = [
        {"hour_start": f"2025-06-01T{h:02d}:00:00+02:00", "injected_wh": 100, "withdrawn_wh": 5}
        for h in range(10, 13)
    ]
    body = {"pod": POD_PLANT, "readings": readings}
    assert (await api.call("POST", "/readings", "site_plant", json=body))[0] == 200
    body["readings"] = [*readings[:2], {"hour_start": "bad", "injected_wh": 1, "withdrawn_wh": 1}]
    assert (await api.call("POST", "/readings", "site_plant", json=body))[0] == 200
    assert (await api.call("GET", "/settlements/nope", "root"))[0] == 404
    assert (await api.call("GET", "/no/such/route", "root"))[0] == 404
    engine = api.server.app[ENGINE_KEY]
    async with engine.begin() as connection:
        await connection.execute(
            table(Alert).insert(),
            [
                {"community_id": api.community_a, "kind": "missing_hours", "message": "a"},
                {"community_id": api.community_a, "kind": "missing_hours", "message": "b"},
                {"community_id": api.community_a, "kind": "implausible", "message": "c"},
            ],
        )

    status, _, text = await scrape(api, "root")
    assert status == 200, text
    found = samples(text)
    route = "/api/v1/readings"
    assert value(found, "cer_http_requests_total", method="POST", route=route, status="200") == 2
    assert (
        value(
            found,
            "cer_http_requests_total",
            method="GET",
            route="/api/v1/settlements/{run}",
            status="404",
        )
        == 1
    )
    assert value(found, "cer_http_requests_total", route="unmatched", status="404") == 1
    assert value(found, "cer_http_request_duration_seconds_count", method="POST", route=route) == 2
    assert value(found, "cer_readings_received_total", outcome="accepted") == 3
    assert value(found, "cer_readings_received_total", outcome="duplicate") == 2
    assert value(found, "cer_readings_received_total", outcome="rejected") == 1
    assert value(found, "cer_readings_stored", source="ha") == 3  # uploads of Home Assistant
    age = value(found, "cer_site_last_upload_age_seconds", community=api.community_a, pod=POD_PLANT)
    assert 0 <= age < 120
    assert value(found, "cer_alerts_open", community=api.community_a, kind="missing_hours") == 2
    assert value(found, "cer_alerts_open", community=api.community_a, kind="implausible") == 1
    assert value(found, "cer_database_up") == 1
    assert value(found, "cer_db_pool_checked_out") >= 0
    assert "cer_db_pool_size" in found

    # the scrape itself is counted, by its route
    found = samples((await scrape(api, "root"))[2])
    assert value(found, "cer_http_requests_total", route="/metrics", status="200") >= 1


async def test_readings_are_counted_per_source(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics_module, "DATABASE_REFRESH", 0.0)
    readings = [
        {"hour_start": f"2025-06-01T{h:02d}:00:00+02:00", "injected_wh": 100, "withdrawn_wh": 5}
        for h in range(10, 13)
    ]
    body = {"pod": POD_PLANT, "readings": readings}
    assert (await api.call("POST", "/readings", "site_plant", json=body))[0] == 200
    engine = api.server.app[ENGINE_KEY]
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE readings SET source = 'dso'"
                " WHERE hour_start = (SELECT min(hour_start) FROM readings)"
            )
        )
    found = samples((await scrape(api, "root"))[2])
    assert value(found, "cer_readings_stored", source="ha") == 2
    assert value(found, "cer_readings_stored", source="dso") == 1
    # the distributor's data is no upload of the site: only ha readings date the last one
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE readings SET source = 'dso'"))
    found = samples((await scrape(api, "root"))[2])
    assert "cer_site_last_upload_age_seconds" not in found
