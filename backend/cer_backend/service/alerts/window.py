"""The readings the alert rules look at, read set-based: one packed row per POD and source.

The database packs a POD's hours of one source into one value (PostgreSQL: ``int4send`` and
``int8send`` into a ``bytea``, as settlement's loader does; SQLite: ``group_concat`` of the
numbers), so the client receives a few thousand values for a community of 1,000 PODs instead
of a row per hour, and turns them into PODs × hours arrays with numpy.

``read_window_rows`` is the previous row-by-row reader, kept as the reference the tests and
``benchmarks/bench_alerts.py`` compare the packed reader with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ...models import Reading, UtcDateTime, as_utc

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
SECONDS_PER_HOUR = 3600
#: a POD-hour from several sources: the settlement's default ranking (DESIGN.md), best first
SOURCES: tuple[str, ...] = ("dso", "ha", "manual", "estimate")
SOURCE_RANK = {name: rank for rank, name in enumerate(SOURCES)}
#: (hour index, injected, withdrawn, produced or −1), big-endian, as PostgreSQL packs them
_PACKED = np.dtype(
    [("hour", ">i4"), ("injected", ">i8"), ("withdrawn", ">i8"), ("produced", ">i8")]
)

_PACK_POSTGRESQL = """
SELECT pod, source,
  string_agg(int4send(((extract(epoch FROM hour_start)::bigint / 3600) - %(first)s)::int4)
             || int8send(injected_wh) || int8send(withdrawn_wh)
             || int8send(coalesce(produced_wh, -1)), ''::bytea)
FROM readings
WHERE community_id = %(community)s AND hour_start >= %(start)s AND hour_start < %(end)s
GROUP BY pod, source
"""
_PACK_SQLITE = """
SELECT pod, source,
  group_concat((CAST(strftime('%s', hour_start) AS INTEGER) / 3600 - :first)
               || ',' || injected_wh || ',' || withdrawn_wh || ',' || coalesce(produced_wh, -1))
