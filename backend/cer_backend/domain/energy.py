"""Hourly energy of a community's connection points, as integer arrays.

One row per POD, one column per local hour of a :class:`~cer_backend.domain.period.Period`:
``injected`` and ``withdrawn`` in Wh (``int64``), and ``present``, True where the POD's hour
was read. A missing hour is *missing*, never zero: the engine settles on the readings present
and reports which PODs and hours were incomplete. Quarter-hours are summed to their hour on
construction, before any minimum is taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from .errors import InvalidInput, Problem
from .period import SECONDS_PER_HOUR, Period

Reading = tuple[str, dt.datetime, int, int]
"""A reading row: (pod, hour_start or quarter-hour start (aware), injected_wh, withdrawn_wh)."""

QUARTERS_PER_HOUR = 4
_QUARTER_SECONDS = SECONDS_PER_HOUR // QUARTERS_PER_HOUR


@dataclass(frozen=True, eq=False)
class HourlyEnergy:
    """Injected and withdrawn Wh per POD (rows, sorted by POD code) and hour of ``period``."""

    period: Period
    pods: tuple[str, ...]
    injected: npt.NDArray[np.int64]
    withdrawn: npt.NDArray[np.int64]
    present: npt.NDArray[np.bool_]

    def __post_init__(self) -> None:
        shape = (len(self.pods), self.period.hours)
        for name in ("injected", "withdrawn", "present"):
            array = getattr(self, name)
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
        if len(set(self.pods)) != len(self.pods):
            raise ValueError("duplicate POD in pods")

    @classmethod
    def from_arrays(
        cls,
        period: Period,
        pods: Sequence[str],
        injected: npt.ArrayLike,
        withdrawn: npt.ArrayLike,
        present: npt.ArrayLike | None = None,
    ) -> HourlyEnergy:
        """Build from PODs × hours arrays (``present`` defaults to all True).

        The rows are put in POD order, so two inputs that differ only in order are equal.
        """
        inj = np.asarray(injected, dtype=np.int64)
        wdr = np.asarray(withdrawn, dtype=np.int64)
        pres = (
            np.ones(inj.shape, dtype=np.bool_)
            if present is None
            else np.asarray(present, dtype=np.bool_)
        )
        if (inj < 0).any() or (wdr < 0).any():
            raise InvalidInput.single("readings", "energies must be ≥ 0 Wh")
        order = sorted(range(len(pods)), key=lambda i: pods[i])
        if order != list(range(len(pods))):
            idx = np.array(order, dtype=np.intp)
            inj, wdr, pres = inj[idx], wdr[idx], pres[idx]
        return cls(period, tuple(pods[i] for i in order), inj, wdr, pres)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Reading],
        period: Period,
        pods: Iterable[str] = (),
        *,
        labels: Sequence[str] | None = None,
    ) -> HourlyEnergy:
        """Build from reading rows; rows outside ``period`` are ignored.

        ``pods`` are PODs to include even without readings (all their hours missing). A row
        whose start is at :15, :30 or :45 makes its hour quarter-hourly: the four quarters are
        summed to the hour, and an hour with fewer than four quarters is summed but reported
        missing. Every problem (negative energy, a time without offset or not on a quarter, a
        duplicate row) is reported; ``labels[i]`` names row i in messages (``file.csv:12``).
        """
        problems: list[Problem] = []
        pod_names: list[str] = []
        seconds: list[int] = []
        injected: list[int] = []
        withdrawn: list[int] = []
        numbers: list[int] = []
        for n, (pod, moment, injected_wh, withdrawn_wh) in enumerate(rows):
            if moment.tzinfo is None or moment.utcoffset() is None:
                where = labels[n] if labels is not None else f"rows[{n}]"
                problems.append(Problem(where, f"{moment.isoformat()} has no UTC offset"))
                continue
            if moment.second or moment.microsecond:
                where = labels[n] if labels is not None else f"rows[{n}]"
                problems.append(
                    Problem(where, f"{moment.isoformat()} is not the start of an hour or quarter")
                )
                continue
            if not (_is_int(injected_wh) and _is_int(withdrawn_wh)):
                where = labels[n] if labels is not None else f"rows[{n}]"
                problems.append(Problem(where, "energies must be integer Wh"))
                continue
            pod_names.append(pod)
            seconds.append(int(moment.timestamp()))
            injected.append(int(injected_wh))
            withdrawn.append(int(withdrawn_wh))
            numbers.append(n)
        return cls.from_columns(
            period,
            pod_names,
            seconds,
            injected,
            withdrawn,
            pods=pods,
            labels=_relabel(labels, numbers),
            problems=problems,
        )

    @classmethod
    def from_columns(
        cls,
        period: Period,
        pod_names: Sequence[str],
        epoch_seconds: Sequence[int] | npt.NDArray[np.int64],
        injected: Sequence[int] | npt.NDArray[np.int64],
        withdrawn: Sequence[int] | npt.NDArray[np.int64],
        *,
        pods: Iterable[str] = (),
        labels: Sequence[str] | None = None,
        problems: list[Problem] | None = None,
    ) -> HourlyEnergy:
        """Build from columns of readings (start as Unix seconds), checked all at once.

        The same rules as :meth:`from_rows`; ``labels[i]`` names reading i in messages.
        """
        problems = list(problems or [])
        start = period.start_epoch_hour * SECONDS_PER_HOUR
        hours = period.hours
        count = len(pod_names)
        secs = np.asarray(epoch_seconds, dtype=np.int64).reshape(count) - start
        try:
            inj = np.asarray(injected, dtype=np.int64).reshape(count)
            wdr = np.asarray(withdrawn, dtype=np.int64).reshape(count)
        except OverflowError:
            inj = np.array([min(max(int(v), -1), MAX_WH + 1) for v in injected], dtype=np.int64)
            wdr = np.array([min(max(int(v), -1), MAX_WH + 1) for v in withdrawn], dtype=np.int64)

        def name(i: int) -> str:
            return labels[i] if labels is not None else f"rows[{i}]"

        misaligned = secs % _QUARTER_SECONDS != 0
        out_of_range = (inj < 0) | (wdr < 0) | (inj > MAX_WH) | (wdr > MAX_WH)
        for i in np.flatnonzero(misaligned | out_of_range)[:MAX_REPORTED].tolist():
            if misaligned[i]:
                moment = dt.datetime.fromtimestamp(int(secs[i]) + start, dt.UTC)
                problems.append(
                    Problem(name(i), f"{moment.isoformat()} is not the start of an hour or quarter")
                )
            else:
                problems.append(Problem(name(i), f"energies must be between 0 and {MAX_WH} Wh"))
        slot = secs // _QUARTER_SECONDS
        keep = (slot >= 0) & (slot < hours * QUARTERS_PER_HOUR) & ~misaligned & ~out_of_range
        kept = np.flatnonzero(keep)
        known = set(pods)
        names = [pod_names[i] for i in kept.tolist()] if kept.size != count else list(pod_names)
        known.update(names)
        sorted_pods = sorted(known)
        index = {pod: i for i, pod in enumerate(sorted_pods)}
        pod_idx = np.fromiter((index[p] for p in names), dtype=np.int64, count=len(names))
        slot_kept = slot[kept]
        key = pod_idx * (hours * QUARTERS_PER_HOUR) + slot_kept
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(np.diff(key[order]) == 0)
        for d in dup[:MAX_REPORTED].tolist():
            first, second = int(kept[order[d]]), int(kept[order[d + 1]])
            problems.append(
                Problem(
                    name(second), f"duplicate reading of {pod_names[second]} (also {name(first)})"
                )
            )
        if len(dup) > MAX_REPORTED:
            problems.append(
                Problem("readings", f"{len(dup) - MAX_REPORTED} more duplicate readings")
            )
        raise_if(problems)

        shape = (len(sorted_pods), hours)
        cell = pod_idx * hours + slot_kept // QUARTERS_PER_HOUR
        size = shape[0] * shape[1]
        inj_sum = np.zeros(size, dtype=np.int64)
        wdr_sum = np.zeros(size, dtype=np.int64)
        np.add.at(inj_sum, cell, inj[kept])
        np.add.at(wdr_sum, cell, wdr[kept])
        rows_per_cell = np.bincount(cell, minlength=size)
        quarter = np.bincount(cell, weights=(slot_kept % QUARTERS_PER_HOUR > 0), minlength=size)
        present = (rows_per_cell > 0) & ((quarter == 0) | (rows_per_cell == QUARTERS_PER_HOUR))
        return cls(
            period,
            tuple(sorted_pods),
            inj_sum.reshape(shape),
            wdr_sum.reshape(shape),
            present.reshape(shape),
        )

    def select(self, pods: Sequence[str]) -> HourlyEnergy:
        """The rows of ``pods`` (a POD without readings gets all hours missing)."""
        index = {pod: i for i, pod in enumerate(self.pods)}
        wanted = sorted(set(pods))
        inj = np.zeros((len(wanted), self.period.hours), dtype=np.int64)
        wdr = np.zeros_like(inj)
        pres = np.zeros(inj.shape, dtype=np.bool_)
        for row, pod in enumerate(wanted):
            i = index.get(pod)
            if i is not None:
                inj[row], wdr[row], pres[row] = self.injected[i], self.withdrawn[i], self.present[i]
        return HourlyEnergy(self.period, tuple(wanted), inj, wdr, pres)

    def missing_hours(self) -> dict[str, list[int]]:
        """For each POD with missing hours, the indices of those hours."""
        out: dict[str, list[int]] = {}
        for row in np.flatnonzero(~self.present.all(axis=1)).tolist():
            out[self.pods[row]] = np.flatnonzero(~self.present[row]).tolist()
        return out


MAX_REPORTED = 50
MAX_WH = 10**9
"""Largest energy of one reading (1 GWh): a bound that keeps every sum exact in ``int64``."""


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


class LazyLabels(Sequence[str]):
    """Labels of input rows for messages (``file:line``, ``rows[n]``), made only when asked.

    ``label(i)`` gives the label of the i-th kept row; a million rows cost no strings until a
    problem names one of them.
    """

    def __init__(self, count: int, label: Callable[[int], str]) -> None:
        self._count = count
        self._label = label

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._label(i) for i in range(self._count)[index]]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return self._label(index % self._count)


def _relabel(labels: Sequence[str] | None, numbers: list[int]) -> LazyLabels:
    """Labels of the kept rows: ``labels[numbers[i]]``, or ``rows[n]`` without labels."""
    if labels is None:
        return LazyLabels(len(numbers), lambda i: f"rows[{numbers[i]}]")
    return LazyLabels(len(numbers), lambda i: labels[numbers[i]])


def raise_if(problems: list[Problem]) -> None:
    """Raise :class:`InvalidInput` when ``problems`` is not empty."""
    if problems:
        raise InvalidInput(problems)
