"""Readings CSV: ``pod,hour_start,injected_wh,withdrawn_wh`` (``FORMATS.md``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from ..domain.community import Community
from ..domain.energy import HourlyEnergy, LazyLabels
from ..domain.errors import InvalidInput, Problem
from ..domain.period import DEFAULT_TIMEZONE, Period, zone
from .community import read_text_file

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
    """Read the readings CSV at ``path`` (see :func:`parse_readings_csv`)."""
    path = Path(path)
    return parse_readings_csv(read_text_file(path), community, period, str(path))
