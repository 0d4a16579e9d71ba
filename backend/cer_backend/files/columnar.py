"""The fast path of the metered-data reader: ``pyarrow.csv`` into columns, numpy to hours.

It handles the clean common case of a layout (every value a plain number ≥ 0 with at most
three decimals, every row whole, every hour complete, no duplicate) and gives up (None) at
the first irregularity: the exact reader of :mod:`.metered` then reads the same file and
names every problem with its line. Both give the same hours for a clean file (tested).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .layouts import Layout
from .metered import (
    INJECTED,
    QUARTER,
    SECONDS_PER_HOUR,
    WITHDRAWN,
    MeteredHours,
    _empty,
    _read_wide,
    _Records,
    _to_hours,
    _Values,
)

I64 = npt.NDArray[np.int64]
BLOCK = 1 << 22
_POWERS = np.array([10**k for k in range(19)], dtype=np.int64)


class _GiveUp(Exception):
    """Something the fast path does not decide: the exact reader takes over."""


def wh_values(column: Any, decimal: str, scale: int) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Exact Wh of a column of number texts, and where it is empty; _GiveUp otherwise."""
    strings = pc.cast(column, pa.string())
    if strings.null_count:
        strings = pc.fill_null(strings, "")
    # a thousands separator, a sign or any other character makes the integer cast fail
    length = np.asarray(pc.utf8_length(strings), dtype=np.int64)
    empty = length == 0
    position = np.asarray(pc.find_substring(strings, decimal), dtype=np.int64)
    digits = pc.replace_substring(strings, decimal, "", max_replacements=1)
    if empty.any():
        digits = pc.if_else(pa.array(empty), "0", digits)
    try:
        mantissa = np.asarray(pc.cast(digits, pa.int64()), dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise _GiveUp from err
    if (mantissa < 0).any() or pc.any(pc.starts_with(strings, "+")).as_py():
        raise _GiveUp  # signs: the exact reader names them
    fraction = np.where(position >= 0, length - position - 1, 0)
    exponent = {1000: 3, 1: 0}[scale] - fraction
    if (exponent < 0).any() or (exponent > 12).any():
        raise _GiveUp  # finer than a Wh: the exact reader rounds and counts them
    return mantissa * _POWERS[exponent], empty


def _open(
    data: bytes, layout: Layout, integers: tuple[str, ...] = (), values_from: int | None = None
) -> Any:
    """A streaming CSV reader whose columns are texts, but ``integers`` (int64) and the
    columns from ``values_from`` on (exact Wh: decimal with 3 digits for kWh, int64 for Wh;
    a value finer than that fails the conversion and the exact reader takes over)."""
    if layout.encoding == "latin-1":
        encoding = "latin1"
    else:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            if layout.encoding != "auto":
                raise _GiveUp from err
            encoding = "latin1"
        else:
            encoding = "utf8"
            data = data.removeprefix(b"\xef\xbb\xbf")
    head = _first_lines(data, layout.skip_rows + 1)
    if len(head) <= layout.skip_rows:
        raise _GiveUp
    header_text = head[layout.skip_rows].decode("utf-8" if encoding == "utf8" else "latin-1")
    header = next(csv.reader([header_text.strip("\r\n")], delimiter=layout.delimiter), [])
    if len(set(header)) != len(header):
        raise _GiveUp
    energy = pa.decimal128(18, 3) if layout.wh_per_unit == 1000 else pa.int64()
    types = {
        name: (
            energy
            if values_from is not None and position >= values_from
            else pa.int64()
            if name.strip() in integers
            else pa.string()
        )
        for position, name in enumerate(header)
    }
    skipped: list[str] = []

    def invalid(row: Any) -> str:
        skipped.append(row.text)
        return "skip"

    try:
        reader = pcsv.open_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(
                skip_rows=layout.skip_rows, block_size=BLOCK, encoding=encoding
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=layout.delimiter, invalid_row_handler=invalid
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=types,
                decimal_point=layout.decimal,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                auto_dict_encode=False,
            ),
        )
    except (pa.ArrowInvalid, StopIteration) as err:
        raise _GiveUp from err
    return reader, skipped


