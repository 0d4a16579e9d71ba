"""Settlement runs of the operating cycle: kinds, guards, corrections, yearly balances.

A run has a *kind*, as the GSE pays (DESIGN.md, "Settlement"):

- ``month``: the monthly view of a month, and what may be paid out monthly;
- ``year``: the yearly true-up (the surplus rule applies to the year); final months never
  block it, and it shows per member what the year gives, what the final months of the year
  already gave, and the balance (``result["balances"]``);
- ``correction``: a re-run of a finalised period; finalising it supersedes the current final
  (``supersedes`` / ``superseded_by``) and ``result["differences"]`` gives, per member, the
  difference against it. A period may be corrected again: the newest final is current.

At most one *current* final run (status ``final``, not superseded) exists per community and
period: the partial unique index ``uq_settlement_runs_current_final`` guarantees it, so two
finalisations at the same moment cannot both succeed.

Finalising is guarded: a *stale* run (its readings, prices or registry changed since it was
computed) or an *incomplete* one (coverage under ``settings.finalise_min_coverage_pct``, or a
price missing in an hour with shared energy) is refused with 409 and the figures, unless
forced with a reason, which the run keeps (``forced_reason``, ``inputs["forced"]``).

What a run stores, for reports (#13): columns ``kind``, ``status``, ``supersedes``,
``superseded_by``, ``forced_reason``; ``inputs`` = {"fingerprint", "completeness", "forced"};
``result["balances"]`` (year), ``result["differences"]`` (correction).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..domain.errors import InvalidInput
from ..domain.period import Period
from ..models import (
    Price,
    Reading,
    ReadingAudit,
    SettlementMemberResult,
    SettlementPlantResult,
    SettlementRun,
    as_utc,
    table,
    utcnow,
)
from .alerts.store import record_run_incomplete
from .cycle_settings import community_setting
from .registry import RegistryError, community_document, jsonable
from .registry_changes import document_in_force
from .settlements import (
    Inputs,
    SettlementError,
    get_run,
    get_run_row,
    load_inputs,
    settle_inputs,
)

KINDS = ("month", "year", "correction")


class RunRefused(SettlementError):
    """A run that cannot be made or finalised; ``figures`` say why (stale, incomplete)."""

    def __init__(
        self,
        status: int,
        message: str,
        problems: list[dict[str, Any]] | None = None,
        figures: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status, message, problems)
        self.figures = dict(figures or {})


def default_kind(period_text: str) -> str:
    """``month`` for a month, ``year`` for a year (a correction is always asked for)."""
    return "year" if len(period_text) == 4 else "month"


def _check_kind(kind: str, period_text: str) -> None:
    """A month run settles a month, a year run a year; a correction either."""
    if kind not in KINDS:
        raise RunRefused(422, f"kind must be one of {', '.join(KINDS)}")
    if kind != "correction" and kind != default_kind(period_text):
        raise RunRefused(
            422,
            f"a {kind} run settles a {kind}: {period_text} is a {default_kind(period_text)}",
            [{"field": "kind", "message": f"does not match the period {period_text}"}],
        )


# --- what a run was computed from -------------------------------------------------------------


def _digest(value: Any) -> str:
    text = json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def fingerprint(
    connection: AsyncConnection, community_id: str, period: Period
) -> dict[str, Any]:
    """What the readings, prices and registry of a period are now, in a few numbers.

    Readings: how many are stored and how many replacements the audit holds (both only grow
    with a new or changed reading). Prices and registry: a digest of their rows.
    """
    start, end = period.start_utc, period.end_utc
    readings = await connection.scalar(
        select(func.count())
        .select_from(Reading)
        .where(
            Reading.community_id == community_id,
            Reading.hour_start >= start,
            Reading.hour_start < end,
        )
    )
    replaced = await connection.scalar(
        select(func.count())
        .select_from(ReadingAudit)
        .where(
            ReadingAudit.community_id == community_id,
            ReadingAudit.hour_start >= start,
            ReadingAudit.hour_start < end,
        )
    )
    prices = (
        await connection.execute(
            select(Price.zone, Price.hour_start, Price.eur_mwh)
            .where(
                Price.community_id == community_id,
                Price.hour_start >= start,
                Price.hour_start < end,
            )
            .order_by(Price.zone, Price.hour_start)
        )
    ).all()
    document = await document_in_force(connection, community_id, period.first_day)
    return {
        "readings": int(readings or 0),
        "readings_replaced": int(replaced or 0),
        "prices": len(prices),
        "prices_digest": _digest([(r.zone, as_utc(r.hour_start), r.eur_mwh) for r in prices]),
        "registry_digest": _digest(document),
    }


def _document_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two community documents, in a few words."""
    old, new = jsonable(old), jsonable(new)
    changes = [
        f"community.{key}"
        for key in sorted(set(old["community"]) | set(new["community"]))
        if old["community"].get(key) != new["community"].get(key)
    ]
    for kind in ("members", "plants"):
        before = {item["id"]: item for item in old.get(kind, [])}
        after = {item["id"]: item for item in new.get(kind, [])}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                what = "added" if key not in before else "ended" if key not in after else "changed"
                changes.append(f"{kind[:-1]} {key} {what}")
    return changes


