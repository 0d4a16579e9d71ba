"""Hourly readings: per-item validation, idempotent bulk upsert, audit of replaced values.

Uploads are the ``ha`` source of a POD-hour (``UPLOAD_SOURCE``): they never touch the hours
of other sources (a meter's file), which are kept beside them. A batch is one transaction:
new hours go in with one ``INSERT … ON CONFLICT DO NOTHING RETURNING``; only the hours
already stored are read back and compared (same values: a
duplicate; other values: replaced, the old row copied to ``reading_audit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ..api.schemas import READING, fast_validator, parse_datetime, validate
from ..models import Reading, ReadingAudit, as_utc, table, utcnow
from .bounds import year_in_range
from .groupcommit import GroupCommitter
from .pgfast import autocommit_fetchone
from .registry import CommunityRules, PodRule

CLOCK_SKEW = timedelta(minutes=5)
#: the source of every hour uploaded through ``POST /readings`` (the column's default)
UPLOAD_SOURCE = "ha"
#: uploads up to this size share transactions (group commit) on PostgreSQL
GROUP_COMMIT_MAX_READINGS = 48
_reading_ok = fast_validator(READING)
HOUR = timedelta(hours=1)
VALUE_FIELDS = (
    "injected_wh",
    "withdrawn_wh",
    "produced_wh",
    "consumed_wh",
    "quality",
    "samples",
)


@dataclass(slots=True)
class IngestOutcome:
    """The answer of an upload."""

    accepted: int = 0
    duplicates: int = 0
    replaced: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    #: readings of a finalised period in this upload (stored, late)
    late: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The contract's answer body."""
        answer: dict[str, Any] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "replaced": self.replaced,
            "rejected": self.rejected,
        }
        if self.late:
            answer["late"] = self.late  # only when there are any (version 1 had no such key)
        return answer


def _reject(
    outcome: IngestOutcome,
    index: int,
    message: str,
    field_name: str | None = None,
    status: int = 422,
) -> None:
    item: dict[str, Any] = {"index": index, "message": message, "status": status}
    if field_name:
        item["field"] = field_name
    outcome.rejected.append(item)


def check_reading(
    item: Any, rule: PodRule, rules: CommunityRules, now: datetime
) -> tuple[dict[str, Any] | None, str | None, str, int]:
    """A row to store, or (None, field, message, status) saying why the item is refused."""
    hour = parse_datetime(item["hour_start"]) if _reading_ok(item) else None
    problems = [] if hour is not None else validate(READING, item)
    if problems:
        first = problems[0]
        message = "; ".join(
            p.message if p.field == "body" else f"{p.field}: {p.message}" for p in problems
        )
        return None, None if first.field == "body" else first.field, message, 422
    assert hour is not None  # the schema checked the format
    if not year_in_range(hour):
        return None, "hour_start", f"{item['hour_start']} is not between 2000 and 2100", 422
    hour_utc = as_utc(hour)
    if hour_utc.minute or hour_utc.second or hour_utc.microsecond:
        return None, "hour_start", f"{item['hour_start']} is not the start of an hour", 422
    if hour_utc + HOUR > now + CLOCK_SKEW:
        return None, "hour_start", f"the hour {item['hour_start']} has not ended yet", 422
    if rule.valid_from is not None and hour_utc < rule.valid_from:
        return None, "hour_start", f"{item['hour_start']} is before the POD joined", 422
    if rule.valid_until is not None and hour_utc >= rule.valid_until:
        return None, "hour_start", f"{item['hour_start']} is after the POD left", 422
    cap = rules.max_hour_wh  # the community's bound; the stricter of it and the point's
    for name, limit in (
        ("injected_wh", min(rule.max_injected_wh, cap)),
        ("withdrawn_wh", min(rule.max_withdrawn_wh, cap)),
        ("produced_wh", min(rule.max_produced_wh, cap)),
        ("consumed_wh", cap),
    ):
        value = item.get(name)
        if value is not None and value > limit:
            return (
                None,
                name,
                f"{value} Wh in one hour is implausible for this point (at most {limit} Wh)",
                422,
            )
    # a reading of a finalised period is stored like any other (late data, DESIGN.md): the
    # final run never changes, and a correction run uses it
    return (
        {
            "hour_start": hour_utc,
            "injected_wh": item["injected_wh"],
            "withdrawn_wh": item["withdrawn_wh"],
            "produced_wh": item.get("produced_wh"),
            "consumed_wh": item.get("consumed_wh"),
            "quality": item.get("quality", "measured"),
            "samples": item.get("samples"),
        },
        None,
        "",
        200,
    )


