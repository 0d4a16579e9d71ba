"""Settlement runs of the operating cycle (#10): kinds, guards, late data, corrections."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.domain.period import Period
from cer_backend.models import SettlementRun
from cer_backend.service.prices import store_prices
from cer_backend.service.tokens import create_token

from .conftest import POD_FAMILY, POD_HOME, POD_PLANT, Api

pytestmark = pytest.mark.database

PODS = (POD_HOME, POD_PLANT, POD_FAMILY)
FORCE = {"force": True, "reason": "the distributor's data of the comune arrives in March"}


def energy(pod: str, hour: int) -> tuple[int, int]:
    """A sunny plant, a comune and a family (local hour from the UTC index, summer time)."""
    local = (hour + 2) % 24
    sun = max(0, 6 - abs(local - 13)) * 8_000
    if pod == POD_PLANT:
        return sun, 150
    if pod == POD_HOME:
        return 0, 5_000 + (hour % 7) * 100
    return 0, 900 + (hour % 3) * 100


async def upload_month(
    api: Api,
    month: str,
    *,
    skip: frozenset[tuple[str, int]] = frozenset(),
    extra_wh: int = 0,
    no_price: frozenset[int] = frozenset(),
) -> Period:
    """Every POD's readings of a month, and its prices (except the hours in ``no_price``)."""
    engine = api.server.app[ENGINE_KEY]
    period = Period.parse(month)
    for pod in PODS:
        token = api.tokens.get(f"site:{pod}")
        if token is None:
            token = (await create_token(engine, "site", api.community_a, [pod]))[0]
            api.tokens[f"site:{pod}"] = token
        items = []
        for i in range(period.hours):
            if (pod, i) in skip:
                continue
            injected, withdrawn = energy(pod, i)
            hour = period.start_utc + timedelta(hours=i)
            items.append(
                {
                    "hour_start": hour.isoformat(),
                    "injected_wh": injected,
                    "withdrawn_wh": withdrawn + extra_wh,
                }
            )
        status, answer, _ = await api.call(
            "POST", "/readings", token, json={"pod": pod, "readings": items}
        )
        assert status == 200 and not answer["rejected"], answer
    rows = [
        ("CNOR", period.start_utc + timedelta(hours=i), Decimal("100.25") + i % 24)
        for i in range(period.hours)
        if i not in no_price
    ]
    await store_prices(engine, rows, [api.community_a], "test")
    return period


async def run(api: Api, period: str, kind: str | None = None) -> dict[str, Any]:
    body = {"period": period} | ({"kind": kind} if kind else {})
    status, answer, _ = await api.call("POST", "/settlements", "admin_a", json=body)
    assert status == 201, answer
    return answer


async def finalise(api: Api, run_id: str, body: Any = None) -> tuple[int, Any]:
    kwargs = {"json": body} if body is not None else {}
    status, answer, _ = await api.call(
        "POST", f"/settlements/{run_id}/finalise", "admin_a", **kwargs
    )
    return status, answer


async def current_finals(api: Api, period: str) -> int:
    async with api.server.app[ENGINE_KEY].connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(SettlementRun)
            .where(
                SettlementRun.community_id == api.community_a,
                SettlementRun.period == period,
                SettlementRun.status == "final",
                SettlementRun.superseded_by.is_(None),
            )
        )
    return int(count or 0)


async def test_two_drafts_finalised_at_the_same_moment_give_exactly_one_final(api: Api) -> None:
    for month in range(1, 13):
        period = f"2025-{month:02d}"
        first, second = await run(api, period), await run(api, period)
        answers = await asyncio.gather(
            finalise(api, first["id"], FORCE), finalise(api, second["id"], FORCE)
        )
        assert sorted(status for status, _ in answers) == [200, 409], answers
        assert await current_finals(api, period) == 1
    # two corrections of the same final at the same moment: one supersedes it, not both
    for month in range(1, 7):
        period = f"2025-{month:02d}"
        first = await run(api, period, "correction")
        second = await run(api, period, "correction")
        answers = await asyncio.gather(
            finalise(api, first["id"], FORCE), finalise(api, second["id"], FORCE)
        )
        assert sorted(status for status, _ in answers) == [200, 409], answers
        assert await current_finals(api, period) == 1


