"""Settlement runs over the API: same figures as the engine, finalise, 409, reports, summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.domain.community import parse_community
from cer_backend.domain.energy import HourlyEnergy
from cer_backend.domain.period import Period
from cer_backend.domain.prices import HourlyPrices
from cer_backend.domain.settlement import settle
from cer_backend.service.prices import store_prices

from .conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT, Api

pytestmark = pytest.mark.database

START = datetime(2025, 5, 31, 22, tzinfo=UTC)  # 2025-06-01T00:00+02:00
HOURS = 30 * 24


def energy_of(pod: str, i: int) -> tuple[int, int]:
    local_hour = (i + 2) % 24
    sun = max(0, 6 - abs(local_hour - 13)) * 9_000
    if pod == POD_PLANT:
        return sun, 200 + (i % 5) * 10
    if pod == POD_HOME:
        return 0, 4_000 + (i % 7) * 100
    return 0, 800 + (i % 3) * 150


def price_of(i: int) -> Decimal:
    return Decimal("90.50") + Decimal(i % 24) * Decimal("3.25")


async def upload_june(api: Api, skip: int | None = None) -> list[tuple[str, datetime, int, int]]:
    rows = []
    for pod, token in ((POD_PLANT, "site_plant"), (POD_FAMILY, "site_family")):
        items = []
        for i in range(HOURS):
            if pod == POD_FAMILY and i == skip:
                continue
            injected, withdrawn = energy_of(pod, i)
            hour = START + timedelta(hours=i)
            items.append(
                {"hour_start": hour.isoformat(), "injected_wh": injected, "withdrawn_wh": withdrawn}
            )
            rows.append((pod, hour, injected, withdrawn))
        status, answer, _ = await api.call(
            "POST", "/readings", token, json={"pod": pod, "readings": items}
        )
        assert status == 200 and answer["accepted"] == len(items), answer
    return rows


async def store_june_prices(api: Api) -> list[tuple[str, datetime, Decimal]]:
    rows = [("CNOR", START + timedelta(hours=i), price_of(i)) for i in range(HOURS)]
    await store_prices(api.server.app[ENGINE_KEY], rows, [api.community_a], "test")
    return rows


async def test_a_run_gives_the_engine_figures_on_the_same_data(api: Api) -> None:
    rows = await upload_june(api, skip=100)
    prices = await store_june_prices(api)
    status, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    assert status == 201, run
    assert run["status"] == "draft" and run["period"] == "2025-06"

    period = Period.parse("2025-06")
    community = parse_community(COMMUNITY_A)
    pods = [POD_HOME, POD_PLANT, POD_FAMILY]
    expected = settle(
        community,
        HourlyEnergy.from_rows(rows, period, pods),
        HourlyPrices.from_rows(prices),
        period,
    ).to_json_dict()
    result = run["result"]
    for key in (
        "hours",
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "incentivised_wh",
        "tip_eur",
        "valorisation_eur",
        "plants",
        "members",
        "missing",
    ):
        assert result[key] == expected[key], key
    assert Decimal(result["tip_eur"]) > 0
    # the skipped hour and the POD that never uploaded are missing, per POD and hour
    missing = {item["pod"]: item for item in result["missing_readings"]}
    assert missing[POD_FAMILY]["hours"] == 1
    assert missing[POD_FAMILY]["ranges"] == [
        [(START + timedelta(hours=100)).astimezone(period.tz).isoformat()] * 2
    ]
    assert missing[POD_HOME]["hours"] == HOURS
    assert run["missing_prices"] == 0
    assert sum(run["hourly_profile"]["shared_wh_by_hour_of_day"]) == result["shared_wh"]


async def test_missing_prices_are_reported_not_zero(api: Api) -> None:
    await upload_june(api)
    status, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    assert status == 201
    assert run["missing_prices"] == HOURS
    assert run["result"]["errors"], "the engine says the prices are missing"
    status, alerts, _ = await api.call("GET", "/alerts", "viewer_a")
    assert status == 200 and alerts[0]["kind"] == "run_incomplete"


async def test_finalised_runs_are_immutable_and_late_readings_are_kept(api: Api) -> None:
    await upload_june(api)
    await store_june_prices(api)
    _, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    # POD_HOME never uploaded: the month is incomplete, finalised only when forced
    force = {"force": True, "reason": "the comune's meter data comes later"}
    status, final, _ = await api.call(
        "POST", f"/settlements/{run['id']}/finalise", "admin_a", json=force
    )
    assert status == 200 and final["status"] == "final" and final["finalised_at"]
    assert final["forced_reason"] == force["reason"] and final["current"]
    status, problem, _ = await api.call("POST", f"/settlements/{run['id']}/finalise", "admin_a")
    assert status == 409 and problem["status"] == 409
    status, problem, _ = await api.call(
        "POST", "/settlements", "admin_a", json={"period": "2025-06"}
    )
    assert status == 409 and "correction" in problem["detail"]
    # a final month never blocks the year run of its year
    status, year, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025"})
    assert status == 201 and year["kind"] == "year"
    changed = {
        "pod": POD_PLANT,
        "readings": [
            {"hour_start": "2025-06-10T12:00:00+02:00", "injected_wh": 1, "withdrawn_wh": 1}
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=changed)
    assert status == 200 and answer["replaced"] == 1 and answer["late"] == 1
    assert answer["rejected"] == []
    mixed = {
        "pod": POD_PLANT,
        "readings": [
            changed["readings"][0],
            {"hour_start": "2025-07-01T12:00:00+02:00", "injected_wh": 1, "withdrawn_wh": 1},
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_plant", json=mixed)
    assert status == 200 and answer["accepted"] == 1 and answer["duplicates"] == 1
    status, again, _ = await api.call("GET", f"/settlements/{run['id']}", "viewer_a")
    assert again["result"] == final["result"] and again["late_readings"] == 1


async def test_reports_statements_and_summary(api: Api) -> None:
    await upload_june(api)
    await store_june_prices(api)
    _, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    base = f"/settlements/{run['id']}"
    status, pdf, response = await api.call("GET", f"{base}/report.pdf", "viewer_a")
    assert status == 200 and response.content_type == "application/pdf"
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    status, csv_body, response = await api.call("GET", f"{base}/report.csv", "admin_a")
    assert status == 200 and response.content_type == "text/csv"
    text = csv_body.decode()
    assert "member,famiglia" in text and "plant,scuola" in text
    status, statement, _ = await api.call("GET", f"{base}/members/famiglia", "viewer_a")
    member = next(m for m in run["result"]["members"] if m["id"] == "famiglia")
    assert statement["amount_eur"] == member["amount_eur"]
    status, pdf, _ = await api.call("GET", f"{base}/members/famiglia/statement.pdf", "admin_a")
    assert status == 200 and pdf.startswith(b"%PDF")
    assert (await api.call("GET", f"{base}/members/nobody", "admin_a"))[0] == 404
    assert (await api.call("GET", f"{base}/report.pdf", "viewer_b"))[0] == 404
    status, summary, _ = await api.call("GET", "/community/summary?period=2025-06", "viewer_a")
    assert status == 200
    assert summary["shared_wh"] == run["result"]["shared_wh"]
    assert summary["tip_eur"] == run["result"]["tip_eur"]
    assert {site["pod"] for site in summary["sites"]} == {POD_HOME, POD_PLANT, POD_FAMILY}
    status, day, _ = await api.call("GET", "/community/summary?period=2025-06-02", "viewer_a")
    assert status == 200 and day["hours"] == 24
    assert (await api.call("GET", "/community/summary?period=junio", "viewer_a"))[0] == 422


async def test_a_new_run_sees_readings_changed_after_the_last_one(api: Api) -> None:
    await upload_june(api, skip=HOURS - 1)
    await store_june_prices(api)
    _, first, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    _, again, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    assert again["result"]["withdrawn_wh"] == first["result"]["withdrawn_wh"]
    injected, withdrawn = energy_of(POD_FAMILY, 5)
    changed = {
        "pod": POD_FAMILY,
        "readings": [
            {
                "hour_start": (START + timedelta(hours=5)).isoformat(),
                "injected_wh": injected,
                "withdrawn_wh": withdrawn + 1000,
            },
            {  # a new hour in the same month: was missing, now present
                "hour_start": (START + timedelta(hours=HOURS - 1)).isoformat(),
                "injected_wh": 0,
                "withdrawn_wh": 10,
            },
        ],
    }
    status, answer, _ = await api.call("POST", "/readings", "site_family", json=changed)
    assert status == 200 and answer["replaced"] == 1 and answer["accepted"] == 1
    _, third, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    assert third["result"]["withdrawn_wh"] == first["result"]["withdrawn_wh"] + 1010
    missing = {m["pod"]: m["hours"] for m in third["result"]["missing_readings"]}
    assert POD_FAMILY not in missing


async def test_prices_by_api(api: Api) -> None:
    csv_text = "hour_start,zone,eur_mwh\n" + "".join(
        f"{(START + timedelta(hours=i)).isoformat()},CNOR,{price_of(i)}\n" for i in range(HOURS)
    )
    status, answer, _ = await api.call(
        "POST",
        "/prices?filename=june.csv",
        "admin_a",
        data=csv_text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200, answer
    assert answer["rows"] == HOURS and answer["zones"] == ["CNOR"]
    assert answer["communities"] == [api.community_a]
    await upload_june(api)
    _, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-06"})
    assert run["missing_prices"] == 0
    status, problem, response = await api.call(
        "POST",
        "/prices",
        "admin_a",
        data=b"hour_start,zone,eur_mwh\nyesterday,CNOR,abc\n",
        headers={"Content-Type": "text/csv"},
    )
    assert status == 422 and response.content_type == "application/problem+json"
    assert problem["errors"] and ":2" in problem["errors"][0]["field"]
    assert (await api.call("POST", "/prices", "viewer_a", data=b"x"))[0] == 403
