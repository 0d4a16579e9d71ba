"""Import of metered-data files into a community's readings, all or nothing per file.

Every stored hour keeps its source (``dso``, ``ha``, ``manual``, ``estimate``) and the import
it came from; an import touches only the hours of its own source, so a DSO file never
deletes Home Assistant data and an upload never overrides the meter's. A file with any error
stores nothing; a dry run makes every check and says what would be new, unchanged and
replaced. Re-importing the same file changes nothing; other values replace the stored ones,
which are kept in ``reading_audit`` as uploads do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import DateTime, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..files.columnar import read_fast
from ..files.layouts import Layout
from ..files.metered import SECONDS_PER_HOUR, MeteredHours, read_metered
from ..models import (
    READING_SOURCES,
    Reading,
    ReadingAudit,
    ReadingImport,
    as_utc,
    table,
    utcnow,
)
from .ingest import UPLOAD_SOURCE
from .registry import CommunityRules, RegistryError, load_rules

DEFAULT_SOURCE = "dso"
#: rows per statement when rows go in through SQLAlchemy
BATCH = 5_000
#: a key of (POD, hour) in one int64: POD index × this + epoch hour
_POD_STRIDE = 1 << 32


class MeteredImportError(ValueError):
    """An import that cannot start (unknown source, community); ``status`` for HTTP."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ImportOutcome:
    """The answer of one file's import (FORMATS.md: ``--json``)."""

    file: str
    layout: str
    source: str
    pods: int = 0
    new: int = 0
    unchanged: int = 0
    replaced: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    import_id: int | None = None
    #: the PODs of the file (not in the JSON: ``pods`` counts them)
    pod_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of FORMATS.md (plus ``dry_run`` and ``import``)."""
        return {
            "file": self.file,
            "layout": self.layout,
            "source": self.source,
            "pods": self.pods,
            "hours": {"new": self.new, "unchanged": self.unchanged, "replaced": self.replaced},
            "errors": self.errors,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "import": self.import_id,
        }


def check_source(source: str) -> str:
    """A known source name, or MeteredImportError (422)."""
    if source not in READING_SOURCES:
        raise MeteredImportError(
            422, f"unknown source {source!r}: use {', '.join(READING_SOURCES)}"
        )
    return source


async def import_file(
    engine: AsyncEngine,
    community_id: str,
    data: bytes,
    name: str,
    layout: Layout,
    *,
    source: str = DEFAULT_SOURCE,
    pod: str | None = None,
    dry_run: bool = False,
    token_id: int | None = None,
    now: dt.datetime | None = None,
    only_pods: Collection[str] | None = None,
) -> ImportOutcome:
    """Check one file against the community and store its hours (unless a dry run).

    With ``only_pods``, the rows of other PODs are left out (neither checked nor stored).
    """
    check_source(source)
    now = now or utcnow()
    async with engine.connect() as connection:
        try:
            rules = await load_rules(connection, community_id)
        except RegistryError as err:
            raise MeteredImportError(err.status, str(err)) from err
    hours = _read(
        data, layout, name, pod=pod, timezone=rules.timezone.key, only_pods=only_pods, fast=True
    )
    if not hours.error_count:
        if not check_membership(hours, rules, now) and hours.fast:
            # the exact reader names the lines
            hours = _read(
                data,
                layout,
                name,
                pod=pod,
                timezone=rules.timezone.key,
                only_pods=only_pods,
                fast=False,
            )
            check_membership(hours, rules, now)
        hours.finish_errors()
    outcome = ImportOutcome(name, layout.name, source, pods=hours.pods, dry_run=dry_run)
    outcome.pod_names = sorted(hours.pod_names)
    outcome.errors = hours.errors
    outcome.warnings = hours.warnings
    if outcome.errors:
        return outcome
    if not len(hours.hour):  # no complete hour in the file: nothing to store
        return outcome
    digest = hashlib.sha256(data).hexdigest()
    for attempt in range(2):
        try:
            await _store(
                engine,
                community_id=community_id,
                hours=hours,
                outcome=outcome,
                source=source,
                digest=digest,
                token_id=token_id,
                now=now,
                zone=rules.timezone,
            )
        except _Raced:
            if attempt:
                raise
            continue
        break
    return outcome


def _read(
    data: bytes,
    layout: Layout,
    name: str,
    *,
    pod: str | None,
    timezone: str,
    only_pods: Collection[str] | None,
    fast: bool,
) -> MeteredHours:
    """The file's hours: the columnar fast path when the file is clean, else the exact one."""
    hours = read_fast(data, layout, name, pod=pod, timezone=timezone) if fast else None
    if hours is None:
        hours = read_metered(data, layout, name, pod=pod, timezone=timezone)
    if only_pods is not None and not hours.error_count:
        hours = hours.only(only_pods)
    return hours