def stale_reasons(
    stored: Mapping[str, Any] | None,
    now: Mapping[str, Any],
    old_document: Mapping[str, Any],
    new_document: Mapping[str, Any],
) -> list[str]:
    """What changed since the run was computed (empty: the run is current)."""
    if not stored:
        return ["the run has no record of its inputs (computed before version 0005)"]
    reasons = []
    if now["readings"] != stored["readings"]:
        reasons.append(
            f"readings: {now['readings'] - stored['readings']:+d} POD-hours stored since"
            f" ({stored['readings']} when computed, {now['readings']} now)"
        )
    if now["readings_replaced"] != stored["readings_replaced"]:
        reasons.append(
            f"readings: {now['readings_replaced'] - stored['readings_replaced']} replaced since"
        )
    if now["prices_digest"] != stored["prices_digest"]:
        reasons.append(
            f"prices changed ({stored['prices']} hourly prices when computed, {now['prices']} now)"
        )
    if now["registry_digest"] != stored["registry_digest"]:
        changes = _document_changes(old_document, new_document)
        reasons.append("registry changed: " + (", ".join(changes) or "details of the rows"))
    return reasons


# --- completeness -----------------------------------------------------------------------------


def _expected_pod_hours(inputs: Inputs) -> int:
    """POD-hours expected in the period: each POD on the days it belongs to the community
    (FORMATS.md, completeness), as the engine counts the missing ones."""
    community, period = inputs.community, inputs.period
    expected: dict[str, int] = {}
    for member in community.members:
        start = max(member.joined, community.constituted)
        a = period.hour_index(start)
        b = period.hours if member.left is None else period.hour_index(member.left)
        for pod in member.pods:
            expected.setdefault(pod, max(0, b - a))
    members = community.members_by_id
    for plant in community.plants:
        owner = members.get(plant.owner)
        if owner is None or plant.pod in expected:
            continue
        start = max(plant.commissioned, community.constituted, owner.joined)
        a = period.hour_index(start)
        b = period.hours if owner.left is None else period.hour_index(owner.left)
        expected[plant.pod] = max(0, b - a)
    return sum(expected.values())


def completeness(inputs: Inputs, data: Mapping[str, Any], raw: Any) -> dict[str, Any]:
    """Coverage of the POD-hours and hours with shared energy but no price.

    The one place completeness is measured for finalising (to point at the readings
    completeness service when it exists).
    """
    expected = _expected_pod_hours(inputs)
    missing = sum(int(item["hours"]) for item in data.get("missing_readings", []))
    present = max(0, expected - missing)
    hourly = raw.hourly
    no_price_shared = int(
        np.count_nonzero(
            ~np.asarray(hourly.price_present) & (np.asarray(hourly.shared_wh, dtype=np.int64) > 0)
        )
    )
    coverage = Fraction(present, expected) * 100 if expected else Fraction(100)
    return {
        "expected_pod_hours": expected,
        "present_pod_hours": present,
        "missing_pod_hours": missing,
        "coverage_pct": f"{Decimal(coverage.numerator) / Decimal(coverage.denominator):.2f}",
        "shared_hours_without_price": no_price_shared,
    }