async def test_a_stale_draft_is_refused_and_says_what_changed(api: Api) -> None:
    period = await upload_month(api, "2025-06")
    draft = await run(api, "2025-06")
    assert draft["kind"] == "month" and draft["result"]["completeness"]["coverage_pct"] == "100.00"
    hour = period.start_utc + timedelta(hours=30)
    reading = {"hour_start": hour.isoformat(), "injected_wh": 0, "withdrawn_wh": 1}
    status, answer, _ = await api.call(
        "POST",
        "/readings",
        api.tokens[f"site:{POD_FAMILY}"],
        json={"pod": POD_FAMILY, "readings": [reading]},
    )
    assert answer["replaced"] == 1
    status, problem = await finalise(api, draft["id"])
    assert status == 409 and "stale" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["stale"]
    assert "1 replaced" in problem["errors"][0]["message"]
    assert problem["guards"]["stale"] == [problem["errors"][0]["message"]]
    # prices and the registry too
    await store_prices(
        api.server.app[ENGINE_KEY],
        [("CNOR", period.start_utc, Decimal("1.00"))],
        [api.community_a],
        "test",
    )
    status, _, _ = await api.call(
        "PATCH",
        f"/communities/{api.community_a}/members/famiglia",
        "admin_a",
        json={"name": "Rossi"},
    )
    assert status == 200
    status, problem = await finalise(api, draft["id"])
    messages = " ".join(e["message"] for e in problem["errors"])
    assert "prices changed" in messages and "member famiglia changed" in messages
    status, got, _ = await api.call("GET", f"/settlements/{draft['id']}", "admin_a")
    assert got["status"] == "draft"
    fresh = await run(api, "2025-06")
    status, final = await finalise(api, fresh["id"])
    assert status == 200 and final["status"] == "final" and final["forced_reason"] is None


async def test_an_incomplete_month_is_refused_then_forced_with_a_reason(api: Api) -> None:
    missing = frozenset((POD_FAMILY, i) for i in range(0, 720, 10))  # 72 of 2,160 POD-hours
    await upload_month(api, "2025-06", skip=missing)
    draft = await run(api, "2025-06")
    status, problem = await finalise(api, draft["id"])
    assert status == 409 and "incomplete" in problem["detail"]
    figures = problem["guards"]["completeness"]
    assert figures["expected_pod_hours"] == 3 * 720 and figures["missing_pod_hours"] == 72
    assert figures["coverage_pct"] == "96.67" and problem["guards"]["min_coverage_pct"] == "99"
    assert "96.67 %" in problem["errors"][0]["message"]
    status, problem = await finalise(api, draft["id"], {"force": True})
    assert status == 422 and problem["errors"][0]["field"] == "reason"
    # the run's figures agree with the completeness report of the readings
    status, report, _ = await api.call(
        "GET", f"/communities/{api.community_a}/readings/status?period=2025-06", "admin_a"
    )
    assert (report["expected"], report["missing"]) == (3 * 720, 72)
    status, final = await finalise(api, draft["id"], FORCE)
    assert status == 200 and final["forced_reason"] == FORCE["reason"]
    status, csv_body, _ = await api.call("GET", f"/settlements/{draft['id']}/report.csv", "admin_a")
    assert f"forced,{FORCE['reason']}" in csv_body.decode()


async def test_a_missing_price_in_an_hour_with_shared_energy_makes_a_run_incomplete(
    api: Api,
) -> None:
    await upload_month(api, "2025-07", no_price=frozenset({10}))  # 12:00 local, sunny
    draft = await run(api, "2025-07")
    status, problem = await finalise(api, draft["id"])
    assert status == 409
    assert problem["errors"] == [
        {"field": "incomplete", "message": "1 hours with shared energy have no price"}
    ]