def check_membership(hours: MeteredHours, rules: CommunityRules, now: dt.datetime) -> bool:
    """Every POD of the file in the community, each hour in its membership days and ended.

    False when a problem was recorded in ``hours``.
    """
    before = hours.error_count
    end_of_now = int(now.timestamp())
    for index, code in enumerate(hours.pod_names):
        mine = hours.pod == index
        lines = hours.line[mine]
        rule = rules.pods.get(code)
        if rule is None:
            first = int(lines.min()) if lines.size else None
            hours.error(first, f"POD {code} is not in the community")
            continue
        starts = hours.hour[mine]
        outside = np.zeros(len(starts), dtype=np.bool_)
        if rule.valid_from is not None:
            outside |= starts < int(rule.valid_from.timestamp())
        if rule.valid_until is not None:
            outside |= starts >= int(rule.valid_until.timestamp())
        if outside.any():
            first = int(np.argmin(np.where(outside, lines, np.iinfo(np.int64).max)))
            day = dt.datetime.fromtimestamp(int(starts[first]), rules.timezone).date()
            hours.error(
                int(lines[first]),
                f"POD {code} is not in the community on {day.isoformat()}"
                f" ({int(outside.sum())} hours outside its membership)",
            )
        future = starts + SECONDS_PER_HOUR > end_of_now
        if future.any():
            first = int(np.flatnonzero(future)[0])
            hours.error(int(lines[first]), f"POD {code}: an hour that has not ended yet")
    return hours.error_count == before


class _Raced(Exception):
    """A concurrent writer stored some of the same hours: classify again."""