async def ingest_readings(
    engine: AsyncEngine,
    rules: CommunityRules,
    community_id: str,
    pod: str,
    items: Sequence[Any],
    *,
    token_id: int | None,
    now: datetime | None = None,
    committer: GroupCommitter | None = None,
) -> IngestOutcome:
    """Validate and store one POD's readings; one transaction for the batch."""
    now = now or utcnow()
    outcome = IngestOutcome()
    rule = rules.pods[pod]
    rows: dict[datetime, dict[str, Any]] = {}
    for index, item in enumerate(items):
        row, field_name, message, status = check_reading(item, rule, rules, now)
        if row is None:
            _reject(outcome, index, message, field_name, status)
            continue
        if row["hour_start"] in rows:
            _reject(outcome, index, "the same hour is twice in this request", "hour_start")
            continue
        rows[row["hour_start"]] = row
        if rules.final_period_of(row["hour_start"]) is not None:
            outcome.late += 1
    if not rows:
        return outcome
    for attempt in range(2):
        try:
            counts = await _store(
                engine,
                community_id,
                pod,
                rows,
                token_id=token_id,
                now=now,
                committer=committer,
                timezone=rules.timezone.key,
            )
        except IntegrityError:  # a concurrent upload inserted the same hour: classify again
            if attempt:
                raise
            continue
        outcome.accepted, outcome.duplicates, outcome.replaced = counts
        break
    return outcome


_ARRAY_COLUMNS = ("hour_start", *VALUE_FIELDS)
_COLUMNS_SQL = "injected_wh, withdrawn_wh, produced_wh, consumed_wh, quality, samples"
#: PostgreSQL: the whole upsert (classify, audit, replace, insert) as one atomic statement
#: with array parameters: one round trip per batch, whatever its size.
_PG_UPSERT = f"""
WITH input AS (
  SELECT * FROM unnest(
    CAST(%(hour_start)s AS timestamptz[]), CAST(%(injected_wh)s AS bigint[]),
    CAST(%(withdrawn_wh)s AS bigint[]), CAST(%(produced_wh)s AS bigint[]),
    CAST(%(consumed_wh)s AS bigint[]), CAST(%(quality)s AS text[]), CAST(%(samples)s AS int[])
  ) AS t(h, i, w, p, c, q, s)
),
old AS (
  SELECT r.hour_start, r.{_COLUMNS_SQL.replace(", ", ", r.")}, r.received_at
  FROM readings r
  WHERE r.community_id = %(community_id)s AND r.pod = %(pod)s AND r.source = 'ha'
    AND r.hour_start = ANY(CAST(%(hour_start)s AS timestamptz[]))
  FOR UPDATE OF r
),
changed AS (
  SELECT input.* FROM input JOIN old ON old.hour_start = input.h
  WHERE (old.injected_wh, old.withdrawn_wh, old.produced_wh, old.consumed_wh, old.quality,
         old.samples) IS DISTINCT FROM (input.i, input.w, input.p, input.c, input.q, input.s)
),
audit AS (
  INSERT INTO reading_audit (community_id, pod, hour_start, {_COLUMNS_SQL}, received_at,
                             replaced_at, replaced_by_token)
  SELECT %(community_id)s, %(pod)s, old.hour_start, old.{_COLUMNS_SQL.replace(", ", ", old.")},
         old.received_at, CAST(%(received_at)s AS timestamptz), CAST(%(token_id)s AS integer)
  FROM old JOIN changed ON changed.h = old.hour_start
  RETURNING 1
),
upd AS (
  UPDATE readings r SET injected_wh = changed.i, withdrawn_wh = changed.w,
    produced_wh = changed.p, consumed_wh = changed.c, quality = changed.q,
    samples = changed.s, received_at = CAST(%(received_at)s AS timestamptz)
  FROM changed
  WHERE r.community_id = %(community_id)s AND r.pod = %(pod)s AND r.hour_start = changed.h
    AND r.source = 'ha' AND r.hour_start = ANY(CAST(%(hour_start)s AS timestamptz[]))
  RETURNING r.hour_start
),
ins AS (
  INSERT INTO readings (community_id, pod, hour_start, {_COLUMNS_SQL}, received_at)
  SELECT %(community_id)s, %(pod)s, h, i, w, p, c, q, s, CAST(%(received_at)s AS timestamptz)
  FROM input WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.hour_start = input.h)
  ON CONFLICT (community_id, pod, hour_start, source) DO NOTHING
  RETURNING hour_start
),
dirty AS (
  INSERT INTO reading_dirty (community_id, pod, month_start, marked_at)
  SELECT DISTINCT %(community_id)s, %(pod)s,
    date_trunc('month', h.hour_start AT TIME ZONE %(timezone)s) AT TIME ZONE %(timezone)s,
    CAST(%(received_at)s AS timestamptz)
  FROM (SELECT hour_start FROM ins UNION ALL SELECT hour_start FROM upd) AS h
  ON CONFLICT (community_id, pod, month_start) DO UPDATE
    SET version = reading_dirty.version + 1, marked_at = EXCLUDED.marked_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM upd) AS replaced,
       (SELECT count(*) FROM old) AS existing, (SELECT count(*) FROM audit) AS audited,
       (SELECT count(*) FROM dirty) AS dirty
"""


