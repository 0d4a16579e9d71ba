"""What a loaded entry holds (``entry.runtime_data``): typed runtime data of both kinds.

``ConfigEntry[T]`` exists only from Home Assistant 2024.6: the entry is not typed, and
:func:`.compat.get_runtime_data` returns ``Any`` that platforms narrow with ``isinstance``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alerts import AlertsCoordinator
from .coordinator import CommunityCoordinator, DeviceCoordinator, SiteCoordinator
from .uploader import SiteUploader


@dataclass(slots=True)
class SiteRuntimeData:
    """What a loaded site entry holds (``entry.runtime_data``)."""

    devices: dict[str, DeviceCoordinator]
    site: SiteCoordinator
    uploader: SiteUploader
    community: CommunityCoordinator
    site_device_id: str
    """Registry id of the site's device, parent of its meters and inverters."""


@dataclass(slots=True)
class CommunityRuntimeData:
    """What a loaded community entry holds (``entry.runtime_data``)."""

    community: CommunityCoordinator
    alerts: AlertsCoordinator | None = None
    """The backend's open alerts (``alerts.py``)."""
