"""Reading a metered-data file with a :class:`~.layouts.Layout` into exact hourly Wh.

The file is read whole (it is one file of an import: all or nothing) into interval records
(POD, start, length, direction, Wh, line), checked, and summed to hours. An hour is present
only when every interval of both directions is; kWh are parsed as decimals (never floats),
a value finer than 1 Wh is rounded half-up and counted in the warnings.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from .layouts import Layout

SECONDS_PER_HOUR = 3600
QUARTER = 900
#: errors listed per file before the rest are only counted
MAX_ERRORS = 100
WITHDRAWN, INJECTED = 0, 1
#: a number ≥ 0: digits with an optional fraction and exponent (a leading + is harmless)
_NUMBER = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
I64 = npt.NDArray[np.int64]


@dataclass
class MeteredHours:
    """A file's complete hours: one entry per POD and hour (UTC start, epoch seconds)."""

    name: str
    pod_names: list[str]
    pod: I64  # index into pod_names
    hour: I64  # epoch seconds of the hour's start
    injected: I64
    withdrawn: I64
    line: I64  # the first line of the file that holds the hour
    values: int = 0  # values read (quarter-hours or hours, per direction)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error_count: int = 0
    #: read by the columnar fast path (lines unknown: 0)
    fast: bool = False

    @property
    def pods(self) -> int:
        """How many PODs the file holds."""
        return len(self.pod_names)

    def only(self, pods: Collection[str]) -> MeteredHours:
        """The hours of these PODs only (the PODs keep their names and order)."""
        wanted = sorted(i for i, name in enumerate(self.pod_names) if name in set(pods))
        keep = np.isin(self.pod, wanted)
        renumber = np.zeros(max(len(self.pod_names), 1), dtype=np.int64)
        renumber[wanted] = np.arange(len(wanted))
        return MeteredHours(
            self.name,
            [self.pod_names[i] for i in wanted],
            renumber[self.pod[keep]],
            self.hour[keep],
            self.injected[keep],
            self.withdrawn[keep],
            self.line[keep],
            values=self.values,
            errors=list(self.errors),
            warnings=list(self.warnings),
            error_count=self.error_count,
            fast=self.fast,
        )

    def error(self, line: int | None, message: str) -> None:
        """Record an error (listed up to :data:`MAX_ERRORS`)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            where = f"{self.name}:{line}" if line is not None else self.name
            self.errors.append(f"{where}: {message}")

    def finish_errors(self) -> None:
        """Say how many errors were not listed."""
        if self.error_count > len(self.errors):
            self.errors.append(f"{self.name}: {self.error_count - len(self.errors)} more errors")


def decode(data: bytes, layout: Layout, name: str) -> tuple[str | None, str | None]:
    """(text, None) or (None, error): UTF-8 with or without BOM, else Latin-1 when allowed."""
    if layout.encoding == "latin-1":
        return data.decode("latin-1"), None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if layout.encoding == "auto":
            return data.decode("latin-1"), None
        return None, f"{name}: not {layout.encoding} text"
    return text.removeprefix("\ufeff"), None


class _Values:
    """Exact Wh of the value texts of one file (memoised: meters repeat values a lot)."""

    def __init__(self, layout: Layout) -> None:
        self._decimal = layout.decimal
        self._other = "." if layout.decimal == "," else ","
        self._scale = layout.wh_per_unit
        self._cache: dict[str, int | None] = {}
        self.rounded = 0
        self.first_rounded: int | None = None
        self._inexact: set[str] = set()

    def wh(self, text: str, line: int) -> int | None:
        """The Wh of a value text, or None when it is not a number ≥ 0."""
        try:
            value = self._cache[text]
        except KeyError:
            value = self._cache[text] = self._parse(text)
        if text in self._inexact:
            self.rounded += 1
            if self.first_rounded is None:
                self.first_rounded = line
        return value

    def _parse(self, text: str) -> int | None:
        raw = text.strip()
        if self._other in raw:
            return None
        raw = raw.replace(self._decimal, ".")
        if not _NUMBER.fullmatch(raw):
            return None
        exact = Decimal(raw) * self._scale
        wh = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if wh != exact:
            self._inexact.add(text)
        return wh


@dataclass
class _Records:
    """Interval records as parallel lists (one entry per value)."""

    pod: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    length: list[int] = field(default_factory=list)
    direction: list[int] = field(default_factory=list)
    wh: list[int] = field(default_factory=list)
    line: list[int] = field(default_factory=list)


def read_metered(
    data: bytes,
    layout: Layout,
    name: str,
    *,
    pod: str | None = None,
    timezone: str = "Europe/Rome",
) -> MeteredHours:
    """Read a file into complete hours; every problem is in ``errors`` (nothing raised)."""
    pod_names: list[str] = []
    pod_index: dict[str, int] = {}
    result = _empty(name, pod_names)
    text, problem = decode(data, layout, name)
    if text is None:
        result.errors.append(problem or name)
        result.error_count = 1
        return result
    if layout.pod_column is None and pod is None:
        result.error(None, f"the layout {layout.name} has no POD column: say which POD (--pod)")
        return result
    lines = io.StringIO(text, newline=None)
    for _ in range(layout.skip_rows):
        lines.readline()
    reader = csv.reader(lines, delimiter=layout.delimiter)
    header_line = layout.skip_rows + 1
    header = next(reader, None)
    while header is not None and not any(cell.strip() for cell in header):
        header = next(reader, None)
        header_line += 1
    if header is None:
        result.error(header_line, "empty file: a header row is required")
        return result
    columns = [c.strip().removeprefix("\ufeff") for c in header]

    def column(wanted: str | int | None, key: str) -> int | None:
        if wanted is None:
            return None
        if isinstance(wanted, int):
            if wanted > len(columns):
                result.error(header_line, f"{key}: the header has only {len(columns)} columns")
                return None
            return wanted - 1
        if wanted not in columns:
            result.error(header_line, f"no column {wanted!r} in the header ({key})")
            return None
        return columns.index(wanted)

    def pod_of(code: str) -> int:
        index = pod_index.get(code)
        if index is None:
            index = pod_index[code] = len(pod_names)
            pod_names.append(code)
        return index

    fixed_pod = pod_of(pod) if pod is not None and layout.pod_column is None else None
    i_pod = column(layout.pod_column, "pod_column")
    values = _Values(layout)
    records = _Records()
    zone = ZoneInfo(timezone)
    if layout.kind == "wide":
        i_date = column(layout.date_column, "date_column")
        i_dir = column(layout.direction_column, "direction_column")
        i_first = column(layout.first_value_column, "first_value_column")
        if result.errors:
            return result
        assert i_date is not None and i_dir is not None and i_first is not None
        _read_wide(
            reader,
            layout,
            result=result,
            records=records,
            values=values,
            zone=zone,
            i_pod=i_pod,
            i_date=i_date,
            i_dir=i_dir,
            i_first=i_first,
            pod_of=pod_of,
            fixed_pod=fixed_pod,
        )
    else:
        i_time = column(layout.time_column, "time_column")
        i_w = column(layout.withdrawn_column, "value_columns.withdrawn")
        i_i = column(layout.injected_column, "value_columns.injected")
        if result.errors:
            return result
        assert i_time is not None and i_w is not None and i_i is not None
        _read_long(
            reader,
            layout,
            result=result,
            records=records,
            values=values,
            i_pod=i_pod,
            i_time=i_time,
            i_w=i_w,
            i_i=i_i,
            pod_of=pod_of,
            fixed_pod=fixed_pod,
        )
    if values.rounded:
        result.warnings.append(
            f"{name}:{values.first_rounded}: {values.rounded} values finer than 1 Wh"
            " rounded half-up"
        )
    if not records.pod and not result.errors:
        result.error(header_line + 1, "no readings after the header")
    if result.error_count:
        result.finish_errors()
        return result
    _to_hours(result, records, auto=layout.interval_minutes is None)
    result.finish_errors()
    return result


def _empty(name: str, pod_names: list[str]) -> MeteredHours:
    empty = np.zeros(0, dtype=np.int64)
    return MeteredHours(name, pod_names, empty, empty, empty, empty, empty)


def _read_wide(
    reader: object,
    layout: Layout,
    *,
    result: MeteredHours,
    records: _Records,
    values: _Values,
    zone: ZoneInfo,
    i_pod: int | None,
    i_date: int,
    i_dir: int,
    i_first: int,
    pod_of: Callable[[str], int],
    fixed_pod: int | None,
) -> None:
    """One row per POD, local day and direction; values in elapsed order from midnight."""
    days: dict[str, tuple[int, int] | None] = {}
    minutes = layout.interval_minutes
    for row in reader:  # type: ignore[attr-defined]
        line = reader.line_num  # type: ignore[attr-defined]
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= i_first:
            result.error(line, f"expected values from column {i_first + 1}, got {len(row)} fields")
            continue
        code = row[i_pod].strip() if i_pod is not None else None
        if i_pod is not None and not code:
            result.error(line, "no POD")
            continue
        day_text = row[i_date].strip()
        if day_text not in days:
            days[day_text] = _day(day_text, layout.date_format, zone)
        day = days[day_text]
        if day is None:
            result.error(line, f"{day_text!r} is not a date ({layout.date_format})")
            continue
        midnight, day_hours = day
        word = row[i_dir].strip().casefold()
        if word in layout.withdrawn_words:
            direction = WITHDRAWN
        elif word in layout.injected_words:
            direction = INJECTED
        else:
            result.error(line, f"{row[i_dir].strip()!r} is neither withdrawn nor injected")
            continue
        cells = row[i_first:]
        while cells and not cells[-1].strip():
            cells.pop()
        count = len(cells)
        if minutes == 15 or (minutes is None and count == day_hours * 4):
            length = QUARTER
        elif minutes == 60 or (minutes is None and count == day_hours):
            length = SECONDS_PER_HOUR
        else:
            length = 0
        if length == 0 or count * length != day_hours * SECONDS_PER_HOUR:
            expected = (
                f"{day_hours * 4} quarter-hours or {day_hours} hours"
                if minutes is None
                else f"{day_hours * 60 // minutes} values"
            )
            result.error(line, f"{count} values for {day_text}: that day has {expected}")
            continue
        index = fixed_pod if code is None else pod_of(code)
        assert index is not None
        wh_values: list[int] = []
        bad = False
        for position, cell in enumerate(cells):
            wh = values.wh(cell, line)
            if wh is None:
                result.error(line, f"value {position + 1} {cell.strip()!r} is not an energy ≥ 0")
                bad = True
                break
            wh_values.append(wh)
        if bad:
            continue
        records.pod.extend([index] * count)
        records.start.extend(range(midnight, midnight + count * length, length))
        records.length.extend([length] * count)
        records.direction.extend([direction] * count)
        records.wh.extend(wh_values)
        records.line.extend([line] * count)
        result.values += count


def _day(text: str, date_format: str, zone: ZoneInfo) -> tuple[int, int] | None:
    """(epoch seconds of local midnight, hours of that local day), or None."""
    try:
        day = dt.datetime.strptime(text, date_format).date()
    except ValueError:
        return None
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    seconds = int(start.timestamp())
    return seconds, (int(end.timestamp()) - seconds) // SECONDS_PER_HOUR


def _read_long(
    reader: object,
    layout: Layout,
    *,
    result: MeteredHours,
    records: _Records,
    values: _Values,
    i_pod: int | None,
    i_time: int,
    i_w: int,
    i_i: int,
    pod_of: Callable[[str], int],
    fixed_pod: int | None,
) -> None:
    """One row per POD and interval, both directions on the row."""
    times: dict[str, int | None] = {}
    width = max(i for i in (i_pod, i_time, i_w, i_i) if i is not None) + 1
    length = (layout.interval_minutes or 0) * 60
    end = layout.stamp == "end"
    parse = _iso_seconds if layout.time_format == "iso" else _strptime_seconds(layout.time_format)
    for row in reader:  # type: ignore[attr-defined]
        line = reader.line_num  # type: ignore[attr-defined]
        if len(row) < width:
            if not any(cell.strip() for cell in row):
                continue
            result.error(line, f"expected at least {width} fields, got {len(row)}")
            continue
        code = row[i_pod].strip() if i_pod is not None else None
        if i_pod is not None and not code:
            result.error(line, "no POD")
            continue
        stamp = row[i_time]
        if stamp in times:
            seconds = times[stamp]
        else:
            seconds = times[stamp] = parse(stamp.strip())
        if seconds is None:
            result.error(line, f"{stamp.strip()!r} is not a time with its offset")
            continue
        if length:
            start, size = (seconds - length if end else seconds), length
        else:  # cer: :00 is an hour unless the hour has quarter rows (fixed in _to_hours)
            on_hour = seconds % SECONDS_PER_HOUR == 0
            start, size = seconds, (SECONDS_PER_HOUR if on_hour else QUARTER)
        if start % size and not (length == 0 and start % QUARTER == 0):
            result.error(line, f"{stamp.strip()} is not on the {size // 60}-minute grid")
            continue
        withdrawn = values.wh(row[i_w], line)
        injected = values.wh(row[i_i], line)
        if withdrawn is None or injected is None:
            bad = row[i_w] if withdrawn is None else row[i_i]
            result.error(line, f"{bad.strip()!r} is not an energy ≥ 0")
            continue
        index = fixed_pod if code is None else pod_of(code)
        assert index is not None
        records.pod += (index, index)
        records.start += (start, start)
        records.length += (size, size)
        records.direction += (WITHDRAWN, INJECTED)
        records.wh += (withdrawn, injected)
        records.line += (line, line)
        result.values += 2


def _iso_seconds(text: str) -> int | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() is None or moment.second or moment.microsecond:
        return None
    return int(moment.timestamp())


def _strptime_seconds(time_format: str) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        try:
            moment = dt.datetime.strptime(text, time_format)
        except ValueError:
            return None
        if moment.utcoffset() is None or moment.second or moment.microsecond:
            return None
        return int(moment.timestamp())

    return parse


def _to_hours(result: MeteredHours, records: _Records, *, auto: bool) -> None:
    """Check duplicates and overlaps, then sum complete hours (both directions, all of it)."""
    pod = np.asarray(records.pod, dtype=np.int64)
    start = np.asarray(records.start, dtype=np.int64)
    length = np.asarray(records.length, dtype=np.int64)
    direction = np.asarray(records.direction, dtype=np.int64)
    wh = np.asarray(records.wh, dtype=np.int64)
    line = np.asarray(records.line, dtype=np.int64)
    hour = start - start % SECONDS_PER_HOUR
    base = int(hour.min())
    hour_i = (hour - base) // SECONDS_PER_HOUR
    span = int(hour_i.max()) + 1
    cell = pod * span + hour_i
    if auto:  # cer: an hour with quarter rows is quarter-hourly, its :00 row the first quarter
        quarterly = np.zeros(len(result.pod_names) * span, dtype=np.bool_)
        quarterly[cell[length == QUARTER]] = True
        length = np.where(quarterly[cell], QUARTER, length)
    # duplicates: the same POD, interval start and direction twice; a file in POD and time
    # order needs no sort (its keys only grow)
    key = (cell * 4 + (start % SECONDS_PER_HOUR) // QUARTER) * 2 + direction
    if len(key) > 1 and not bool((key[1:] > key[:-1]).all()):
        order = np.argsort(key, kind="stable")  # equal keys keep the order of the lines
        key, cell, direction, length, wh, line, start, pod = (
            a[order] for a in (key, cell, direction, length, wh, line, start, pod)
        )
        same = np.flatnonzero(key[1:] == key[:-1])
        conflicts: dict[tuple[int, int], list[int]] = {}  # (line, earlier) → [start, count]
        for d in same.tolist():
            if wh[d] != wh[d + 1] or length[d] != length[d + 1]:
                where = (int(line[d + 1]), int(line[d]))
                seen = conflicts.setdefault(where, [int(start[d + 1]), 0])
                seen[0] = min(seen[0], int(start[d + 1]))
                seen[1] += 1
        for (at, earlier), (moment, count) in sorted(conflicts.items()):
            more = f" and {count - 1} more intervals are" if count > 1 else " is"
            result.error(
                at,
                f"{_pod_at(result, pod, line, at)}"
                f" {_iso(moment)}{more} also on line {earlier} with other values",
            )
        if same.size:
            keep = np.ones(len(key), dtype=np.bool_)
            keep[same + 1] = False
            cell, direction, length, wh, line = (
                cell[keep], direction[keep], length[keep], wh[keep], line[keep]
            )  # fmt: skip
    # cells are in order now: one group per POD-hour
    boundary = np.ones(len(cell), dtype=np.bool_)
    boundary[1:] = cell[1:] != cell[:-1]
    group_start = np.flatnonzero(boundary)
    cells = cell[group_start]
    withdrawn_rows = direction == WITHDRAWN
    sums = np.stack(
        [
            np.add.reduceat(np.where(withdrawn_rows, wh, 0), group_start),
            np.add.reduceat(np.where(withdrawn_rows, 0, wh), group_start),
        ]
    )
    covered = np.stack(
        [
            np.add.reduceat(np.where(withdrawn_rows, length, 0), group_start),
            np.add.reduceat(np.where(withdrawn_rows, 0, length), group_start),
        ]
    )
    first_line = np.minimum.reduceat(line, group_start)
    over = np.flatnonzero((covered > SECONDS_PER_HOUR).any(axis=0))
    for i in over[:MAX_ERRORS].tolist():
        result.error(int(first_line[i]), "overlapping intervals (quarter-hours and hours mixed)")
    if result.error_count:
        return
    cell_pod = cells // span
    # a POD whose file has only one direction: the other is 0 (consumers often get no
    # injection rows), said in the warnings
    has = np.zeros((2, len(result.pod_names)), dtype=np.bool_)
    has[direction, cell // span] = True
    for d, label in ((WITHDRAWN, "withdrawn"), (INJECTED, "injected")):
        lacking = np.flatnonzero(~has[d] & has[1 - d])
        for p in lacking.tolist():
            result.warnings.append(
                f"{result.name}: {result.pod_names[p]} has no {label} values: taken as 0"
            )
        covered[d, np.isin(cell_pod, lacking)] = SECONDS_PER_HOUR
    complete = (covered == SECONDS_PER_HOUR).all(axis=0)
    partial = int((~complete).sum())
    if partial:
        first = int(first_line[np.flatnonzero(~complete)[0]])
        result.warnings.append(
            f"{result.name}:{first}: {partial} POD-hours lack some intervals: not stored"
        )
    chosen = np.flatnonzero(complete)
    result.pod = cell_pod[chosen]
    result.hour = (cells[chosen] % span) * SECONDS_PER_HOUR + base
    result.withdrawn = sums[WITHDRAWN, chosen]
    result.injected = sums[INJECTED, chosen]
    result.line = first_line[chosen]


def _pod_at(result: MeteredHours, pod: I64, line: I64, at: int) -> str:
    return result.pod_names[int(pod[np.flatnonzero(line == at)[0]])]


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, ZoneInfo("Europe/Rome")).isoformat()
