"""Hourly zonal prices (Pz) of the day-ahead market (MGP), exact.

Prices are kept as integers in micro-euro per MWh (1e-6 €/MWh, GME publishes at most six
decimals), per market zone and hour. Since 1 October 2025 the MGP runs on 15-minute periods:
the hourly Pz is then the mean of the four quarter-hours (GSE-RULES §7, OPEN: the rule is a
setting, ``quarter_hours="mean"``; the mean is rounded half-up to 1e-6 €/MWh).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from .errors import InvalidInput, Problem
from .period import SECONDS_PER_HOUR, Period

PriceRow = tuple[str, dt.datetime, Decimal]
"""(zone, hour or quarter-hour start (aware), €/MWh)."""

QuarterHourRule = Literal["mean", "reject"]
QUARTER_HOUR_RULES: Final = ("mean", "reject")

MICRO: Final = Decimal("0.000001")
MICRO_PER_EUR: Final = 1_000_000
MAX_ABS_EUR_MWH: Final = Decimal(100_000)
_QUARTER_SECONDS: Final = SECONDS_PER_HOUR // 4


def to_micro(eur_mwh: Decimal) -> int:
    """€/MWh → integer micro-€/MWh, rounded half-up beyond six decimals."""
    return int((eur_mwh / MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_micro(micro: int) -> Decimal:
    """Integer micro-€/MWh → €/MWh."""
    return Decimal(micro) * MICRO


@dataclass(frozen=True, eq=False)
class HourlyPrices:
    """Pz per market zone and hour: ``values[zone][epoch_hour]`` in micro-€/MWh."""

    values: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    quarter_hours: QuarterHourRule = "mean"

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[PriceRow],
        *,
        quarter_hours: QuarterHourRule = "mean",
        labels: Sequence[str] | None = None,
    ) -> HourlyPrices:
        """Build from rows; rows at :15, :30, :45 make their hour quarter-hourly.

        A quarter-hourly hour needs its four quarters (their mean is the hourly Pz under
        ``quarter_hours="mean"``; ``"reject"`` refuses quarter-hour prices). A repeated
        zone/time is an error. Every problem is reported; ``labels[i]`` names row i.
        """
        problems: list[Problem] = []
        cells: dict[tuple[str, int], dict[int, tuple[int, str]]] = {}
        for n, (zone_name, moment, eur_mwh) in enumerate(rows):
            where = labels[n] if labels is not None else f"rows[{n}]"
            if moment.tzinfo is None or moment.utcoffset() is None:
                problems.append(Problem(where, f"{moment.isoformat()} has no UTC offset"))
                continue
            seconds = int(moment.timestamp())
            if seconds % _QUARTER_SECONDS or moment.second or moment.microsecond:
                problems.append(
                    Problem(where, f"{moment.isoformat()} is not the start of an hour or quarter")
                )
                continue
            try:
                price = Decimal(eur_mwh)
            except (InvalidOperation, TypeError, ValueError):
                problems.append(Problem(where, f"price {eur_mwh!r} is not a number"))
                continue
            if not price.is_finite() or abs(price) > MAX_ABS_EUR_MWH:
                problems.append(Problem(where, f"price {eur_mwh} €/MWh is out of range"))
                continue
            hour, quarter = divmod(seconds, SECONDS_PER_HOUR)
            quarters = cells.setdefault((zone_name, hour), {})
            index = quarter // _QUARTER_SECONDS
            if index in quarters:
                problems.append(
                    Problem(
                        where,
                        f"second price for {zone_name} at {moment.isoformat()} "
                        f"(first: {quarters[index][1]})",
                    )
                )
                continue
            quarters[index] = (to_micro(price), where)

        values: dict[str, dict[int, int]] = {}
        for (zone_name, hour), quarters in sorted(cells.items()):
            if set(quarters) == {0}:
                values.setdefault(zone_name, {})[hour] = quarters[0][0]
                continue
            where = min(w for _, w in quarters.values())
            moment = dt.datetime.fromtimestamp(hour * SECONDS_PER_HOUR, dt.UTC)
            if quarter_hours == "reject":
                problems.append(
                    Problem(where, "quarter-hour prices are refused (quarter_hours=reject)")
                )
                continue
            if len(quarters) != 4:
                problems.append(
                    Problem(
                        where,
                        f"{zone_name} hour starting {moment.isoformat()} has "
                        f"{len(quarters)} of 4 quarter-hour prices",
                    )
                )
                continue
            total = sum(v for v, _ in quarters.values())
            values.setdefault(zone_name, {})[hour] = to_micro(Decimal(total) * MICRO / 4)
        if problems:
            raise InvalidInput(problems)
        return cls(values, quarter_hours)

    @property
    def zones(self) -> list[str]:
        """The zones with at least one price."""
        return sorted(self.values)

    def __len__(self) -> int:
        return sum(len(v) for v in self.values.values())

    def __iter__(self) -> Iterator[PriceRow]:
        """Iterating gives :meth:`rows`."""
        return self.rows()

    def eur_mwh(self, zone: str, hour_start: dt.datetime) -> Decimal | None:
        """Pz of ``zone`` in the hour starting at ``hour_start``, or None."""
        micro = self.values.get(zone, {}).get(int(hour_start.timestamp()) // SECONDS_PER_HOUR)
        return None if micro is None else from_micro(micro)

    def rows(self) -> Iterator[PriceRow]:
        """Every hourly price as (zone, UTC hour start, €/MWh), sorted."""
        for zone_name in self.zones:
            for hour, micro in sorted(self.values[zone_name].items()):
                yield (
                    zone_name,
                    dt.datetime.fromtimestamp(hour * SECONDS_PER_HOUR, dt.UTC),
                    from_micro(micro),
                )

    def series(
        self, zone: str, period: Period
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Pz of ``zone`` for each hour of ``period`` (micro-€/MWh) and where it is known."""
        start = period.start_epoch_hour
        values = np.zeros(period.hours, dtype=np.int64)
        present = np.zeros(period.hours, dtype=np.bool_)
        series = self.values.get(zone, {})
        hours = np.fromiter(series.keys(), dtype=np.int64, count=len(series)) - start
        micro = np.fromiter(series.values(), dtype=np.int64, count=len(series))
        inside = (hours >= 0) & (hours < period.hours)
        values[hours[inside]] = micro[inside]
        present[hours[inside]] = True
        return values, present