async def _store(
    engine: AsyncEngine,
    *,
    community_id: str,
    hours: MeteredHours,
    outcome: ImportOutcome,
    source: str,
    digest: str,
    token_id: int | None,
    now: dt.datetime,
    zone: ZoneInfo,
) -> None:
    """Classify against the stored hours of the source, then write, in one transaction."""
    async with engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:  # imports of one community one at a time
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"cer-readings-import:{community_id}"},
            )
        old_keys, old_inj, old_wdr, old_import = await _existing(
            connection, community_id, hours, source
        )
        keys = hours.pod * _POD_STRIDE + hours.hour // SECONDS_PER_HOUR
        order = np.argsort(old_keys)
        old_keys, old_inj, old_wdr = old_keys[order], old_inj[order], old_wdr[order]
        old_import = old_import[order]
        if not len(old_keys):  # nothing stored yet: a sentinel that matches no key
            old_keys = np.array([-1], dtype=np.int64)
            old_inj = old_wdr = old_import = np.array([-1], dtype=np.int64)
        at = np.minimum(np.searchsorted(old_keys, keys), len(old_keys) - 1)
        found = old_keys[at] == keys
        same = found & (old_inj[at] == hours.injected) & (old_wdr[at] == hours.withdrawn)
        changed = found & ~same
        new = ~found
        outcome.new = int(new.sum())
        outcome.unchanged = int(same.sum())
        outcome.replaced = int(changed.sum())
        if outcome.dry_run or not (outcome.new or outcome.replaced):
            return
        import_id = (
            await connection.execute(
                insert(ReadingImport)
                .values(
                    community_id=community_id,
                    file_name=outcome.file[-500:],
                    sha256=digest,
                    layout=outcome.layout[-200:],
                    source=source,
                    pods=hours.pods,
                    hours_new=outcome.new,
                    hours_unchanged=outcome.unchanged,
                    hours_replaced=outcome.replaced,
                    warnings=outcome.warnings,
                    token_id=token_id,
                    imported_at=now,
                )
                .returning(ReadingImport.import_id)
            )
        ).scalar_one()
        outcome.import_id = int(import_id)
        names = hours.pod_names
        if outcome.replaced:
            rows = np.flatnonzero(changed)
            old_at = at[rows]
            audit = [
                {
                    "community_id": community_id,
                    "pod": names[int(hours.pod[i])],
                    "hour_start": _utc(int(hours.hour[i])),
                    "source": source,
                    "injected_wh": int(old_inj[j]),
                    "withdrawn_wh": int(old_wdr[j]),
                    "quality": "measured",
                    "received_at": now,
                    "replaced_at": now,
                    "replaced_by_token": token_id,
                    "import_id": None if old_import[j] < 0 else int(old_import[j]),
                    "replaced_by_import": import_id,
                }
                for i, j in zip(rows.tolist(), old_at.tolist(), strict=True)
            ]
            await _audit(connection, community_id, source, audit)
            readings = table(Reading)
            statement = (
                update(readings)
                .where(
                    readings.c.community_id == community_id,
                    readings.c.source == source,
                    readings.c.pod == bindparam("p"),
                    readings.c.hour_start == bindparam("h"),
                )
                .values(
                    injected_wh=bindparam("i"),
                    withdrawn_wh=bindparam("w"),
                    import_id=import_id,
                    received_at=now,
                    quality="measured",
                )
                .execution_options(synchronize_session=False)
            )
            params = [
                {
                    "p": names[int(hours.pod[i])],
                    "h": _utc(int(hours.hour[i])),
                    "i": int(hours.injected[i]),
                    "w": int(hours.withdrawn[i]),
                }
                for i in rows.tolist()
            ]
            for chunk in range(0, len(params), BATCH):
                await connection.execute(statement, params[chunk : chunk + BATCH])
        if outcome.new:
            written = await _insert_new(
                connection,
                community_id=community_id,
                hours=hours,
                rows=np.flatnonzero(new),
                source=source,
                import_id=import_id,
                now=now,
            )
            if written != outcome.new:
                raise _Raced()
        if postgresql:
            await _mark_dirty(
                connection,
                community_id=community_id,
                hours=hours,
                touched=new | changed,
                now=now,
                zone=zone,
            )


async def _existing(
    connection: AsyncConnection, community_id: str, hours: MeteredHours, source: str
) -> tuple[Any, Any, Any, Any]:
    """The stored hours of the source for the file's PODs and span, as key arrays.

    Read on the driver connection (same transaction): a month of 1,000 PODs is 730,000 rows,
    which SQLAlchemy's row and time processing would take seconds to build.
    """
    first, last = _utc(int(hours.hour.min())), _utc(int(hours.hour.max()))
    index = {code: i for i, code in enumerate(hours.pod_names)}
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor()
        await cursor.execute(
            "SELECT pod, (extract(epoch FROM hour_start))::bigint / 3600, injected_wh,"
            " withdrawn_wh, coalesce(import_id, -1) FROM readings"
            " WHERE community_id = %s AND source = %s AND pod = ANY(%s)"
            " AND hour_start >= %s AND hour_start <= %s",
            (community_id, source, hours.pod_names, first, last),
        )
        rows = await cursor.fetchall()
        await cursor.close()
        hour_of: Any = None
    else:
        to_text = DateTime(timezone=True).dialect_impl(connection.dialect)
        bind = to_text.bind_processor(connection.dialect) or str
        cursor = await driver.execute(
            "SELECT pod, hour_start, injected_wh, withdrawn_wh, coalesce(import_id, -1)"
            " FROM readings WHERE community_id = ? AND source = ?"
            " AND hour_start >= ? AND hour_start <= ?",
            (community_id, source, bind(first), bind(last)),
        )
        rows = [r for r in await cursor.fetchall() if r[0] in index]
        await cursor.close()
        hour_of = _stored_hours()
    count = len(rows)
    keys = np.fromiter(
        (index[r[0]] * _POD_STRIDE + (r[1] if hour_of is None else hour_of(r[1])) for r in rows),
        dtype=np.int64,
        count=count,
    )
    inj = np.fromiter((r[2] for r in rows), dtype=np.int64, count=count)
    wdr = np.fromiter((r[3] for r in rows), dtype=np.int64, count=count)
    imp = np.fromiter((r[4] for r in rows), dtype=np.int64, count=count)
    return keys, inj, wdr, imp


