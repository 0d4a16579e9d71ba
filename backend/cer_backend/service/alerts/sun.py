"""The sun's elevation over a community, from the ``astral`` astronomy library."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from astral import Observer
from astral.sun import elevation

SECONDS_PER_HOUR = 3600


def elevations(
    latitude: float, longitude: float, first_epoch_hour: int, count: int
) -> npt.NDArray[np.float64]:
    """Sun elevation (degrees, refraction included) at ``count`` whole hours from
    ``first_epoch_hour`` (hours since 1970-01-01 UTC)."""
    observer = Observer(latitude=latitude, longitude=longitude)
    return np.array(
        [
            elevation(
                observer,
                datetime.fromtimestamp((first_epoch_hour + i) * SECONDS_PER_HOUR, UTC),
            )
            for i in range(count)
        ],
        dtype=np.float64,
    )


def midpoint_elevations(
    latitude: float, longitude: float, first_epoch_hour: int, count: int
) -> npt.NDArray[np.float64]:
    """Sun elevation at the middle of each of ``count`` hours from ``first_epoch_hour``."""
    observer = Observer(latitude=latitude, longitude=longitude)
    return np.array(
        [
            elevation(
                observer,
                datetime.fromtimestamp(
                    (first_epoch_hour + i) * SECONDS_PER_HOUR + SECONDS_PER_HOUR // 2, UTC
                ),
            )
            for i in range(count)
        ],
        dtype=np.float64,
    )
