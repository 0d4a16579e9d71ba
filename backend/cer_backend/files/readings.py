"""Readings CSV: ``pod,hour_start,injected_wh,withdrawn_wh`` (``FORMATS.md``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np

from ..domain.community import Community
from ..domain.energy import MAX_WH, HourlyEnergy, LazyLabels
from ..domain.errors import InvalidInput, Problem
from ..domain.period import DEFAULT_TIMEZONE, Period, zone
from .columnar import long_columns, read_fast
from .community import read_text_file
from .layouts import builtin_layout
from .metered import MeteredHours

READINGS_COLUMNS = ("pod", "hour_start", "injected_wh", "withdrawn_wh")
MAX_REPORTED = 50


def parse_readings_csv(
    text: str,
    community: Community | None = None,
    period: Period | None = None,
    name: str = "readings",
) -> HourlyEnergy:
    """Parse a readings CSV into :class:`HourlyEnergy` over ``period``.

    With ``community``, a POD that belongs to no member and no plant is an error naming the
    line, and every POD of the community gets a row (all missing when absent). Without
    ``period``, the local days the readings cover. Every problem is reported.
    """
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise InvalidInput.single(f"{name}:1", "empty file: a header line is required")
    columns = [c.strip() for c in header]
    if sorted(columns) != sorted(READINGS_COLUMNS):
        raise InvalidInput.single(
            f"{name}:1", f"header must be {','.join(READINGS_COLUMNS)} (got {','.join(columns)})"
        )
    pos = [columns.index(c) for c in READINGS_COLUMNS]
    known: set[str] | None = None
    if community is not None:
        known = {p for m in community.members for p in m.pods} | {p.pod for p in community.plants}
    times: dict[str, int | None] = {}
    pod_names: list[str] = []
    seconds: list[int] = []
    injected: list[int] = []
    withdrawn: list[int] = []
    lines: list[int] = []
    bad = 0

    def report(line: int, message: str) -> None:
        nonlocal bad
        bad += 1
        if bad <= MAX_REPORTED:
            problems.append(Problem(f"{name}:{line}", message))

    i_pod, i_time, i_inj, i_wdr = pos
    width = len(columns)
    for record in reader:
        line = reader.line_num
        if len(record) != width:
            if not record or all(not c.strip() for c in record):
                continue
            report(line, f"expected {width} fields, got {len(record)}")
            continue
        pod = record[i_pod].strip()
        stamp = record[i_time]
        if stamp in times:
            epoch = times[stamp]
        else:
            epoch = times[stamp] = _epoch_seconds(stamp)
        if epoch is None:
            report(line, f"hour_start {stamp.strip()!r} is not an ISO 8601 time with offset")
            continue
        try:
            inj = int(record[i_inj])
            wdr = int(record[i_wdr])
        except ValueError:
            report(line, "injected_wh and withdrawn_wh must be integer Wh")
            continue
        if known is not None and pod not in known:
            report(line, f"POD {pod} belongs to no member and no plant of the community")
            continue
        pod_names.append(pod)
        seconds.append(epoch)
        injected.append(inj)
        withdrawn.append(wdr)
        lines.append(line)
    if bad > MAX_REPORTED:
        problems.append(Problem(name, f"{bad - MAX_REPORTED} more bad lines"))
    if problems:
        raise InvalidInput(problems)
    if period is None:
        if not seconds:
            raise InvalidInput.single(name, "no readings")
        tz = zone(community.timezone if community else DEFAULT_TIMEZONE)
        first = dt.datetime.fromtimestamp(min(seconds), tz).date()
        last = dt.datetime.fromtimestamp(max(seconds), tz).date()
        period = Period.between(first, last + dt.timedelta(days=1), tz.key)
    pods = sorted(known) if known is not None else ()
    return HourlyEnergy.from_columns(
        period,
        pod_names,
        seconds,
        injected,
        withdrawn,
        pods=pods,
        labels=LazyLabels(len(lines), lambda i: f"{name}:{lines[i]}"),
    )


def _epoch_seconds(stamp: str) -> int | None:
    """Unix seconds of an ISO 8601 time with offset, or None."""
    try:
        moment = dt.datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    if moment.utcoffset() is None:
        return None
    # a fraction of a second makes the time off the quarter-hour grid: reported as such
    return int(moment.timestamp()) + (1 if moment.microsecond else 0)


def load_readings(
    path: str | Path, community: Community | None = None, period: Period | None = None
) -> HourlyEnergy:
    """Read the readings CSV at ``path`` (see :func:`parse_readings_csv`).

    A clean file is read by the columnar reader of the metered-data import (``pyarrow``);
    anything irregular by :func:`parse_readings_csv`, which names every problem's line.
    """
    path = Path(path)
    energy = _load_columnar(path, community, period)
    if energy is not None:
        return energy
    return parse_readings_csv(read_text_file(path), community, period, str(path))


def _hourly_rows(data: bytes, name: str) -> MeteredHours | None:
    """A file of whole hours only, in POD and time order with no repeat: its rows are hours."""
    rows = long_columns(data, builtin_layout("cer"))
    if rows is None or (rows.size != 3600).any():
        return None
    key = rows.pod * (1 << 32) + rows.start // 3600
    if len(key) > 1 and not bool((key[1:] > key[:-1]).all()):
        return None
    return MeteredHours(
        name,
        rows.pod_names,
        rows.pod,
        rows.start,
        rows.injected,
        rows.withdrawn,
        np.zeros(len(key), dtype=np.int64),
        values=2 * len(key),
        fast=True,
    )


def _load_columnar(
    path: Path, community: Community | None, period: Period | None
) -> HourlyEnergy | None:
    """The energy of a clean readings CSV through the columnar reader, or None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    end = data.find(b"\n")
    first_line = data[: end if end >= 0 else len(data)].decode("utf-8", "replace")
    first_line = first_line.lstrip("\ufeff")
    if sorted(c.strip() for c in first_line.split(",")) != sorted(READINGS_COLUMNS):
        return None
    timezone = community.timezone if community else DEFAULT_TIMEZONE
    hours = _hourly_rows(data, str(path)) or read_fast(
        data, builtin_layout("cer"), str(path), timezone=timezone
    )
    if hours is None or not len(hours.hour):
        return None
    if (hours.injected > MAX_WH).any() or (hours.withdrawn > MAX_WH).any():
        return None
    known: set[str] | None = None
    if community is not None:
        known = {p for m in community.members for p in m.pods} | {p.pod for p in community.plants}
        if not set(hours.pod_names) <= known:
            return None
    if period is None:
        tz = zone(timezone)
        first = dt.datetime.fromtimestamp(int(hours.hour.min()), tz).date()
        last = dt.datetime.fromtimestamp(int(hours.hour.max()), tz).date()
        period = Period.between(first, last + dt.timedelta(days=1), tz.key)
    pods = sorted(known if known is not None else set(hours.pod_names))
    row_of = np.array([pods.index(name) for name in hours.pod_names], dtype=np.int64)
    column = hours.hour // 3600 - period.start_epoch_hour
    inside = (column >= 0) & (column < period.hours)
    rows, columns = row_of[hours.pod[inside]], column[inside]
    shape = (len(pods), period.hours)
    injected = np.zeros(shape, dtype=np.int64)
    withdrawn = np.zeros(shape, dtype=np.int64)
    present = np.zeros(shape, dtype=np.bool_)
    injected[rows, columns] = hours.injected[inside]
    withdrawn[rows, columns] = hours.withdrawn[inside]
    present[rows, columns] = True
    return HourlyEnergy.from_arrays(period, pods, injected, withdrawn, present)