def _energies(column: Any) -> tuple[I64, npt.NDArray[np.bool_]]:
    """Wh of a column the CSV reader converted (decimal kWh with 3 digits, or int64 Wh)."""
    empty = np.asarray(column.is_null(), dtype=np.bool_)
    if pa.types.is_decimal(column.type):
        words = np.frombuffer(column.buffers()[1], dtype=np.int64)
        words = words[2 * column.offset : 2 * (column.offset + len(column))]
        low, high = words[0::2], words[1::2]
        values = np.where(empty, 0, low)
        if (np.where(empty, 0, high) != 0).any() or (values < 0).any():
            raise _GiveUp  # negative, or beyond 64 bits
    else:
        values = np.asarray(column.fill_null(0), dtype=np.int64)
        if (values < 0).any():
            raise _GiveUp
    return values, empty


def _header(data: bytes, layout: Layout) -> list[str]:
    lines = _first_lines(data, layout.skip_rows + 1)
    if len(lines) <= layout.skip_rows:
        raise _GiveUp
    text = lines[layout.skip_rows].decode("utf-8", "replace").lstrip("\ufeff")
    return [
        c.strip() for c in next(csv.reader([text.strip("\r\n")], delimiter=layout.delimiter), [])
    ]


def _first_lines(data: bytes, count: int) -> list[bytes]:
    """The first ``count`` lines (without copying the rest of the file)."""
    lines: list[bytes] = []
    at = 0
    while len(lines) < count and at < len(data):
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        lines.append(data[at:end])
        at = end + 1
    return lines


def _names(reader: Any) -> list[str]:
    return [name.strip() for name in reader.schema.names]


def read_fast(
    data: bytes, layout: Layout, name: str, *, pod: str | None = None, timezone: str = "Europe/Rome"
) -> MeteredHours | None:
    """The hours of a clean file, or None (then the exact reader decides)."""
    if layout.pod_column is None and pod is None:
        return None
    try:
        if layout.kind == "wide":
            return _wide(data, layout, name, pod, ZoneInfo(timezone))
        if layout.time_format != "iso":
            return None
        return _long(data, layout, name, pod)
    except (_GiveUp, pa.ArrowInvalid, pa.ArrowTypeError, KeyError, ValueError):
        return None


def _text_column(batch: Any, names: list[str], wanted: str | int | None) -> Any:
    if isinstance(wanted, int):
        return batch.column(wanted - 1)
    return batch.column(names.index(str(wanted)))


class _Pods:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, code: str) -> int:
        """The index of one POD code (a new one is added)."""
        index = self.index.get(code)
        if index is None:
            index = self.index[code] = len(self.names)
            self.names.append(code)
        return index

    def of(self, column: Any) -> I64:
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
        dictionary = encoded.dictionary.to_pylist()
        lookup = np.empty(len(dictionary), dtype=np.int64)
        for k, code in enumerate(dictionary):
            if not code:
                raise _GiveUp
            if code not in self.index:
                self.index[code] = len(self.names)
                self.names.append(code)
            lookup[k] = self.index[code]
        return lookup[np.asarray(encoded.indices, dtype=np.int64)]


