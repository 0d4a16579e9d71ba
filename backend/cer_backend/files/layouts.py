"""Layouts of metered-data files (FORMATS.md "Metered data from the distributor"), as data.

A layout is a declarative description of a CSV export: the built-ins ``cer``, ``dso-wide`` and
``dso-long`` are the same kind of description as a layout YAML file, read by the same
:func:`parse_layout`; no vendor gets its own parser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ..domain.errors import InvalidInput, Problem
from .community import load_yaml

#: the layouts of FORMATS.md, written as a layout file would write them
BUILTIN_LAYOUTS: dict[str, dict[str, Any]] = {
    "cer": {
        "kind": "long",
        "delimiter": ",",
        "decimal": ".",
        "encoding": "auto",
        "pod_column": "pod",
        "interval_minutes": "auto",
        "time_column": "hour_start",
        "time_format": "iso",
        "stamp": "start",
        "value_columns": {"withdrawn": "withdrawn_wh", "injected": "injected_wh"},
        "unit": "Wh",
    },
    "dso-wide": {
        "kind": "wide",
        "delimiter": ";",
        "decimal": ",",
        "encoding": "auto",
        "pod_column": "POD",
        "interval_minutes": "auto",
        "date_column": "Data",
        "date_format": "%d/%m/%Y",
        "first_value_column": 4,
        "direction_column": "Grandezza",
        "withdrawn": ["Prelievo", "Prelevata"],
        "injected": ["Immissione", "Immessa"],
        "unit": "kWh",
    },
    "dso-long": {
        "kind": "long",
        "delimiter": ";",
        "decimal": ",",
        "encoding": "auto",
        "pod_column": "POD",
        "interval_minutes": 15,
        "time_column": "Fine intervallo",
        "time_format": "iso",
        "stamp": "end",
        "value_columns": {"withdrawn": "Prelievo kWh", "injected": "Immissione kWh"},
        "unit": "kWh",
    },
}

Kind = Literal["wide", "long"]
_KEYS = {
    "kind",
    "delimiter",
    "decimal",
    "encoding",
    "skip_rows",
    "pod_column",
    "interval_minutes",
    "date_column",
    "date_format",
    "first_value_column",
    "time_column",
    "time_format",
    "stamp",
    "direction_column",
    "withdrawn",
    "injected",
    "value_columns",
    "unit",
}
_ENCODINGS = {"utf-8", "utf-8-sig", "latin-1", "auto"}
#: offsets in a strptime format: with one, the autumn's repeated hour is unambiguous
_OFFSET_CODES = ("%z",)


@dataclass(frozen=True, slots=True)
class Layout:
    """How to read one kind of metered-data file; see FORMATS.md for each key."""

    name: str
    kind: Kind
    delimiter: str
    decimal: str
    encoding: str = "utf-8"
    skip_rows: int = 0
    pod_column: str | None = None
    #: 15 or 60; None ("auto"): quarter-hours or hours as the file has them
    interval_minutes: int | None = None
    date_column: str | None = None
    date_format: str = "%d/%m/%Y"
    #: a column name, or a 1-based position (the built-in dso-wide: the 4th column)
    first_value_column: str | int | None = None
    time_column: str | None = None
    #: ``iso`` (ISO 8601 with offset) or ``strptime`` codes with ``%z``
    time_format: str = "iso"
    stamp: str = "start"
    direction_column: str | None = None
    withdrawn_words: frozenset[str] = frozenset()
    injected_words: frozenset[str] = frozenset()
    withdrawn_column: str | None = None
    injected_column: str | None = None
    #: Wh in one value: 1000 for kWh, 1 for Wh
    wh_per_unit: int = 1000

    def with_stamp(self, stamp: str | None) -> Layout:
        """The layout with the interval stamp read as ``start`` or ``end``."""
        if stamp is None:
            return self
        if stamp not in ("start", "end"):
            raise InvalidInput.single("stamp", f"must be start or end, not {stamp!r}")
        return replace(self, stamp=stamp)


def builtin_layout(name: str) -> Layout:
    """One of the built-in layouts by name."""
    try:
        return parse_layout(BUILTIN_LAYOUTS[name], name)
    except KeyError:
        known = ", ".join(BUILTIN_LAYOUTS)
        raise InvalidInput.single(
            "layout", f"unknown layout {name!r}: use {known} or a layout YAML file"
        ) from None


def resolve_layout(name_or_path: str) -> Layout:
    """A built-in layout by name, or the layout YAML file at that path."""
    if name_or_path in BUILTIN_LAYOUTS:
        return builtin_layout(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return load_layout(Path(name_or_path))
    return builtin_layout(name_or_path)


def load_layout(path: Path) -> Layout:
    """Read a layout YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InvalidInput.single(str(path), "no such layout file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput.single(str(path), f"cannot read the layout file: {err}") from err
    return read_layout_text(text, str(path))


def read_layout_text(text: str, name: str) -> Layout:
    """Parse the text of a layout YAML file; problems name ``name``."""
    data = load_yaml(text, name)
    if not isinstance(data, Mapping):
        raise InvalidInput.single(name, "a layout file is a mapping of the keys of FORMATS.md")
    return parse_layout(data, name)


def _text(data: Mapping[str, Any], key: str, problems: list[Problem], name: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(Problem(f"{name}: {key}", "must be a non-empty text"))
        return None
    return value


def _words(value: Any, key: str, problems: list[Problem], name: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(Problem(f"{name}: {key}", "must be a list of texts"))
        return frozenset()
    return frozenset(v.strip().casefold() for v in value)


def parse_layout(data: Mapping[str, Any], name: str) -> Layout:
    """A :class:`Layout` from its description (a built-in or a YAML file); every problem named."""
    problems: list[Problem] = []
    for key in sorted(set(data) - _KEYS):
        problems.append(Problem(f"{name}: {key}", "unknown key"))
    kind = data.get("kind")
    if kind not in ("wide", "long"):
        problems.append(Problem(f"{name}: kind", "must be wide or long"))
    delimiter = data.get("delimiter")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.append(Problem(f"{name}: delimiter", "must be one character"))
    decimal = data.get("decimal")
    if decimal not in (",", "."):
        problems.append(Problem(f"{name}: decimal", "must be , or ."))
    encoding = str(data.get("encoding", "utf-8")).lower()
    if encoding not in _ENCODINGS:
        problems.append(Problem(f"{name}: encoding", "must be utf-8, utf-8-sig or latin-1"))
    skip_rows = data.get("skip_rows", 0)
    if not isinstance(skip_rows, int) or isinstance(skip_rows, bool) or skip_rows < 0:
        problems.append(Problem(f"{name}: skip_rows", "must be a whole number ≥ 0"))
        skip_rows = 0
    interval = data.get("interval_minutes", "auto")
    if interval not in (15, 60, "auto"):
        problems.append(Problem(f"{name}: interval_minutes", "must be 15 or 60"))
    unit = data.get("unit", "kWh")
    if unit not in ("kWh", "Wh"):
        problems.append(Problem(f"{name}: unit", "must be kWh or Wh"))
    pod_column = _text(data, "pod_column", problems, name)
    layout: dict[str, Any] = {}
    if kind == "wide":
        date_column = _text(data, "date_column", problems, name)
        if date_column is None:
            problems.append(Problem(f"{name}: date_column", "is required for a wide layout"))
        first = data.get("first_value_column")
        if not (isinstance(first, str) and first) and not (
            isinstance(first, int) and not isinstance(first, bool) and first >= 1
        ):
            problems.append(
                Problem(f"{name}: first_value_column", "a column name (or position) is required")
            )
        direction = _text(data, "direction_column", problems, name)
        if direction is None:
            problems.append(Problem(f"{name}: direction_column", "is required for a wide layout"))
        layout.update(
            date_column=date_column,
            date_format=_text(data, "date_format", problems, name) or "%d/%m/%Y",
            first_value_column=first,
            direction_column=direction,
            withdrawn_words=_words(data.get("withdrawn"), "withdrawn", problems, name),
            injected_words=_words(data.get("injected"), "injected", problems, name),
        )
        for key in ("time_column", "time_format", "stamp", "value_columns"):
            if key in data:
                problems.append(Problem(f"{name}: {key}", "is for long layouts"))
    elif kind == "long":
        time_column = _text(data, "time_column", problems, name)
        if time_column is None:
            problems.append(Problem(f"{name}: time_column", "is required for a long layout"))
        time_format = _text(data, "time_format", problems, name) or "iso"
        if time_format != "iso" and not any(code in time_format for code in _OFFSET_CODES):
            problems.append(
                Problem(
                    f"{name}: time_format",
                    "needs an offset (%z): local times without one are ambiguous in the"
                    " repeated hour of the autumn clock change (use a wide layout)",
                )
            )
        stamp = data.get("stamp", "start")
        if stamp not in ("start", "end"):
            problems.append(Problem(f"{name}: stamp", "must be start or end"))
        columns = data.get("value_columns")
        if (
            not isinstance(columns, Mapping)
            or set(columns) != {"withdrawn", "injected"}
            or not all(isinstance(v, str) and v for v in columns.values())
        ):
            problems.append(
                Problem(f"{name}: value_columns", "must name the withdrawn and injected columns")
            )
            columns = {"withdrawn": None, "injected": None}
        if interval == "auto" and stamp == "end":
            problems.append(
                Problem(f"{name}: interval_minutes", "must be 15 or 60 when stamps are ends")
            )
        layout.update(
            time_column=time_column,
            time_format=time_format,
            stamp=stamp,
            withdrawn_column=columns["withdrawn"],
            injected_column=columns["injected"],
        )
        for key in ("date_column", "first_value_column", "direction_column"):
            if key in data:
                problems.append(Problem(f"{name}: {key}", "is for wide layouts"))
    if problems:
        raise InvalidInput(problems)
    return Layout(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        delimiter=str(delimiter),
        decimal=str(decimal),
        encoding=encoding,
        skip_rows=skip_rows,
        pod_column=pod_column,
        interval_minutes=None if interval == "auto" else int(interval),
        wh_per_unit=1000 if unit == "kWh" else 1,
        **layout,
    )


def check_date_format(layout: Layout) -> None:
    """A wide layout's date format must read a date (strptime codes)."""
    try:
        dt.datetime.strptime(dt.date(2025, 6, 1).strftime(layout.date_format), layout.date_format)
    except ValueError as err:
        raise InvalidInput.single(
            f"{layout.name}: date_format", f"not a strptime format: {err}"
        ) from err