def incomplete_reasons(figures: Mapping[str, Any], min_coverage_pct: Decimal) -> list[str]:
    """Why a run is incomplete for finalising (empty: complete enough)."""
    reasons = []
    expected = int(figures["expected_pod_hours"])
    present = int(figures["present_pod_hours"])
    if expected and Fraction(present * 100, expected) < Fraction(min_coverage_pct):
        reasons.append(
            f"coverage {figures['coverage_pct']} % of POD-hours ({present} of {expected}) is"
            f" under {min_coverage_pct} %"
        )
    if figures["shared_hours_without_price"]:
        reasons.append(
            f"{figures['shared_hours_without_price']} hours with shared energy have no price"
        )
    return reasons


# --- balances and differences -----------------------------------------------------------------


async def current_final(connection: AsyncConnection, community_id: str, period_text: str) -> Any:
    """The current final run of a period (final, not superseded), if any."""
    return (
        await connection.execute(
            select(table(SettlementRun)).where(
                SettlementRun.community_id == community_id,
                SettlementRun.period == period_text,
                SettlementRun.status == "final",
                SettlementRun.superseded_by.is_(None),
            )
        )
    ).first()


async def _member_amounts(connection: AsyncConnection, run_ids: list[str]) -> dict[str, Any]:
    rows = (
        await connection.execute(
            select(
                SettlementMemberResult.run_id,
                SettlementMemberResult.member_id,
                SettlementMemberResult.amount_eur,
            ).where(SettlementMemberResult.run_id.in_(run_ids))
        )
    ).all()
    amounts: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        amounts.setdefault(row.run_id, {})[row.member_id] = Decimal(row.amount_eur)
    return amounts