def _pg_array(values: Any) -> str:
    """A PostgreSQL array literal of ints, enum words or datetimes (cast server-side).

    Building the text here is much cheaper than the driver's typed array adaptation."""
    return "{" + ",".join(_pg_element(v) for v in values) + "}"


def _pg_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


#: PostgreSQL, the common case: every hour is new. Inserts what is not stored yet and marks
#: the months; when something was there already, the full upsert above classifies the rest.
_PG_INSERT_NEW = """
WITH ins AS (
  INSERT INTO readings (community_id, pod, hour_start, injected_wh, withdrawn_wh,
                        produced_wh, consumed_wh, quality, samples, received_at)
  SELECT %(community_id)s, %(pod)s, h, i, w, p, c, q, s, CAST(%(received_at)s AS timestamptz)
  FROM unnest(
    CAST(%(hour_start)s AS timestamptz[]), CAST(%(injected_wh)s AS bigint[]),
    CAST(%(withdrawn_wh)s AS bigint[]), CAST(%(produced_wh)s AS bigint[]),
    CAST(%(consumed_wh)s AS bigint[]), CAST(%(quality)s AS text[]), CAST(%(samples)s AS int[])
  ) AS t(h, i, w, p, c, q, s)
  ON CONFLICT (community_id, pod, hour_start, source) DO NOTHING
  RETURNING hour_start
),
dirty AS (
  INSERT INTO reading_dirty (community_id, pod, month_start, marked_at)
  SELECT DISTINCT %(community_id)s, %(pod)s,
    date_trunc('month', hour_start AT TIME ZONE %(timezone)s) AT TIME ZONE %(timezone)s,
    CAST(%(received_at)s AS timestamptz)
  FROM ins
  ON CONFLICT (community_id, pod, month_start) DO UPDATE
    SET version = reading_dirty.version + 1, marked_at = EXCLUDED.marked_at
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM dirty)
"""


