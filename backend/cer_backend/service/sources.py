"""Which source of a POD-hour a settlement uses: the highest-ranked one present.

Several sources of the same POD and hour are all stored (``readings.source``); a run takes,
per POD and hour, the first of the community's ranking that has the hour (default
``dso > ha > manual > estimate``: the distributor's meter is what the GSE settles on) and
reports how many POD-hours came from each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..models import READING_SOURCES

#: the default ranking, best first (a community setting: ``settings.reading_sources``)
DEFAULT_RANKING: tuple[str, ...] = READING_SOURCES
#: the community-file setting that overrides the ranking
RANKING_SETTING = "reading_sources"


def source_ranking(document: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The ranking of a community (its ``settings.reading_sources``, else the default).

    Sources the setting leaves out keep their default order after the named ones, so every
    stored hour can still be used.
    """
    settings = (document or {}).get("settings") or {}
    named = settings.get(RANKING_SETTING) if isinstance(settings, Mapping) else None
    if not named:
        return DEFAULT_RANKING
    first = [str(s) for s in named if str(s) in READING_SOURCES]
    return tuple(dict.fromkeys([*first, *DEFAULT_RANKING]))


@dataclass(frozen=True, slots=True)
class RankedHours:
    """PODs × hours of the chosen source: values, presence and which source (index)."""

    injected: npt.NDArray[np.int64]
    withdrawn: npt.NDArray[np.int64]
    present: npt.NDArray[np.bool_]
    #: index into ``READING_SOURCES`` of the source used; -1 where no source has the hour
    chosen: npt.NDArray[np.int8]
    #: PODs × sources: hours each source has, whether chosen or not
    available: npt.NDArray[np.int64]

    def by_source(self) -> dict[str, int]:
        """POD-hours used from each source (``readings_by_source``), every source named."""
        counts = np.bincount(self.chosen[self.chosen >= 0].ravel(), minlength=len(READING_SOURCES))
        return {name: int(counts[i]) for i, name in enumerate(READING_SOURCES)}


def rank_rows(
    shape: tuple[int, int],
    *,
    pod: npt.NDArray[np.int64],
    hour: npt.NDArray[np.int64],
    source: npt.NDArray[np.int64],
    injected: npt.NDArray[np.int64],
    withdrawn: npt.NDArray[np.int64],
    ranking: Sequence[str],
) -> RankedHours:
    """Choose, per cell, the row of the best-ranked source (rows of every source mixed)."""
    rank_of = np.full(len(READING_SOURCES), len(READING_SOURCES), dtype=np.int64)
    for position, name in enumerate(ranking):
        rank_of[READING_SOURCES.index(name)] = position
    cell = pod * shape[1] + hour
    order = np.lexsort((rank_of[source], cell))
    sorted_cells = cell[order]
    first = np.ones(len(order), dtype=np.bool_)
    first[1:] = sorted_cells[1:] != sorted_cells[:-1]
    best = order[first]
    size = shape[0] * shape[1]
    inj = np.zeros(size, dtype=np.int64)
    wdr = np.zeros(size, dtype=np.int64)
    present = np.zeros(size, dtype=np.bool_)
    chosen = np.full(size, -1, dtype=np.int8)
    target = cell[best]
    inj[target] = injected[best]
    wdr[target] = withdrawn[best]
    present[target] = True
    chosen[target] = source[best]
    available = np.zeros((shape[0], len(READING_SOURCES)), dtype=np.int64)
    np.add.at(available, (pod, source), 1)
    return RankedHours(
        inj.reshape(shape),
        wdr.reshape(shape),
        present.reshape(shape),
        chosen.reshape(shape),
        available,
    )


def source_index(names: Sequence[str]) -> npt.NDArray[np.int64]:
    """The ``READING_SOURCES`` index of each source name."""
    lookup = {name: i for i, name in enumerate(READING_SOURCES)}
    return np.fromiter((lookup[n] for n in names), dtype=np.int64, count=len(names))