async def year_balances(
    connection: AsyncConnection, community_id: str, year: str, members: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per member: what the year gives, what the final months of the year gave, the balance."""
    finals = (
        await connection.execute(
            select(SettlementRun.run_id, SettlementRun.period).where(
                SettlementRun.community_id == community_id,
                SettlementRun.period.like(f"{year}-%"),
                SettlementRun.status == "final",
                SettlementRun.superseded_by.is_(None),
            )
        )
    ).all()
    months = sorted((r.period, r.run_id) for r in finals)
    amounts = await _member_amounts(connection, [run_id for _, run_id in months])
    year_amounts = {m["id"]: Decimal(m["amount_eur"]) for m in members}
    ids = list(year_amounts) + sorted(
        {mid for a in amounts.values() for mid in a} - set(year_amounts)
    )
    rows = []
    for member_id in ids:
        given = year_amounts.get(member_id, Decimal(0))
        paid = sum((amounts[r].get(member_id, Decimal(0)) for _, r in months), Decimal(0))
        rows.append(
            {
                "id": member_id,
                "year_eur": f"{given:.2f}",
                "final_months_eur": f"{paid:.2f}",
                "balance_eur": f"{given - paid:.2f}",
            }
        )
    return {
        "final_months": [{"period": p, "run": r} for p, r in months],
        "members": rows,
    }


async def correction_differences(
    connection: AsyncConnection, final_run_id: str, members: list[dict[str, Any]]
) -> dict[str, Any]:
    """Per member: the superseded final's amount, the correction's, and the difference."""
    before = (await _member_amounts(connection, [final_run_id])).get(final_run_id, {})
    after = {m["id"]: Decimal(m["amount_eur"]) for m in members}
    ids = list(after) + sorted(set(before) - set(after))
    return {
        "supersedes": final_run_id,
        "members": [
            {
                "id": member_id,
                "final_eur": f"{before.get(member_id, Decimal(0)):.2f}",
                "correction_eur": f"{after.get(member_id, Decimal(0)):.2f}",
                "difference_eur": (
                    f"{after.get(member_id, Decimal(0)) - before.get(member_id, Decimal(0)):.2f}"
                ),
            }
            for member_id in ids
        ],
    }


# --- runs -------------------------------------------------------------------------------------


async def _period_of(engine: AsyncEngine, community_id: str, period_text: str) -> Period:
    async with engine.connect() as connection:
        try:
            document = await community_document(connection, community_id)
        except RegistryError as err:
            raise RunRefused(err.status, str(err)) from err
    try:
        return Period.parse(period_text, document["community"].get("timezone") or "Europe/Rome")
    except InvalidInput as err:
        raise RunRefused(422, str(err)) from err


async def create_cycle_run(
    engine: AsyncEngine, community_id: str, period_text: str, kind: str | None = None
) -> dict[str, Any]:
    """Settle a period into a new draft run of a kind.

    409 when a month or year run is asked for a period that has a current final (run a
    correction), or a correction for a period without one.
    """
    kind = kind or default_kind(period_text)
    _check_kind(kind, period_text)
    period = await _period_of(engine, community_id, period_text)
    async with engine.connect() as connection:
        final = await current_final(connection, community_id, str(period))
        stamp = await fingerprint(connection, community_id, period)
    if kind != "correction" and final is not None:
        raise RunRefused(
            409,
            f"{period} has the final run {final.run_id}: run a correction to change it",
        )
    if kind == "correction" and final is None:
        raise RunRefused(409, f"{period} has no final run to correct")
    inputs = await load_inputs(engine, community_id, period_text)
    data, profile, raw = await asyncio.to_thread(settle_inputs, inputs)
    figures = completeness(inputs, data, raw)
    async with engine.connect() as connection:
        if kind == "year":
            data["balances"] = await year_balances(
                connection, community_id, str(period), data["members"]
            )
        if kind == "correction":
            data["differences"] = await correction_differences(
                connection, final.run_id, data["members"]
            )
    data["completeness"] = figures
    run_id = uuid.uuid4().hex
    await _store_run(
        engine,
        community_id,
        run_id,
        inputs=inputs,
        data=data,
        profile=profile,
        kind=kind,
        supersedes=final.run_id if kind == "correction" else None,
        stored_inputs={"fingerprint": stamp, "completeness": figures},
    )
    return await get_run(engine, run_id, community_id)


async def _store_run(
    engine: AsyncEngine,
    community_id: str,
    run_id: str,
    *,
    inputs: Inputs,
    data: dict[str, Any],
    profile: dict[str, Any],
    kind: str,
    supersedes: str | None,
    stored_inputs: dict[str, Any],
) -> None:
    period = inputs.period
    now = utcnow()
    missing_readings = sum(item["hours"] for item in data["missing_readings"])
    async with engine.begin() as connection:
        await connection.execute(
            insert(SettlementRun).values(
                run_id=run_id,
                community_id=community_id,
                period=str(period),
                status="draft",
                kind=kind,
                supersedes=supersedes,
                period_start=period.start_utc,
                period_end=period.end_utc,
                created_at=now,
                community_document=jsonable(inputs.document),
                result=data,
                hourly_profile=profile,
                shared_wh=int(data["shared_wh"]),
                tip_eur=data["tip_eur"],
                valorisation_eur=data["valorisation_eur"],
                missing_readings=missing_readings,
                missing_prices=int(data["missing_prices"]["hours"]),
                inputs=jsonable(stored_inputs),
            )
        )
        if data["plants"]:
            await connection.execute(
                insert(SettlementPlantResult),
                [
                    {
                        "community_id": community_id,
                        "run_id": run_id,
                        "plant_id": p["id"],
                        "allocated_wh": p["allocated_wh"],
                        "incentivised_wh": p["incentivised_wh"],
                        "tip_eur": p["tip_eur"],
                        "valorisation_eur": p.get("valorisation_eur"),
                    }
                    for p in data["plants"]
                ],
            )
        if data["members"]:
            await connection.execute(
                insert(SettlementMemberResult),
                [
                    {
                        "community_id": community_id,
                        "run_id": run_id,
                        "member_id": m["id"],
                        "shared_wh": m["shared_wh"],
                        "amount_eur": m["amount_eur"],
                    }
                    for m in data["members"]
                ],
            )
        if missing_readings or data["missing_prices"]["hours"]:
            await record_run_incomplete(
                connection,
                community_id,
                str(period),
                run_id,
                missing_readings,
                data["missing_prices"]["hours"],
                now,
                str((inputs.document.get("settings") or {}).get("language") or "it"),
            )


async def guards(engine: AsyncEngine, row: Any) -> dict[str, Any]:
    """Whether a draft may be finalised: ``{"stale": [...], "incomplete": [...], ...}``."""
    community_id = row.community_id
    period = await _period_of(engine, community_id, row.period)
    stored = (row.inputs or {}).get("fingerprint")
    figures = (row.inputs or {}).get("completeness") or (row.result or {}).get("completeness")
    async with engine.connect() as connection:
        now = await fingerprint(connection, community_id, period)
        document = await document_in_force(connection, community_id, period.first_day)
    stale = stale_reasons(stored, now, row.community_document or {}, document)
    threshold = community_setting(row.community_document or {}, "finalise_min_coverage_pct")
    incomplete = incomplete_reasons(figures, Decimal(str(threshold))) if figures else []
    return {
        "stale": stale,
        "incomplete": incomplete,
        "completeness": figures,
        "min_coverage_pct": str(threshold),
        "computed_at": as_utc(row.created_at).isoformat(),
    }


async def finalise_cycle_run(
    engine: AsyncEngine,
    run_id: str,
    community_id: str | None,
    *,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Freeze a draft, with the guards; a correction supersedes the current final.

    409 (with the figures) when the run is stale or incomplete and not forced; a forced
    finalisation needs a reason, kept in the run. 409 when another run of the period became
    final meanwhile (the database refuses a second current final).
    """
    row = await get_run_row(engine, run_id, community_id)
    if row.status == "final":
        raise RunRefused(409, f"run {run_id} is final and cannot be changed")
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise RunRefused(
            422,
            "a forced finalisation needs a reason",
            [{"field": "reason", "message": "is required with force"}],
        )
    checks = await guards(engine, row)
    problems = [{"field": "stale", "message": text} for text in checks["stale"]] + [
        {"field": "incomplete", "message": text} for text in checks["incomplete"]
    ]
    if problems and not force:
        what = " and ".join(
            word for word in ("stale", "incomplete") if checks[word]
        )  # stale, incomplete or both
        raise RunRefused(
            409,
            f"run {run_id} is {what}: recompute it, or finalise with force and a reason",
            problems,
            checks,
        )
    result = dict(row.result)
    stored_inputs = dict(row.inputs or {})
    stored_inputs["at_finalisation"] = checks
    if force:
        stored_inputs["forced"] = {
            "reason": reason,
            "stale": checks["stale"],
            "incomplete": checks["incomplete"],
        }
    try:
        async with engine.begin() as connection:
            if row.kind == "year":
                result["balances"] = await year_balances(
                    connection, row.community_id, row.period, result["members"]
                )
            if row.kind == "correction":
                superseded = await connection.execute(
                    update(SettlementRun)
                    .where(
                        SettlementRun.run_id == row.supersedes,
                        SettlementRun.status == "final",
                        SettlementRun.superseded_by.is_(None),
                    )
                    .values(superseded_by=run_id)
                )
                if not superseded.rowcount:
                    raise RunRefused(
                        409,
                        f"the final run {row.supersedes} this correction supersedes is no longer"
                        " current: run a new correction",
                    )
            done = await connection.execute(
                update(SettlementRun)
                .where(SettlementRun.run_id == run_id, SettlementRun.status == "draft")
                .values(
                    status="final",
                    finalised_at=utcnow(),
                    forced_reason=reason if force else None,
                    inputs=jsonable(stored_inputs),
                    result=result,
                )
            )
            if not done.rowcount:
                raise RunRefused(409, f"run {run_id} is final and cannot be changed")
    except IntegrityError as err:
        raise RunRefused(
            409,
            f"another run of {row.period} was finalised at the same moment: {run_id} stays a draft",
        ) from err
    return await get_run(engine, run_id, community_id)