def _stored_hours() -> Any:
    """Epoch hour of a time as SQLite stores it (naive UTC text), each distinct text once."""
    cache: dict[str, int] = {}

    def hour_of(stored: str) -> int:
        hour = cache.get(stored)
        if hour is None:
            moment = dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)
            hour = cache[stored] = int(moment.timestamp()) // SECONDS_PER_HOUR
        return hour

    return hour_of


async def _audit(
    connection: AsyncConnection, community_id: str, source: str, rows: list[dict[str, Any]]
) -> None:
    """Copy the replaced values to the audit, with their quality, samples and arrival."""
    readings = table(Reading)
    for chunk in range(0, len(rows), BATCH):
        part = rows[chunk : chunk + BATCH]
        stored = {
            (r.pod, as_utc(r.hour_start)): r
            for r in (
                await connection.execute(
                    select(
                        readings.c.pod,
                        readings.c.hour_start,
                        readings.c.quality,
                        readings.c.samples,
                        readings.c.produced_wh,
                        readings.c.consumed_wh,
                        readings.c.received_at,
                    ).where(
                        readings.c.community_id == community_id,
                        readings.c.source == source,
                        readings.c.pod.in_({row["pod"] for row in part}),
                        readings.c.hour_start >= min(row["hour_start"] for row in part),
                        readings.c.hour_start <= max(row["hour_start"] for row in part),
                    )
                )
            ).all()
        }
        for row in part:
            old = stored.get((row["pod"], row["hour_start"]))
            if old is not None:
                row.update(
                    quality=old.quality,
                    samples=old.samples,
                    produced_wh=old.produced_wh,
                    consumed_wh=old.consumed_wh,
                    received_at=old.received_at,
                )
        await connection.execute(insert(ReadingAudit), part)


async def _insert_new(
    connection: AsyncConnection,
    *,
    community_id: str,
    hours: MeteredHours,
    rows: Any,
    source: str,
    import_id: int,
    now: dt.datetime,
) -> int:
    """Insert the new hours; returns how many went in (fewer: a concurrent writer)."""
    if connection.dialect.name == "postgresql":
        return await _copy_new(
            connection,
            community_id=community_id,
            hours=hours,
            rows=rows,
            source=source,
            import_id=import_id,
            now=now,
        )
    # SQLite: the driver's executemany with the times as SQLAlchemy stores them (its
    # per-row parameter processing would cost more than the insert itself)
    stamp = DateTime(timezone=True).dialect_impl(connection.dialect)
    to_text = stamp.bind_processor(connection.dialect) or str
    names = hours.pod_names
    pods, starts = hours.pod[rows].tolist(), hours.hour[rows].tolist()
    injected, withdrawn = hours.injected[rows].tolist(), hours.withdrawn[rows].tolist()
    texts = {h: to_text(_utc(h)) for h in set(starts)}
    received = to_text(now)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    written = 0
    for chunk in range(0, len(pods), BATCH * 10):
        part = slice(chunk, chunk + BATCH * 10)
        cursor = await driver.executemany(
            "INSERT OR IGNORE INTO readings (community_id, pod, hour_start, source, import_id,"
            " injected_wh, withdrawn_wh, quality, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'measured', ?)",
            [
                (community_id, names[p], texts[h], source, import_id, i, w, received)
                for p, h, i, w in zip(
                    pods[part], starts[part], injected[part], withdrawn[part], strict=True
                )
            ],
        )
        written += max(cursor.rowcount, 0)
        await cursor.close()
    return written