async def test_late_readings_of_a_final_month_are_kept_and_a_correction_supersedes_it(
    api: Api,
) -> None:
    period = await upload_month(api, "2025-06")
    status, final = await finalise(api, (await run(api, "2025-06"))["id"])
    assert status == 200
    late = [
        {
            "hour_start": (period.start_utc + timedelta(hours=i)).isoformat(),
            "injected_wh": 0,
            "withdrawn_wh": 3_000,
        }
        for i in range(8, 14)
    ]
    status, answer, _ = await api.call(
        "POST",
        "/readings",
        api.tokens[f"site:{POD_FAMILY}"],
        json={"pod": POD_FAMILY, "readings": late},
    )
    assert status == 200 and answer["replaced"] == 6 and answer["late"] == 6
    assert answer["rejected"] == []
    status, again, _ = await api.call("GET", f"/settlements/{final['id']}", "admin_a")
    assert again["result"] == final["result"] and again["late_readings"] == 6
    # the completeness report counts them too
    status, report, _ = await api.call(
        "GET", f"/communities/{api.community_a}/readings/status?period=2025-06", "admin_a"
    )
    assert status == 200 and report["late"] == 6 and report["missing"] == 0
    # a month run of a final month is refused: a correction is asked for explicitly
    status, problem, _ = await api.call(
        "POST", "/settlements", "admin_a", json={"period": "2025-06"}
    )
    assert status == 409 and "correction" in problem["detail"]
    correction = await run(api, "2025-06", "correction")
    assert correction["kind"] == "correction" and correction["supersedes"] == final["id"]
    differences = {m["id"]: m for m in correction["result"]["differences"]["members"]}
    famiglia = differences["famiglia"]
    assert Decimal(famiglia["difference_eur"]) == Decimal(famiglia["correction_eur"]) - Decimal(
        famiglia["final_eur"]
    )
    assert Decimal(famiglia["difference_eur"]) > 0  # more coincident withdrawal at noon
    status, corrected = await finalise(api, correction["id"])
    assert status == 200 and corrected["current"]
    status, old, _ = await api.call("GET", f"/settlements/{final['id']}", "admin_a")
    assert old["superseded_by"] == correction["id"] and not old["current"]
    assert old["result"] == final["result"]
    # corrected again: the newest final correction is current, the others stay as history
    second = await run(api, "2025-06", "correction")
    assert second["supersedes"] == correction["id"]
    assert (await finalise(api, second["id"]))[0] == 200
    assert await current_finals(api, "2025-06") == 1
    status, listing, _ = await api.call("GET", "/settlements", "admin_a")
    june = [r for r in listing if r["period"] == "2025-06"]
    assert [r["current"] for r in june if r["status"] == "final"].count(True) == 1
    # a correction of a period without a final, or a kind that does not fit the period
    status, _, _ = await api.call(
        "POST", "/settlements", "admin_a", json={"period": "2025-08", "kind": "correction"}
    )
    assert status == 409
    status, _, _ = await api.call(
        "POST", "/settlements", "admin_a", json={"period": "2025", "kind": "month"}
    )
    assert status == 422


async def test_the_year_run_after_two_final_months_shows_the_balances(api: Api) -> None:
    months = {}
    for month in ("2025-06", "2025-07"):
        await upload_month(api, month)
        status, final = await finalise(api, (await run(api, month))["id"])
        assert status == 200
        months[month] = {m["id"]: Decimal(m["amount_eur"]) for m in final["result"]["members"]}
    year = await run(api, "2025")
    assert year["kind"] == "year"
    balances = year["result"]["balances"]
    assert [m["period"] for m in balances["final_months"]] == ["2025-06", "2025-07"]
    year_amounts = {m["id"]: Decimal(m["amount_eur"]) for m in year["result"]["members"]}
    for row in balances["members"]:
        paid = months["2025-06"].get(row["id"], 0) + months["2025-07"].get(row["id"], 0)
        assert Decimal(row["final_months_eur"]) == paid
        assert Decimal(row["year_eur"]) == year_amounts[row["id"]]
        assert Decimal(row["balance_eur"]) == year_amounts[row["id"]] - paid
    # the year is incomplete (two months of data): finalised only when forced, while its
    # months stay final
    status, problem = await finalise(api, year["id"])
    assert status == 409 and problem["errors"][0]["field"] == "incomplete"
    status, final_year = await finalise(api, year["id"], FORCE)
    assert status == 200 and final_year["kind"] == "year"
    assert await current_finals(api, "2025-06") == 1 and await current_finals(api, "2025") == 1
    status, csv_body, _ = await api.call("GET", f"/settlements/{year['id']}/report.csv", "admin_a")
    assert "balance,famiglia" in csv_body.decode()


async def test_the_database_itself_refuses_a_second_current_final(api: Api) -> None:
    first, second = await run(api, "2025-03"), await run(api, "2025-03")
    engine = api.server.app[ENGINE_KEY]
    async with engine.begin() as connection:
        await connection.execute(
            update(SettlementRun).where(SettlementRun.run_id == first["id"]).values(status="final")
        )
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                update(SettlementRun)
                .where(SettlementRun.run_id == second["id"])
                .values(status="final")
            )
    # once superseded, the old final is history and another may be current
    async with engine.begin() as connection:
        await connection.execute(
            update(SettlementRun)
            .where(SettlementRun.run_id == first["id"])
            .values(superseded_by=second["id"])
        )
        await connection.execute(
            update(SettlementRun).where(SettlementRun.run_id == second["id"]).values(status="final")
        )
    assert await current_finals(api, "2025-03") == 1