async def _store_postgresql(
    engine: AsyncEngine,
    community_id: str,
    pod: str,
    rows: dict[datetime, dict[str, Any]],
    *,
    token_id: int | None,
    now: datetime,
    committer: GroupCommitter | None,
    timezone: str,
) -> tuple[int, int, int]:
    parameters = {
        "community_id": community_id,
        "pod": pod,
        "received_at": now,
        "token_id": token_id,
        "timezone": timezone,
        **{name: _pg_array(row[name] for row in rows.values()) for name in _ARRAY_COLUMNS},
    }
    grouped = committer is not None and len(rows) <= GROUP_COMMIT_MAX_READINGS

    async def run(statement: str) -> tuple[Any, ...]:
        if grouped:
            assert committer is not None
            return await committer.fetchone(statement, parameters)
        return await autocommit_fetchone(engine, statement, parameters)

    first = int((await run(_PG_INSERT_NEW))[0])
    if first == len(rows):
        return first, 0, 0
    # some hours were stored already: classify the batch (the hours inserted just now are
    # stored with these very values, so the upsert counts them as duplicates)
    row = await run(_PG_UPSERT)
    inserted, replaced, existing = int(row[0]), int(row[1]), int(row[2])
    if inserted + existing < len(rows):
        # a concurrent upload inserted one of these hours meanwhile: classify again
        raise IntegrityError("concurrent insert", None, Exception("concurrent insert"))
    return first + inserted, existing - replaced - first, replaced


def _insert_for(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def _store(
    engine: AsyncEngine,
    community_id: str,
    pod: str,
    rows: dict[datetime, dict[str, Any]],
    *,
    token_id: int | None,
    now: datetime,
    committer: GroupCommitter | None = None,
    timezone: str = "Europe/Rome",
) -> tuple[int, int, int]:
    if engine.dialect.name == "postgresql":
        return await _store_postgresql(
            engine,
            community_id,
            pod,
            rows,
            token_id=token_id,
            now=now,
            committer=committer,
            timezone=timezone,
        )
    readings = table(Reading)
    insert = _insert_for(engine.dialect.name)
    async with engine.begin() as connection:
        statement = (
            insert(readings)
            .on_conflict_do_nothing(index_elements=["community_id", "pod", "hour_start", "source"])
            .returning(readings.c.hour_start)
        )
        values = [
            {
                "community_id": community_id,
                "pod": pod,
                "source": UPLOAD_SOURCE,
                "received_at": now,
                **row,
            }
            for row in rows.values()
        ]
        result = await connection.execute(statement, values)
        inserted = {as_utc(hour) for hour in result.scalars().all()}
        rest = [hour for hour in rows if hour not in inserted]
        if not rest:
            return len(inserted), 0, 0
        existing = (
            (
                await connection.execute(
                    select(readings).where(
                        and_(
                            readings.c.community_id == community_id,
                            readings.c.pod == pod,
                            readings.c.source == UPLOAD_SOURCE,
                            tuple_(readings.c.hour_start).in_([(h,) for h in rest])
                            if len(rest) < 50
                            else readings.c.hour_start.between(min(rest), max(rest)),
                        )
                    )
                )
            )
            .mappings()
            .all()
        )
        changed_old: list[dict[str, Any]] = []
        changed_new: list[dict[str, Any]] = []
        duplicates = 0
        for old in existing:
            hour = as_utc(old["hour_start"])
            new = rows.get(hour)
            if new is None or hour in inserted:
                continue
            if all(old[name] == new[name] for name in VALUE_FIELDS):
                duplicates += 1
                continue
            changed_old.append(
                {
                    **{name: old[name] for name in VALUE_FIELDS},
                    "community_id": community_id,
                    "pod": pod,
                    "hour_start": hour,
                    "received_at": old["received_at"],
                    "replaced_at": now,
                    "replaced_by_token": token_id,
                }
            )
            changed_new.append({**{f"new_{k}": v for k, v in new.items()}, "received_at_": now})
        if changed_old:
            await connection.execute(table(ReadingAudit).insert(), changed_old)
            await connection.execute(
                update(readings)
                .where(
                    readings.c.community_id == community_id,
                    readings.c.pod == pod,
                    readings.c.source == UPLOAD_SOURCE,
                    readings.c.hour_start == bindparam("new_hour_start"),
                )
                .values(
                    {
                        **{name: bindparam(f"new_{name}") for name in VALUE_FIELDS},
                        "received_at": bindparam("received_at_"),
                    }
                )
                .execution_options(synchronize_session=False),
                changed_new,
            )
        return len(inserted), duplicates, len(changed_old)