async def _copy_new(
    connection: AsyncConnection,
    *,
    community_id: str,
    hours: MeteredHours,
    rows: Any,
    source: str,
    import_id: int,
    now: dt.datetime,
) -> int:
    """PostgreSQL: COPY the new hours in; returns how many went in.

    Only imports write the sources other than ``ha``, one at a time per community (the
    advisory lock), so their new hours are copied straight into ``readings``; ``ha`` hours
    may race with uploads, so they go through a temporary table and ``ON CONFLICT``.
    """
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    cursor = driver.cursor()
    names = hours.pod_names
    pods, starts = hours.pod[rows].tolist(), hours.hour[rows].tolist()
    injected, withdrawn = hours.injected[rows].tolist(), hours.withdrawn[rows].tolist()
    times = {h: _utc(h) for h in set(starts)}
    direct = source != UPLOAD_SOURCE
    if direct:
        target = (
            "COPY readings (pod, hour_start, injected_wh, withdrawn_wh, community_id, source,"
            " import_id, quality, received_at) FROM STDIN (FORMAT BINARY)"
        )
        types = ["text", "timestamptz", "int8", "int8", "text", "text", "int8", "text"]
        types.append("timestamptz")
        extra: tuple[Any, ...] = (community_id, source, import_id, "measured", now)
    else:
        await cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS import_readings (pod text, hour_start"
            " timestamptz, injected_wh bigint, withdrawn_wh bigint) ON COMMIT DROP"
        )
        target = (
            "COPY import_readings (pod, hour_start, injected_wh, withdrawn_wh)"
            " FROM STDIN (FORMAT BINARY)"
        )
        types = ["text", "timestamptz", "int8", "int8"]
        extra = ()
    async with cursor.copy(target) as copy:
        copy.set_types(types)
        for p, h, i, w in zip(pods, starts, injected, withdrawn, strict=True):
            await copy.write_row((names[p], times[h], i, w, *extra))
    if direct:
        return len(pods)
    await cursor.execute(
        "INSERT INTO readings (community_id, pod, hour_start, source, import_id, injected_wh,"
        " withdrawn_wh, quality, received_at)"
        " SELECT %s, pod, hour_start, %s, %s, injected_wh, withdrawn_wh, 'measured', %s"
        " FROM import_readings"
        " ON CONFLICT (community_id, pod, hour_start, source) DO NOTHING",
        (community_id, source, import_id, now),
    )
    written = int(cursor.rowcount)
    await cursor.execute("DROP TABLE import_readings")
    return written


async def _mark_dirty(
    connection: AsyncConnection,
    *,
    community_id: str,
    hours: MeteredHours,
    touched: Any,
    now: Any,
    zone: ZoneInfo,
) -> None:
    """PostgreSQL: the monthly packs of the touched POD-months must be rebuilt."""
    rows = np.flatnonzero(touched)
    if not rows.size:
        return
    await connection.execute(
        text(
            "INSERT INTO reading_dirty (community_id, pod, month_start, marked_at)"
            " SELECT DISTINCT :community, m.pod,"
            " date_trunc('month', m.hour_start AT TIME ZONE :tz) AT TIME ZONE :tz, :now"
            " FROM unnest(CAST(:pods AS text[]), CAST(:starts AS timestamptz[]))"
            " AS m(pod, hour_start)"
            " ON CONFLICT (community_id, pod, month_start) DO UPDATE"
            " SET version = reading_dirty.version + 1, marked_at = EXCLUDED.marked_at"
        ),
        {
            "community": community_id,
            "tz": zone.key,
            "now": now,
            **_month_firsts(hours, rows, zone),
        },
    )


def _month_firsts(hours: MeteredHours, rows: Any, zone: ZoneInfo) -> dict[str, list[Any]]:
    """One (POD, hour) per POD and local month among ``rows`` (enough for the marks)."""
    distinct, inverse = np.unique(hours.hour[rows], return_inverse=True)
    months = np.array(
        [
            (moment.year * 12 + moment.month)
            for moment in (dt.datetime.fromtimestamp(int(h), zone) for h in distinct.tolist())
        ],
        dtype=np.int64,
    )
    key = hours.pod[rows] * 1_000_000 + months[inverse]
    _, first = np.unique(key, return_index=True)
    chosen = rows[first]
    return {
        "pods": [hours.pod_names[int(p)] for p in hours.pod[chosen].tolist()],
        "starts": [_utc(int(h)) for h in hours.hour[chosen].tolist()],
    }


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)
