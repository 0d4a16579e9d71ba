"""Hourly energy of a community's connection points, as integer arrays.

One row per POD, one column per local hour of a :class:`~cer_backend.domain.period.Period`:
``injected`` and ``withdrawn`` in Wh (``int64``), and ``present``, True where the POD's hour
was read. A missing hour is *missing*, never zero: the engine settles on the readings present
and reports which PODs and hours were incomplete. Quarter-hours are summed to their hour on
construction, before any minimum is taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
        start = period.start_epoch_hour * SECONDS_PER_HOUR
        hours = period.hours
        problems: list[Problem] = []
        known: set[str] = set(pods)
        pod_names: list[str] = []
        slots: list[int] = []  # quarter-hours since the period's start
        injected: list[int] = []
        withdrawn: list[int] = []
        row_numbers: list[int] = []
        for n, (pod, moment, injected_wh, withdrawn_wh) in enumerate(rows):
            where = labels[n] if labels is not None else f"rows[{n}]"
            if moment.tzinfo is None or moment.utcoffset() is None:
                problems.append(Problem(where, f"{moment.isoformat()} has no UTC offset"))
                continue
            seconds = int(moment.timestamp()) - start
            if seconds % _QUARTER_SECONDS or moment.microsecond or moment.second:
                problems.append(
                    Problem(where, f"{moment.isoformat()} is not the start of an hour or quarter")
                )
                continue
            if not all(
                isinstance(v, int | np.integer) and not isinstance(v, bool)
                for v in (injected_wh, withdrawn_wh)
            ):
                problems.append(Problem(where, "energies must be integer Wh"))
                continue
            if not (0 <= injected_wh <= MAX_WH and 0 <= withdrawn_wh <= MAX_WH):
                problems.append(Problem(where, f"energies must be between 0 and {MAX_WH} Wh"))
                continue
            slot = seconds // _QUARTER_SECONDS
            if not 0 <= slot < hours * QUARTERS_PER_HOUR:
                continue
            known.add(pod)
            pod_names.append(pod)
            slots.append(slot)
            injected.append(int(injected_wh))
            withdrawn.append(int(withdrawn_wh))
            row_numbers.append(n)
        sorted_pods = sorted(known)
        index = {pod: i for i, pod in enumerate(sorted_pods)}
        shape = (len(sorted_pods), hours)
        pod_idx = np.fromiter((index[p] for p in pod_names), dtype=np.int64, count=len(pod_names))
        slot_arr = np.asarray(slots, dtype=np.int64)
        key = pod_idx * (hours * QUARTERS_PER_HOUR) + slot_arr
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(np.diff(key[order]) == 0)
        for d in dup[:50].tolist():
            first, second = row_numbers[int(order[d])], row_numbers[int(order[d + 1])]
            name = labels[second] if labels is not None else f"rows[{second}]"
            other = labels[first] if labels is not None else f"rows[{first}]"
            problems.append(
                Problem(name, f"duplicate reading of {pod_names[int(order[d])]} (also {other})")
            )
        if len(dup) > 50:
            problems.append(Problem("readings", f"{len(dup) - 50} more duplicate readings"))
        raise_if(problems)

        cell = pod_idx * hours + slot_arr // QUARTERS_PER_HOUR
        size = shape[0] * shape[1]
        inj = np.zeros(size, dtype=np.int64)
        wdr = np.zeros(size, dtype=np.int64)
        np.add.at(inj, cell, np.asarray(injected, dtype=np.int64))
        np.add.at(wdr, cell, np.asarray(withdrawn, dtype=np.int64))
        count = np.bincount(cell, minlength=size)
        quarter = np.bincount(cell, weights=(slot_arr % QUARTERS_PER_HOUR > 0), minlength=size)
        present = (count > 0) & ((quarter == 0) | (count == QUARTERS_PER_HOUR))
        return cls(
            period,
            tuple(sorted_pods),
            inj.reshape(shape),
            wdr.reshape(shape),
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


MAX_WH = 10**9
"""Largest energy of one reading (1 GWh): a bound that keeps every sum exact in ``int64``."""


def raise_if(problems: list[Problem]) -> None:
    """Raise :class:`InvalidInput` when ``problems`` is not empty."""
    if problems:
        raise InvalidInput(problems)
