"""Bounds every value must keep before it is stored or kept in memory (issue #12).

Each numeric field of the API has one bound that fits its column on both databases (SQLite
and PostgreSQL), and times stay within 2000–2100, so no value that passed validation can make
the database (or ``datetime`` arithmetic) fail. The same module holds the generic safety of
any JSON input: nesting depth, NUL characters and lone surrogates (which PostgreSQL or UTF-8
cannot store).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

#: a PostgreSQL ``bigint`` (SQLite integers are 64-bit too)
INT64_MAX: Final = 2**63 - 1
#: a PostgreSQL ``integer`` (token ids, ``samples``)
INT32_MAX: Final = 2**31 - 1
#: one sample a second is the most a closed hour can hold
MAX_SAMPLES: Final = 3600
#: default plausibility bound of any energy of one point in one hour (a community setting,
#: ``max_hour_wh``, may lower or raise it): 10 MWh
DEFAULT_MAX_HOUR_WH: Final = 10_000_000
#: power of one site's live snapshot (W): 1 GW, far above any CER site
MAX_POWER_W: Final = 1_000_000_000
#: times on the wire: from 2000 to 2100 (a CER exists since 2020; no offset can overflow)
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100
#: JSON nesting deeper than this is refused (the community file needs 5)
MAX_JSON_DEPTH: Final = 32


def year_in_range(moment: datetime) -> bool:
    """Whether a time on the wire is within 2000–2100 (checked before any time-zone shift)."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


def finite(value: Any) -> bool:
    """Whether a JSON number is finite (``1e999`` parses to infinity)."""
    return not isinstance(value, float) or math.isfinite(value)


def reject_constant(name: str) -> float:
    """``json.loads`` hook: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON."""
    raise ValueError(f"{name} is not a JSON number")


def unsafe_text(text: str) -> str | None:
    """Why a string cannot be stored (a NUL character or a lone surrogate), or None."""
    if "\x00" in text:
        return "must not contain the NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone surrogate (invalid Unicode)"
    return None


def unsafe_values(
    value: Any, path: str = "", depth: int = 0, skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """(field, message) for every part of a JSON value that cannot be stored safely.

    Too deep a nesting, NUL characters and lone surrogates (in keys too), integers beyond
    64 bits and non-finite numbers. ``skip`` names arrays whose items the handler checks one
    by one (a bad reading is refused alone, not the whole upload).
    """
    where = path or "body"
    if depth > MAX_JSON_DEPTH:
        yield where, f"is nested deeper than {MAX_JSON_DEPTH} levels"
        return
    if isinstance(value, str):
        problem = unsafe_text(value)
        if problem:
            yield where, problem
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            yield where, "is out of the 64-bit integer range"
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield where, "must be a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = unsafe_text(key)
            if problem:
                yield where, f"has a key that {problem.replace('must', 'does')}"
                continue
            yield from unsafe_values(item, _join(path, key), depth + 1, skip)
    elif isinstance(value, list):
        if path in skip:
            return
        for index, item in enumerate(value):
            yield from unsafe_values(item, f"{path}/{index}", depth + 1, skip)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name
