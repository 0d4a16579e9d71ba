"""Settlement periods: a year, a month or a day of local (Europe/Rome) hours."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from .errors import InvalidInput

DEFAULT_TIMEZONE = "Europe/Rome"
SECONDS_PER_HOUR = 3600

PeriodKind = Literal["year", "month", "day", "range"]
_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    ("year", re.compile(r"(\d{4})")),
    ("month", re.compile(r"(\d{4})-(\d{2})")),
    ("day", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
)


def epoch_hour(moment: dt.datetime) -> int:
    """Hours since 1970-01-01T00:00Z of an aware datetime, rounded down."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset")
    return int(moment.timestamp()) // SECONDS_PER_HOUR


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; InvalidInput when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidInput.single("timezone", f"unknown time zone {name!r}") from err


@dataclass(frozen=True)
class Period:
    """A settlement period of whole local days: ``2025``, ``2025-06`` or ``2025-06-01``.

    Its hours are the local hours of the time zone (23 on the spring clock change, 25 in
    autumn), numbered 0…``hours``−1 from ``start_utc``. UTC hours and local hours share their
    boundaries (Italy's offsets are whole hours), so an hour is identified by its UTC start.
    """

    kind: PeriodKind
    first_day: dt.date
    end_day: dt.date  # first local day after the period
    timezone: str = DEFAULT_TIMEZONE
    label: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str, timezone: str = DEFAULT_TIMEZONE) -> Period:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        text = str(text).strip()
        for kind, pattern in _PATTERNS:
            match = pattern.fullmatch(text)
            if not match:
                continue
            numbers = [int(g) for g in match.groups()]
            try:
                if kind == "year":
                    first = dt.date(numbers[0], 1, 1)
                    end = dt.date(numbers[0] + 1, 1, 1)
                elif kind == "month":
                    first = dt.date(numbers[0], numbers[1], 1)
                    end = next_month(first)
                else:
                    first = dt.date(numbers[0], numbers[1], numbers[2])
                    end = first + dt.timedelta(days=1)
            except (ValueError, OverflowError) as err:
                raise InvalidInput.single("period", f"{text!r} is not a valid date") from err
            zone(timezone)
            return cls(kind, first, end, timezone, label=text)
        raise InvalidInput.single(
            "period", f"{text!r} is not a period: use YYYY, YYYY-MM or YYYY-MM-DD"
        )

    @classmethod
    def between(
        cls, first_day: dt.date, end_day: dt.date, timezone: str = DEFAULT_TIMEZONE
    ) -> Period:
        """The local days ``first_day`` … ``end_day`` (exclusive)."""
        if end_day <= first_day:
            raise InvalidInput.single("period", "must end after it starts")
        zone(timezone)
        label = f"{first_day.isoformat()}..{(end_day - dt.timedelta(days=1)).isoformat()}"
        return cls("range", first_day, end_day, timezone, label=label)

    def __str__(self) -> str:
        return self.label or self.first_day.isoformat()

    @property
    def tz(self) -> ZoneInfo:
        """The time zone of the local hours."""
        return ZoneInfo(self.timezone)

    def local_midnight(self, day: dt.date) -> dt.datetime:
        """The aware local start of ``day``."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz)

    @cached_property
    def start_utc(self) -> dt.datetime:
        """Start of the first hour, in UTC."""
        return self.local_midnight(self.first_day).astimezone(dt.UTC)

    @cached_property
    def end_utc(self) -> dt.datetime:
        """End of the last hour (exclusive), in UTC."""
        return self.local_midnight(self.end_day).astimezone(dt.UTC)

    @cached_property
    def start_epoch_hour(self) -> int:
        """``epoch_hour`` of the first hour."""
        return epoch_hour(self.start_utc)

    @cached_property
    def hours(self) -> int:
        """Number of calendar hours (745 for October 2025, 8760 for 2025)."""
        return epoch_hour(self.end_utc) - self.start_epoch_hour

    @cached_property
    def days(self) -> list[dt.date]:
        """The local days of the period."""
        count = (self.end_day - self.first_day).days
        return [self.first_day + dt.timedelta(days=i) for i in range(count)]

    def days_between(self, first: dt.date | None, end: dt.date | None) -> int:
        """How many local days of the period are in [``first``, ``end``) (None: open)."""
        a = self.first_day if first is None else min(max(first, self.first_day), self.end_day)
        b = self.end_day if end is None else min(max(end, self.first_day), self.end_day)
        return max(0, (b - a).days)

    def hour_index(self, day: dt.date) -> int:
        """Index of the first hour of local ``day`` (clamped to the period's bounds)."""
        day = min(max(day, self.first_day), self.end_day)
        return int(self.day_starts[(day - self.first_day).days])

    @cached_property
    def day_starts(self) -> npt.NDArray[np.int64]:
        """Index of the first hour of each local day, plus ``hours`` at the end."""
        start = self.start_epoch_hour
        return np.array(
            [epoch_hour(self.local_midnight(d)) - start for d in [*self.days, self.end_day]],
            dtype=np.int64,
        )

    @cached_property
    def months(self) -> list[str]:
        """The months (``YYYY-MM``) the period touches."""
        out: list[str] = []
        for day in self.days:
            key = f"{day.year:04d}-{day.month:02d}"
            if not out or out[-1] != key:
                out.append(key)
        return out

    @cached_property
    def month_starts(self) -> npt.NDArray[np.int64]:
        """Index of the first hour of each month in ``months`` (for ``np.add.reduceat``)."""
        starts = [self.hour_index(dt.date(int(m[:4]), int(m[5:]), 1)) for m in self.months]
        return np.array(starts, dtype=np.int64)

    @cached_property
    def month_of_hour(self) -> npt.NDArray[np.int64]:
        """For each hour, the index of its month in ``months``."""
        bounds = [*self.month_starts.tolist(), self.hours]
        return np.repeat(np.arange(len(self.months)), np.diff(bounds)).astype(np.int64)

    def hour_start(self, index: int) -> dt.datetime:
        """Aware local start of hour ``index``."""
        moment = self.start_utc + dt.timedelta(hours=index)
        return moment.astimezone(self.tz)


def next_month(day: dt.date) -> dt.date:
    """First day of the month after ``day``'s."""
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus ``years`` calendar years (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
