"""Settlement runs from stored readings and prices, with the engine of ``cer_backend.domain``.

A run is a draft until finalised; a final run is immutable and freezes the readings of its
period (ingest refuses them with 409). Readings are loaded into PODs × hours arrays: on
PostgreSQL with one binary ``COPY``, so a year of 1,000 PODs loads in about a second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..domain.energy import HourlyEnergy
from ..domain.errors import InvalidInput
from ..domain.money import eur
from ..domain.period import Period
from ..domain.prices import HourlyPrices
from ..domain.settlement import settle
from ..domain.site_shares import site_shares
from ..models import (
    READING_SOURCES,
    Price,
    Reading,
    ReadingDirty,
    ReadingPack,
    SettlementRun,
    as_utc,
    table,
    utcnow,
)
from .registry import RegistryError, check_community_file, community_document
from .registry_changes import document_in_force, pod_code
from .sources import DEFAULT_RANKING, RankedHours, rank_rows, source_index, source_ranking
from .statement_figures import add_report_figures

SECONDS_PER_HOUR = 3600


class SettlementError(Exception):
    """A run cannot be made or changed; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.problems = problems or []


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the engine settles: the community, energy, prices and the period."""

    document: dict[str, Any]
    community: Any
    energy: Any
    prices: Any
    period: Any
    #: which source each POD-hour came from (None: not loaded from the database)
    ranked: RankedHours | None = None


async def _load_energy(
    connection: AsyncConnection,
    community_id: str,
    pods: list[str],
    period: Any,
    ranking: tuple[str, ...] = DEFAULT_RANKING,
) -> tuple[Any, RankedHours]:
    """The period's energy from the best-ranked source of each POD-hour, and the choice."""
    shape = (len(pods), period.hours)
    if pods and connection.dialect.name == "postgresql":
        ranked = await load_packed(connection.engine, community_id, pods, period, ranking)
    else:
        index = {pod: i for i, pod in enumerate(pods)}
        rows = (
            await connection.execute(
                select(
                    Reading.pod,
                    Reading.hour_start,
                    Reading.source,
                    Reading.injected_wh,
                    Reading.withdrawn_wh,
                ).where(
                    Reading.community_id == community_id,
                    Reading.hour_start >= period.start_utc,
                    Reading.hour_start < period.end_utc,
                )
            )
        ).all()
        rows = [r for r in rows if r.pod in index]
        count = len(rows)
        start_hour = period.start_epoch_hour
        ranked = rank_rows(
            shape,
            pod=np.fromiter((index[r.pod] for r in rows), dtype=np.int64, count=count),
            hour=np.fromiter(
                (
                    int(as_utc(r.hour_start).timestamp()) // SECONDS_PER_HOUR - start_hour
                    for r in rows
                ),
                dtype=np.int64,
                count=count,
            ),
            source=source_index([r.source for r in rows]),
            injected=np.fromiter((r.injected_wh for r in rows), dtype=np.int64, count=count),
            withdrawn=np.fromiter((r.withdrawn_wh for r in rows), dtype=np.int64, count=count),
            ranking=ranking,
        )
    energy = HourlyEnergy.from_arrays(
        period, pods, ranked.injected, ranked.withdrawn, ranked.present
    )
    return energy, ranked


#: PostgreSQL: one row per POD and source, its (hour index, injected, withdrawn) packed by the
#: server as big-endian int4 triples in one bytea, so the client gets a few values per POD
#: instead of a row per hour; several connections share the PODs (the server works in parallel).
_PACKED_READINGS = """
SELECT r.pod, r.source,
  string_agg(int4send(((extract(epoch FROM r.hour_start)::bigint / 3600) - %(start_hour)s)::int4)
             || int4send(r.injected_wh::int4) || int4send(r.withdrawn_wh::int4), ''::bytea)
FROM readings r
WHERE r.community_id = %(community)s AND r.pod = ANY(CAST(%(pods)s AS text[]))
  AND r.hour_start >= %(start)s AND r.hour_start < %(end)s
GROUP BY r.pod, r.source
"""
_PACKED_ROW = np.dtype([("hour", ">i4"), ("injected", ">i4"), ("withdrawn", ">i4")])
#: concurrent connections that load a period's readings
LOAD_CONNECTIONS = 4