FROM readings
WHERE community_id = :community AND hour_start >= :start AND hour_start < :end
GROUP BY pod, source
"""


@dataclass(frozen=True)
class Window:
    """Every reading of a window as parallel arrays (hour: index from the window's start)."""

    pod_names: tuple[str, ...]
    pod: I64
    source: I64
    hour: I64
    injected: I64
    withdrawn: I64
    produced: I64

    def matrices(
        self, pods: tuple[str, ...], hours: int, offset: int = 0
    ) -> tuple[I64, I64, I64, BOOL, BOOL, BOOL]:
        """PODs × hours: injected, withdrawn, produced (−1 unknown) of the best-ranked source
        of each POD-hour, and where any source, Home Assistant, the distributor has it; this
        window's hour 0 is column ``offset``."""
        injected, withdrawn, produced, present, ha, dso = blank_matrices(len(pods), hours)
        index = {pod: i for i, pod in enumerate(pods)}
        row_of = np.array([index[name] for name in self.pod_names], dtype=np.int64)
        cells = (row_of[self.pod] * hours + self.hour + offset) if len(self.pod) else self.pod
        flat = (x.reshape(-1) for x in (injected, withdrawn, produced, present, ha, dso))
        f_injected, f_withdrawn, f_produced, f_present, f_ha, f_dso = flat
        f_present[cells] = True
        f_ha[cells[self.source == SOURCE_RANK["ha"]]] = True
        f_dso[cells[self.source == SOURCE_RANK["dso"]]] = True
        ranks = np.unique(self.source)[::-1]  # the best-ranked source is written last
        for rank in ranks.tolist():
            mine = self.source == rank if len(ranks) > 1 else slice(None)
            cell = cells[mine]
            f_injected[cell] = self.injected[mine]
            f_withdrawn[cell] = self.withdrawn[mine]
            f_produced[cell] = self.produced[mine]
        return injected, withdrawn, produced, present, ha, dso


def blank_matrices(pods: int, hours: int) -> tuple[I64, I64, I64, BOOL, BOOL, BOOL]:
    """PODs × hours with nothing known: injected, withdrawn 0; produced −1 (unknown); present,
    from Home Assistant, from the distributor all false."""
    shape = (pods, hours)
    return (
        np.zeros(shape, dtype=np.int64),
        np.zeros(shape, dtype=np.int64),
        np.full(shape, -1, dtype=np.int64),
        np.zeros(shape, dtype=np.bool_),
        np.zeros(shape, dtype=np.bool_),
        np.zeros(shape, dtype=np.bool_),
    )


def _utc(epoch_hour: int) -> datetime:
    return datetime.fromtimestamp(epoch_hour * SECONDS_PER_HOUR, UTC)


async def read_window(
    connection: AsyncConnection, community_id: str, first_hour: int, end_hour: int
) -> Window:
    """The readings of the hours [first_hour, end_hour) (epoch hours), packed per POD and
    source by the database."""
    postgresql = connection.dialect.name == "postgresql"
    params = {
        "first": first_hour,
        "community": community_id,
        "start": _utc(first_hour),
        "end": _utc(max(first_hour, end_hour)),
    }
    rows: Sequence[Any]
    if postgresql:  # the driver's binary protocol: the packed bytes as they are, no hex text
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        cursor = driver.cursor(binary=True)
        await cursor.execute(_PACK_POSTGRESQL, params)
        rows = await cursor.fetchall()
        await cursor.close()
    else:
        statement = text(_PACK_SQLITE).bindparams(
            bindparam("start", type_=UtcDateTime), bindparam("end", type_=UtcDateTime)
        )
        rows = (await connection.execute(statement, params)).all()
    names: list[str] = []
    sources: list[int] = []
    columns: list[tuple[Any, Any, Any, Any]] = []
    for pod, source, packed in rows:
        if packed is None:
            continue
        if postgresql:
            table = np.frombuffer(bytes(packed), dtype=_PACKED)
            columns.append(
                (table["hour"], table["injected"], table["withdrawn"], table["produced"])
            )
        else:
            flat = np.fromstring(str(packed), dtype=np.int64, sep=",").reshape(-1, 4)
            columns.append((flat[:, 0], flat[:, 1], flat[:, 2], flat[:, 3]))
        names.append(str(pod))
        sources.append(SOURCE_RANK.get(str(source), len(SOURCES)))
    unique = tuple(dict.fromkeys(names))
    position = {name: i for i, name in enumerate(unique)}
    lengths = np.array([len(c[0]) for c in columns], dtype=np.int64)

    def joined(k: int) -> I64:
        if not columns:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([c[k] for c in columns]).astype(np.int64)

    return Window(
        pod_names=unique,
        pod=np.repeat(np.array([position[n] for n in names], dtype=np.int64), lengths),
        source=np.repeat(np.array(sources, dtype=np.int64), lengths),
        hour=joined(0),
        injected=joined(1),
        withdrawn=joined(2),
        produced=joined(3),
    )


async def read_window_rows(
    connection: AsyncConnection, community_id: str, first_hour: int, end_hour: int
) -> tuple[tuple[str, ...], tuple[I64, I64, I64, BOOL, BOOL, BOOL]]:
    """The reference: every reading as a row, placed one by one (the reader before the packed
    one); the PODs that have readings and the matrices of :meth:`Window.matrices`."""
    hours = max(0, end_hour - first_hour)
    rows = (
        await connection.execute(
            select(
                Reading.pod,
                Reading.hour_start,
                Reading.injected_wh,
                Reading.withdrawn_wh,
                Reading.produced_wh,
                Reading.source,
            ).where(
                Reading.community_id == community_id,
                Reading.hour_start >= _utc(first_hour),
                Reading.hour_start < _utc(max(first_hour, end_hour)),
            )
        )
    ).all()
    pods = tuple(sorted({r.pod for r in rows}))
    index = {pod: i for i, pod in enumerate(pods)}
    injected, withdrawn, produced, present, ha, dso = blank_matrices(len(pods), hours)
    # the best-ranked source of a POD-hour is written last, so it wins
    rows = sorted(rows, key=lambda r: -SOURCE_RANK.get(str(r.source), len(SOURCES)))
    for r in rows:
        i = index[r.pod]
        h = int(as_utc(r.hour_start).timestamp()) // SECONDS_PER_HOUR - first_hour
        injected[i, h] = r.injected_wh
        withdrawn[i, h] = r.withdrawn_wh
        produced[i, h] = -1 if r.produced_wh is None else r.produced_wh
        present[i, h] = True
        if r.source == "ha":
            ha[i, h] = True
        elif r.source == "dso":
            dso[i, h] = True
    return pods, (injected, withdrawn, produced, present, ha, dso)