def _wide(
    data: bytes, layout: Layout, name: str, pod: str | None, zone: ZoneInfo
) -> MeteredHours | None:
    header = _header(data, layout)
    first = (
        layout.first_value_column - 1
        if isinstance(layout.first_value_column, int)
        else header.index(str(layout.first_value_column))
    )
    reader, skipped = _open(data, layout, values_from=first)
    names = _names(reader)
    pods = _Pods()
    fixed = None
    if layout.pod_column is None:
        assert pod is not None
        pods.names, pods.index, fixed = [pod], {pod: 0}, 0
    days: dict[str, tuple[int, int]] = {}
    parts: list[tuple[I64, I64, I64, I64]] = []
    day_rows: list[tuple[I64, I64, I64, I64, I64]] = []
    values_read = 0
    for batch in reader:
        rows = batch.num_rows
        if not rows:
            continue
        pod_i = (
            np.full(rows, fixed, dtype=np.int64)
            if fixed is not None
            else pods.of(_text_column(batch, names, layout.pod_column))
        )
        date_codes = pc.dictionary_encode(
            pc.utf8_trim_whitespace(
                pc.cast(_text_column(batch, names, layout.date_column), pa.string())
            )
        )
        midnights = np.empty(len(date_codes.dictionary), dtype=np.int64)
        day_hours = np.empty(len(date_codes.dictionary), dtype=np.int64)
        for k, text in enumerate(date_codes.dictionary.to_pylist()):
            if text not in days:
                days[text] = _day(text, layout.date_format, zone)
            midnights[k], day_hours[k] = days[text]
        date_i = np.asarray(date_codes.indices, dtype=np.int64)
        direction = _directions(_text_column(batch, names, layout.direction_column), layout)
        width = len(names) - first
        flat, flat_empty = _energies(
            pa.concat_arrays([batch.column(first + k) for k in range(width)])
        )
        matrix = flat.reshape(width, rows).T
        empty = flat_empty.reshape(width, rows).T
        count = (~empty).sum(axis=1)
        first_empty = np.where(empty.any(axis=1), empty.argmax(axis=1), width)
        if (first_empty != count).any():
            raise _GiveUp  # a gap inside a row
        hours_of_day = day_hours[date_i]
        quarter = count == hours_of_day * 4
        hourly = count == hours_of_day
        if layout.interval_minutes == 15:
            hourly[:] = False
        elif layout.interval_minutes == 60:
            quarter[:] = False
        if not (quarter | hourly).all():
            raise _GiveUp
        values_read += int(count.sum())
        start = midnights[date_i]
        sums = np.zeros((rows, MAX_DAY_HOURS), dtype=np.int64)
        for n in np.unique(count).tolist():
            for quarters, mask in ((True, quarter), (False, hourly)):
                chosen = np.flatnonzero(mask & (count == n))
                if not chosen.size:
                    continue
                block = matrix[chosen, :n]
                day = block.reshape(len(chosen), n // 4, 4).sum(axis=2) if quarters else block
                sums[chosen, : day.shape[1]] = day
        day_rows.append((pod_i, start, direction, hours_of_day, sums))
    if day_rows:
        columns = [np.concatenate(c) for c in zip(*day_rows, strict=True)]
        if not skipped:  # every POD-day with its two rows: the rows are the hours
            direct = _paired_hours(*columns)
            if direct is not None:
                pod_c, hour_c, withdrawn_c, injected_c = direct
                zeros = np.zeros(len(pod_c), dtype=np.int64)
                hours_read = MeteredHours(
                    name, pods.names, pod_c, hour_c, injected_c, withdrawn_c, zeros
                )
                hours_read.values, hours_read.fast = values_read, True
                return hours_read
        parts.append(_day_hours(*columns))
    records = _Records()
    if skipped:  # rows longer or shorter than the header (the clock-change days)
        extra = csv.reader(io.StringIO("\n".join(skipped)), delimiter=layout.delimiter)
        result = _empty(name, pods.names)
        _read_wide(
            extra,
            layout,
            result=result,
            records=records,
            values=(values := _Values(layout)),
            zone=zone,
            i_pod=None if layout.pod_column is None else names.index(str(layout.pod_column)),
            i_date=names.index(str(layout.date_column)),
            i_dir=names.index(str(layout.direction_column)),
            i_first=first,
            pod_of=pods.code,
            fixed_pod=fixed,
        )
        if result.error_count or values.rounded:
            return None
        values_read += result.values
    return _finish(name, pods.names, parts, records, values_read, auto=False)


MAX_DAY_HOURS = 25


def _paired_hours(
    pod: I64, start: I64, direction: I64, hours: I64, sums: I64
) -> tuple[I64, I64, I64, I64] | None:
    """(POD, hour, withdrawn, injected) when each POD-day has exactly its two rows, else None."""
    order = np.lexsort((direction, start, pod))
    pod, start, direction, hours, sums = (a[order] for a in (pod, start, direction, hours, sums))
    if not (
        len(pod) % 2 == 0
        and bool((direction[0::2] == WITHDRAWN).all())
        and bool((direction[1::2] == INJECTED).all())
        and bool((pod[0::2] == pod[1::2]).all())
        and bool((start[0::2] == start[1::2]).all())
        and bool((hours[0::2] == hours[1::2]).all())
    ):
        return None
    inside = np.arange(MAX_DAY_HOURS)[None, :] < hours[0::2, None]
    offsets = start[0::2, None] + SECONDS_PER_HOUR * np.arange(MAX_DAY_HOURS)[None, :]
    return (
        np.broadcast_to(pod[0::2, None], inside.shape)[inside],
        offsets[inside],
        sums[0::2][inside],
        sums[1::2][inside],
    )


def _day_hours(
    pod: I64, start: I64, direction: I64, hours: I64, sums: I64
) -> tuple[I64, I64, I64, I64]:
    """Hour records of day rows; in (POD, hour, direction) order when every POD-day has its
    two rows (then the hours need no sort), else in the rows' order."""
    order = np.lexsort((direction, start, pod))
    pod, start, direction, hours, sums = (a[order] for a in (pod, start, direction, hours, sums))
    count = len(pod)
    paired = (
        count % 2 == 0
        and bool((direction[0::2] == WITHDRAWN).all())
        and bool((direction[1::2] == INJECTED).all())
        and bool((pod[0::2] == pod[1::2]).all())
        and bool((start[0::2] == start[1::2]).all())
        and bool((hours[0::2] == hours[1::2]).all())
    )
    if paired:  # W and I of each hour side by side
        inside = np.arange(MAX_DAY_HOURS)[None, :] < hours[0::2, None]
        both = np.stack([sums[0::2], sums[1::2]], axis=2)  # pairs × hours × 2
        mask = np.repeat(inside[:, :, None], 2, axis=2)
        offsets = start[0::2, None] + SECONDS_PER_HOUR * np.arange(MAX_DAY_HOURS)[None, :]
        return (
            np.repeat(pod[0::2, None, None], MAX_DAY_HOURS * 2, axis=1).reshape(
                -1, MAX_DAY_HOURS, 2
            )[mask],
            np.repeat(offsets[:, :, None], 2, axis=2)[mask],
            np.broadcast_to(np.array([WITHDRAWN, INJECTED]), both.shape)[mask],
            both[mask],
        )
    inside = np.arange(MAX_DAY_HOURS)[None, :] < hours[:, None]
    offsets = start[:, None] + SECONDS_PER_HOUR * np.arange(MAX_DAY_HOURS)[None, :]
    return (
        np.broadcast_to(pod[:, None], inside.shape)[inside],
        offsets[inside],
        np.broadcast_to(direction[:, None], inside.shape)[inside],
        sums[inside],
    )


def _directions(column: Any, layout: Layout) -> I64:
    encoded = pc.dictionary_encode(pc.cast(column, pa.string()))
    lookup = np.empty(len(encoded.dictionary), dtype=np.int64)
    for k, word in enumerate(encoded.dictionary.to_pylist()):
        key = word.strip().casefold()
        if key in layout.withdrawn_words:
            lookup[k] = WITHDRAWN
        elif key in layout.injected_words:
            lookup[k] = INJECTED
        else:
            raise _GiveUp
    return lookup[np.asarray(encoded.indices, dtype=np.int64)]


def _day(text: str, date_format: str, zone: ZoneInfo) -> tuple[int, int]:
    day = dt.datetime.strptime(text, date_format).date()  # ValueError: give up
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    seconds = int(start.timestamp())
    return seconds, (int(end.timestamp()) - seconds) // SECONDS_PER_HOUR


@dataclass
class LongColumns:
    """A long file's rows as columns: POD index, interval start and size, Wh both ways."""

    pod_names: list[str]
    pod: I64
    start: I64
    size: I64
    withdrawn: I64
    injected: I64


def long_columns(data: bytes, layout: Layout, pod: str | None = None) -> LongColumns | None:
    """The rows of a clean long file (one row per POD and interval), or None."""
    try:
        return _long_columns(data, layout, pod)
    except (_GiveUp, pa.ArrowInvalid, pa.ArrowTypeError, KeyError, ValueError):
        return None


def _long_columns(data: bytes, layout: Layout, pod: str | None) -> LongColumns | None:
    plain = layout.wh_per_unit == 1
    value_names = (str(layout.withdrawn_column), str(layout.injected_column))
    reader, skipped = _open(data, layout, value_names if plain else ())
    names = _names(reader)
    pods = _Pods()
    fixed = None
    if layout.pod_column is None:
        assert pod is not None
        pods.names, pods.index, fixed = [pod], {pod: 0}, 0
    length = (layout.interval_minutes or 0) * 60
    columns: list[list[I64]] = [[], [], [], [], []]
    known_times: dict[str, int] = {}
    for batch in reader:
        rows = batch.num_rows
        if not rows:
            continue
        pod_i = (
            np.full(rows, fixed, dtype=np.int64)
            if fixed is not None
            else pods.of(_text_column(batch, names, layout.pod_column))
        )
        seconds = _epoch_seconds(_text_column(batch, names, layout.time_column), known_times)
        if length:
            start = seconds - length if layout.stamp == "end" else seconds
            size = np.full(rows, length, dtype=np.int64)
        else:
            start = seconds
            size = np.where(seconds % SECONDS_PER_HOUR == 0, SECONDS_PER_HOUR, QUARTER)
        if (start % np.minimum(size, QUARTER)).any() or (length and (start % length).any()):
            raise _GiveUp
        if plain:  # whole Wh, read as integers by the CSV reader
            withdrawn = _integers(_text_column(batch, names, layout.withdrawn_column))
            injected = _integers(_text_column(batch, names, layout.injected_column))
        else:
            withdrawn, empty_w = wh_values(
                _text_column(batch, names, layout.withdrawn_column),
                layout.decimal,
                layout.wh_per_unit,
            )
            injected, empty_i = wh_values(
                _text_column(batch, names, layout.injected_column),
                layout.decimal,
                layout.wh_per_unit,
            )
            if empty_w.any() or empty_i.any():
                raise _GiveUp
        for column, values in zip(columns, (pod_i, start, size, withdrawn, injected), strict=True):
            column.append(values)
    if skipped or not columns[0]:
        return None
    pod_c, start_c, size_c, withdrawn_c, injected_c = (np.concatenate(c) for c in columns)
    return LongColumns(pods.names, pod_c, start_c, size_c, withdrawn_c, injected_c)


def _long(data: bytes, layout: Layout, name: str, pod: str | None) -> MeteredHours | None:
    rows = _long_columns(data, layout, pod)
    if rows is None:
        return None
    count = len(rows.pod)
    # both directions of a row side by side: a file in time order stays in order
    parts = [
        (
            np.repeat(rows.pod, 2),
            np.repeat(rows.start, 2),
            np.tile(np.array([WITHDRAWN, INJECTED], dtype=np.int64), count),
            np.stack([rows.withdrawn, rows.injected], axis=1).ravel(),
        )
    ]
    return _finish(
        name,
        rows.pod_names,
        parts,
        _Records(),
        2 * count,
        auto=not layout.interval_minutes,
        lengths=[np.repeat(rows.size, 2)],
    )


def _integers(column: Any) -> I64:
    """Whole Wh ≥ 0 read as int64 by the CSV reader (no empty cell)."""
    if column.null_count:
        raise _GiveUp
    values = np.asarray(column, dtype=np.int64)
    if (values < 0).any():
        raise _GiveUp
    return values


def _epoch_seconds(column: Any, known: dict[str, int]) -> I64:
    """Unix seconds of ISO 8601 times with offset (each distinct text parsed once)."""
    encoded = pc.dictionary_encode(pc.cast(column, pa.string()))
    lookup = np.empty(len(encoded.dictionary), dtype=np.int64)
    for k, stamp in enumerate(encoded.dictionary.to_pylist()):
        seconds = known.get(stamp)
        if seconds is None:
            moment = dt.datetime.fromisoformat(stamp.strip())  # ValueError: give up
            if moment.utcoffset() is None or moment.second or moment.microsecond:
                raise _GiveUp
            seconds = known[stamp] = int(moment.timestamp())
        lookup[k] = seconds
    return lookup[np.asarray(encoded.indices, dtype=np.int64)]


def _finish(
    name: str,
    pod_names: list[str],
    parts: list[tuple[I64, I64, I64, I64]],
    extra: _Records,
    values_read: int,
    *,
    auto: bool,
    lengths: list[I64] | None = None,
) -> MeteredHours | None:
    """Sum to hours with the exact reader's rules; None at any irregularity."""
    if not parts and not extra.pod:
        return None
    size = [
        *(lengths or [np.full(len(p[0]), SECONDS_PER_HOUR, dtype=np.int64) for p in parts]),
        np.asarray(extra.length, dtype=np.int64),
    ]
    records = _Records()
    columns = (
        np.concatenate([*(p[0] for p in parts), np.asarray(extra.pod, dtype=np.int64)]),
        np.concatenate([*(p[1] for p in parts), np.asarray(extra.start, dtype=np.int64)]),
        np.concatenate(size),
        np.concatenate([*(p[2] for p in parts), np.asarray(extra.direction, dtype=np.int64)]),
        np.concatenate([*(p[3] for p in parts), np.asarray(extra.wh, dtype=np.int64)]),
    )
    records.pod, records.start, records.length, records.direction, records.wh = columns  # type: ignore[assignment]
    records.line = np.zeros(len(columns[0]), dtype=np.int64)  # type: ignore[assignment]
    result = _empty(name, pod_names)
    result.values = values_read
    _to_hours(result, records, auto=auto)
    if result.error_count or result.warnings:
        return None
    result.fast = True
    return result