async def _copy_readings(
    connection: AsyncConnection,
    *,
    community_id: str,
    pods: list[str],
    start_hour: int,
    start: datetime,
    end: datetime,
) -> tuple[Any, Any, Any, Any, Any]:
    """PostgreSQL: the period's readings as arrays (POD, source, hour index, Wh, Wh)."""
    index = {pod: i for i, pod in enumerate(pods)}
    size = max(1, -(-len(pods) // LOAD_CONNECTIONS))
    chunks = [pods[i : i + size] for i in range(0, len(pods), size)]

    async def load(chunk: list[str]) -> list[tuple[str, str, bytes]]:
        async with connection.engine.connect() as own:
            raw = await own.get_raw_connection()
            driver: Any = raw.driver_connection
            cursor = driver.cursor(binary=True)
            await cursor.execute(
                _PACKED_READINGS,
                {
                    "start_hour": start_hour,
                    "pods": chunk,
                    "community": community_id,
                    "start": start,
                    "end": end,
                },
            )
            rows = await cursor.fetchall()
            await cursor.close()
            await driver.rollback()
            return [(row[0], row[1], row[2]) for row in rows]

    parts = await asyncio.gather(*(load(chunk) for chunk in chunks))
    pod_parts, hour_parts, injected_parts, withdrawn_parts, source_parts = [], [], [], [], []
    for pod, source, packed in (item for part in parts for item in part):
        table = np.frombuffer(packed, dtype=_PACKED_ROW)
        pod_parts.append(np.full(len(table), index[pod], dtype=np.int64))
        source_parts.append(np.full(len(table), READING_SOURCES.index(source), dtype=np.int64))
        hour_parts.append(table["hour"])
        injected_parts.append(table["injected"])
        withdrawn_parts.append(table["withdrawn"])
    if not pod_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    return (
        np.concatenate(pod_parts),
        np.concatenate(source_parts),
        np.concatenate(hour_parts).astype(np.int64),
        np.concatenate(injected_parts).astype(np.int64),
        np.concatenate(withdrawn_parts).astype(np.int64),
    )


async def load_packed(
    engine: AsyncEngine,
    community_id: str,
    pods: list[str],
    period: Any,
    ranking: tuple[str, ...] = DEFAULT_RANKING,
) -> RankedHours:
    """PostgreSQL: the period's readings as PODs × hours arrays, from the monthly packs.

    Packs missing or marked dirty by ingest are built from ``readings`` first; a mark is
    removed only if no upload raised it meanwhile (its version is the one read here), so a
    pack is never taken as fresh when it is not.
    """
    months = []
    for month in period.months:
        month_period = Period.parse(month, period.timezone)
        months.append(month_period)
    starts = [m.start_utc for m in months]
    async with engine.connect() as connection:
        marks = (
            await connection.execute(
                select(ReadingDirty.pod, ReadingDirty.month_start, ReadingDirty.version).where(
                    ReadingDirty.community_id == community_id,
                    ReadingDirty.month_start.in_(starts),
                )
            )
        ).all()
        built = (
            await connection.execute(
                select(ReadingPack.pod, ReadingPack.month_start).where(
                    ReadingPack.community_id == community_id,
                    ReadingPack.month_start.in_(starts),
                )
            )
        ).all()
    dirty = {(r.pod, as_utc(r.month_start)) for r in marks}
    fresh = {(r.pod, as_utc(r.month_start)) for r in built} - dirty
    for month_period in months:
        todo = [pod for pod in pods if (pod, month_period.start_utc) not in fresh]
        if todo:
            await _build_packs(engine, community_id, todo, month_period)
    if marks:
        await _clear_marks(engine, community_id, marks)
    return await _read_packs(
        engine, community_id, pods=pods, period=period, months=months, ranking=ranking
    )


async def _build_packs(engine: AsyncEngine, community_id: str, pods: list[str], month: Any) -> None:
    """Pack a month of readings of these PODs (PODs without readings get an empty pack)."""
    async with engine.connect() as connection:
        pod_i, source_i, hour_i, inj, wd = await _copy_readings(
            connection,
            community_id=community_id,
            pods=pods,
            start_hour=month.start_epoch_hour,
            start=month.start_utc,
            end=month.end_utc,
        )
    hours = month.hours
    count = len(READING_SOURCES)
    injected = np.zeros((len(pods), count, hours), dtype=">i4")
    withdrawn = np.zeros((len(pods), count, hours), dtype=">i4")
    present = np.zeros((len(pods), count, hours), dtype=np.uint8)
    injected[pod_i, source_i, hour_i] = inj
    withdrawn[pod_i, source_i, hour_i] = wd
    present[pod_i, source_i, hour_i] = 1
    has = np.asarray(present.any(axis=2), dtype=np.bool_)
    now = utcnow()
    rows = []
    for i, pod in enumerate(pods):
        kept = np.flatnonzero(has[i])
        rows.append(
            (
                community_id,
                pod,
                month.start_utc,
                hours,
                injected[i, kept].tobytes(),
                withdrawn[i, kept].tobytes(),
                present[i, kept].tobytes(),
                now,
                ",".join(READING_SOURCES[k] for k in kept.tolist()),
            )
        )
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.transaction():
            cursor = driver.cursor()
            await cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS reading_packs_load"
                " (LIKE reading_packs) ON COMMIT DELETE ROWS"
            )
            async with cursor.copy(
                "COPY reading_packs_load (community_id, pod, month_start, hours, injected,"
                " withdrawn, present, built_at, sources) FROM STDIN"
            ) as copy:
                for row in rows:
                    await copy.write_row(row)
            await cursor.execute(
                "INSERT INTO reading_packs SELECT * FROM reading_packs_load"
                " ON CONFLICT (community_id, pod, month_start) DO UPDATE SET"
                " hours = EXCLUDED.hours, injected = EXCLUDED.injected,"
                " withdrawn = EXCLUDED.withdrawn, present = EXCLUDED.present,"
                " built_at = EXCLUDED.built_at, sources = EXCLUDED.sources"
            )


async def _clear_marks(engine: AsyncEngine, community_id: str, marks: Any) -> None:
    """Remove the marks read before building, unless an upload raised them since."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.transaction():
            await driver.execute(
                "DELETE FROM reading_dirty d USING unnest(%s::text[], %s::timestamptz[],"
                " %s::bigint[]) AS m(pod, month_start, version)"
                " WHERE d.community_id = %s AND d.pod = m.pod"
                " AND d.month_start = m.month_start AND d.version = m.version",
                (
                    [r.pod for r in marks],
                    [as_utc(r.month_start) for r in marks],
                    [int(r.version) for r in marks],
                    community_id,
                ),
            )


async def _read_packs(
    engine: AsyncEngine,
    community_id: str,
    *,
    pods: list[str],
    period: Any,
    months: list[Any],
    ranking: tuple[str, ...],
) -> RankedHours:
    """The packs of the period, the best-ranked source of each POD-hour chosen."""
    index = {pod: i for i, pod in enumerate(pods)}
    offsets = {m.start_utc: (m.start_epoch_hour - period.start_epoch_hour, m.hours) for m in months}
    hours = period.hours
    injected = np.zeros((len(pods), hours), dtype=np.int64)
    withdrawn = np.zeros((len(pods), hours), dtype=np.int64)
    present = np.zeros((len(pods), hours), dtype=np.bool_)
    chosen = np.full((len(pods), hours), -1, dtype=np.int8)
    available = np.zeros((len(pods), len(READING_SOURCES)), dtype=np.int64)
    worst_first = sorted(range(len(READING_SOURCES)), key=lambda s: _rank(ranking, s), reverse=True)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        cursor = driver.cursor(binary=True)
        await cursor.execute(
            "SELECT pod, month_start, hours, injected, withdrawn, present, sources"
            " FROM reading_packs"
            " WHERE community_id = %s AND month_start = ANY(%s) AND pod = ANY(%s)",
            (community_id, list(offsets), pods),
        )
        rows = await cursor.fetchall()
        await cursor.close()
        await driver.rollback()
    for pod, month_start, month_hours, inj, wd, pres, sources in rows:
        offset, expected = offsets[as_utc(month_start)]
        if month_hours != expected:
            raise RuntimeError(f"pack of {pod} {month_start} has {month_hours} hours")
        first = max(0, -offset)
        last = min(month_hours, hours - offset)
        if first >= last or not sources:
            continue
        row = index[pod]
        target = slice(offset + first, offset + last)
        names = sources.split(",")
        inj_all = np.frombuffer(inj, dtype=">i4").reshape(len(names), month_hours)
        wd_all = np.frombuffer(wd, dtype=">i4").reshape(len(names), month_hours)
        pres_all = np.frombuffer(pres, dtype=np.uint8).reshape(len(names), month_hours)
        position = {READING_SOURCES.index(name): k for k, name in enumerate(names)}
        for source in worst_first:
            k = position.get(source)
            if k is None:
                continue
            mask = pres_all[k, first:last].astype(bool)
            available[row, source] += int(mask.sum())
            injected[row, target][mask] = inj_all[k, first:last][mask]
            withdrawn[row, target][mask] = wd_all[k, first:last][mask]
            present[row, target] |= mask
            chosen[row, target][mask] = source
    return RankedHours(injected, withdrawn, present, chosen, available)


def _rank(ranking: tuple[str, ...], source: int) -> int:
    name = READING_SOURCES[source]
    return ranking.index(name) if name in ranking else len(ranking)


async def _load_prices(connection: AsyncConnection, community_id: str, period: Any) -> Any:

    rows = (
        await connection.execute(
            select(Price.zone, Price.hour_start, Price.eur_mwh).where(
                Price.community_id == community_id,
                Price.hour_start >= period.start_utc,
                Price.hour_start < period.end_utc,
            )
        )
    ).all()
    return HourlyPrices.from_rows(
        [(r.zone, as_utc(r.hour_start), Decimal(r.eur_mwh)) for r in rows]
    )


async def load_inputs(engine: AsyncEngine, community_id: str, period_text: str) -> Inputs:
    """The community (as in force at the period's start), readings and prices of a period."""

    async with engine.connect() as connection:
        try:
            document = await community_document(connection, community_id)
        except RegistryError as err:
            raise SettlementError(err.status, str(err)) from err
        timezone = document["community"].get("timezone") or "Europe/Rome"
        try:
            period = Period.parse(period_text, timezone)
        except InvalidInput as err:
            raise SettlementError(422, str(err)) from err
        # the registry as it was on the period's first day (dated changes undone)
        document = await document_in_force(connection, community_id, period.first_day)
        try:
            community = check_community_file(document)
        except RegistryError as err:
            raise SettlementError(422, "the registry breaks a rule", err.problems) from err
        pods = sorted(
            {pod_code(pod) for m in document["members"] for pod in m["pods"]}
            | {p["pod"] for p in document["plants"]}
        )
        energy, ranked = await _load_energy(
            connection, community_id, pods, period, source_ranking(document)
        )
        prices = await _load_prices(connection, community_id, period)
    return Inputs(document, community, energy, prices, period, ranked)


def _spans(hours: list[int] | np.ndarray, period: Any) -> list[list[str]]:
    """Consecutive hour indexes as [first start, last start] pairs (ISO, local offset)."""
    spans: list[list[int]] = []
    for h in (int(x) for x in hours):
        if spans and spans[-1][1] == h - 1:
            spans[-1][1] = h
        else:
            spans.append([h, h])
    return [[period.hour_start(a).isoformat(), period.hour_start(b).isoformat()] for a, b in spans]


def settle_inputs(inputs: Inputs) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Run the engine: (result JSON with missing data per POD and hour, hourly profile, raw)."""

    result = settle(inputs.community, inputs.energy, inputs.prices, inputs.period)
    data = result.to_json_dict()
    period = inputs.period
    data["missing_readings"] = [
        {"pod": pod, "hours": len(hours), "ranges": _spans(hours, period)}
        for pod, hours in sorted(result.missing.pod_hours.items())
    ]
    hourly = result.hourly
    no_price = np.flatnonzero(~np.asarray(hourly.price_present))
    data["missing_prices"] = {"hours": len(no_price), "ranges": _spans(no_price, period)}
    if inputs.ranked is not None:
        data["readings_by_source"] = inputs.ranked.by_source()
    shared = np.asarray(hourly.shared_wh, dtype=np.int64)
    local_hours = np.array([period.hour_start(i).hour for i in range(period.hours)], dtype=np.int64)
    profile = {
        "shared_wh_by_hour_of_day": np.bincount(local_hours, weights=shared, minlength=24)
        .astype(np.int64)
        .tolist(),
        "shared_wh_by_month": {m["month"]: m["shared_wh"] for m in data.get("months", [])},
    }
    add_report_figures(data, profile, inputs, result)
    return data, profile, result


async def create_run(
    engine: AsyncEngine, community_id: str, period_text: str, kind: str | None = None
) -> dict[str, Any]:
    """Settle a period into a new draft run (``service.runs``: kinds, corrections)."""
    from .runs import create_cycle_run  # noqa: PLC0415 (runs builds on this module)

    return await create_cycle_run(engine, community_id, period_text, kind)


async def _final_overlap(
    connection: AsyncConnection, community_id: str, start: datetime, end: datetime
) -> Any:
    return (
        await connection.execute(
            select(SettlementRun.run_id, SettlementRun.period).where(
                SettlementRun.community_id == community_id,
                SettlementRun.status == "final",
                SettlementRun.period_start < end,
                SettlementRun.period_end > start,
            )
        )
    ).first()


def run_view(row: Any, full: bool = True) -> dict[str, Any]:
    """A run as the API shows it."""
    view: dict[str, Any] = {
        "id": row.run_id,
        "community": row.community_id,
        "period": row.period,
        "status": row.status,
        "created_at": as_utc(row.created_at).isoformat(),
        "finalised_at": as_utc(row.finalised_at).isoformat() if row.finalised_at else None,
        "shared_wh": row.shared_wh,
        "tip_eur": row.tip_eur,
        "valorisation_eur": row.valorisation_eur,
        "missing_readings": row.missing_readings,
        "missing_prices": row.missing_prices,
        "kind": row.kind,
        "supersedes": row.supersedes,
        "superseded_by": row.superseded_by,
        "current": row.status == "final" and row.superseded_by is None,
        "forced_reason": row.forced_reason,
    }
    if full:
        view["result"] = row.result
        view["hourly_profile"] = row.hourly_profile
    return view


async def get_run_row(engine: AsyncEngine, run_id: str, community_id: str | None) -> Any:
    """The stored run (404 when absent or of another community)."""
    statement = select(table(SettlementRun)).where(SettlementRun.run_id == run_id)
    if community_id is not None:
        statement = statement.where(SettlementRun.community_id == community_id)
    async with engine.connect() as connection:
        row = (await connection.execute(statement)).first()
    if row is None:
        raise SettlementError(404, f"no settlement run {run_id!r}")
    return row


async def get_run(engine: AsyncEngine, run_id: str, community_id: str | None) -> dict[str, Any]:
    """A run with its result; a final one with the readings of its period that came late."""
    row = await get_run_row(engine, run_id, community_id)
    view = run_view(row)
    if row.status == "final" and row.finalised_at is not None:
        async with engine.connect() as connection:
            view["late_readings"] = await late_readings(
                connection,
                row.community_id,
                as_utc(row.period_start),
                as_utc(row.period_end),
                as_utc(row.finalised_at),
            )
    return view


async def late_readings_of(engine: AsyncEngine, community_id: str, period: Any) -> int:
    """Readings of the period stored after the current final run of their hour was finalised
    (late data: kept for a correction, never changing the final run)."""
    final = (
        select(SettlementRun.run_id)
        .where(
            SettlementRun.community_id == community_id,
            SettlementRun.status == "final",
            SettlementRun.superseded_by.is_(None),
            SettlementRun.period_start <= Reading.hour_start,
            SettlementRun.period_end > Reading.hour_start,
            SettlementRun.finalised_at < Reading.received_at,
        )
        .exists()
    )
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(Reading)
            .where(
                Reading.community_id == community_id,
                Reading.hour_start >= period.start_utc,
                Reading.hour_start < period.end_utc,
                final,
            )
        )
    return int(count or 0)


async def late_readings(
    connection: AsyncConnection, community_id: str, start: datetime, end: datetime, after: datetime
) -> int:
    """Readings of a finalised period stored (new or replaced) after it was finalised."""
    count = await connection.scalar(
        select(func.count())
        .select_from(Reading)
        .where(
            Reading.community_id == community_id,
            Reading.hour_start >= start,
            Reading.hour_start < end,
            Reading.received_at > after,
        )
    )
    return int(count or 0)


async def list_runs(engine: AsyncEngine, community_id: str | None) -> list[dict[str, Any]]:
    """Runs, newest first, without their result bodies."""
    statement = select(table(SettlementRun)).order_by(SettlementRun.created_at.desc())
    if community_id is not None:
        statement = statement.where(SettlementRun.community_id == community_id)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [run_view(row, full=False) for row in rows]


async def finalise_run(
    engine: AsyncEngine,
    run_id: str,
    community_id: str | None,
    *,
    force: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Freeze a draft, with the guards of ``service.runs`` (stale, incomplete, one final)."""
    from .runs import finalise_cycle_run  # noqa: PLC0415 (runs builds on this module)

    return await finalise_cycle_run(engine, run_id, community_id, force=force, reason=reason)


async def summary(engine: AsyncEngine, community_id: str, period_text: str) -> dict[str, Any]:
    """Shared energy and estimated money of a day, month or year, per site and in total."""
    inputs = await load_inputs(engine, community_id, period_text)
    data, _, result = await asyncio.to_thread(settle_inputs, inputs)
    energy = inputs.energy
    plants_by_pod = {p["pod"]: p["id"] for p in inputs.document["plants"]}
    plant_figures = {p["id"]: p for p in data["plants"]}
    member_of = {pod_code(pod): m["id"] for m in inputs.document["members"] for pod in m["pods"]}
    sites = []
    for row, pod in enumerate(energy.pods):
        plant_id = plants_by_pod.get(pod)
        site: dict[str, Any] = {
            "pod": pod,
            "member": member_of.get(pod),
            "injected_wh": int(energy.injected[row].sum()),
            "withdrawn_wh": int(energy.withdrawn[row].sum()),
            "hours_reported": int(energy.present[row].sum()),
        }
        if plant_id is not None:
            figures = plant_figures.get(plant_id, {})
            site.update(
                plant=plant_id,
                allocated_wh=figures.get("allocated_wh"),
                incentivised_wh=figures.get("incentivised_wh"),
                tip_eur=figures.get("tip_eur"),
                valorisation_eur=figures.get("valorisation_eur"),
            )
        sites.append(site)
    estimated = Decimal(data["tip_eur"]) + Decimal(data["valorisation_eur"])
    add_site_shares(sites, data, inputs.document, result, estimated)
    return {
        "community": community_id,
        "period": data["period"],
        "hours": data["hours"],
        "injected_wh": data["injected_wh"],
        "withdrawn_wh": data["withdrawn_wh"],
        "shared_wh": data["shared_wh"],
        "tip_eur": data["tip_eur"],
        "valorisation_eur": data["valorisation_eur"],
        "estimated_eur": f"{estimated:.2f}",
        "sites": sites,
        "members": data["members"],
        "missing_readings": data["missing_readings"],
        "missing_prices": data["missing_prices"],
        "warnings": data["warnings"],
        "errors": data["errors"],
    }


def add_site_shares(
    sites: list[dict[str, Any]],
    data: dict[str, Any],
    document: dict[str, Any],
    result: Any,
    estimated: Decimal,
) -> None:
    """Each site's part of the period's shared energy and estimated income
    (``domain.site_shares``, issue #14 item 11), added to its summary entry."""
    allocated = {p["id"]: int(p.get("allocated_wh") or 0) for p in data["plants"]}
    injected_side: dict[str, int] = {}
    for plant in document["plants"]:
        pod = pod_code(plant["pod"])
        injected_side[pod] = injected_side.get(pod, 0) + allocated.get(plant["id"], 0)
    shares = site_shares(
        [site["pod"] for site in sites],
        injected_side,
        result.pod_coincident_wh,
        int(data["shared_wh"]),
        int(estimated * 100),
    )
    for site, share in zip(sites, shares, strict=True):
        site.update(
            shared_injected_wh=share.shared_injected_wh,
            shared_withdrawn_wh=share.shared_withdrawn_wh,
            share_wh=share.share_wh,
            share_estimated_eur=eur(Fraction(share.share_cents, 100)),
        )


def parse_day(text: str) -> date:
    """A date (for statements)."""
    return date.fromisoformat(text)


async def load_ranked(
    engine: AsyncEngine,
    community_id: str,
    pods: list[str],
    period: Any,
    ranking: tuple[str, ...] = DEFAULT_RANKING,
) -> RankedHours:
    """The best-ranked source of each POD-hour of a period (what a run would use)."""
    async with engine.connect() as connection:
        _, ranked = await _load_energy(connection, community_id, pods, period, ranking)
    return ranked
