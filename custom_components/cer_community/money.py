"""Money on the staff dashboard: today's and this month's shared energy and estimated income,
and each site's share of the month.

The community entry reads them from the backend's ``GET /community/summary`` (the settlement
engine's own figures: TIP + valorisation, exact decimals), for the local day and month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .api import CerApiClient, SiteShare
from .backend_errors import backend_update
from .compat import coordinator_entry_kwargs
from .const import LOGGER

#: The summary is a settlement of the period so far: every 10 minutes is plenty.
MONEY_SCAN_INTERVAL: Final = timedelta(minutes=10)
WH_PER_MWH: Final = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class CommunityMoney:
    """Today's and this month's figures of the community."""

    day_start: datetime
    month_start: datetime
    today_shared_wh: int
    today_estimated_eur: Decimal
    month_shared_wh: int
    month_estimated_eur: Decimal
    month_tip_eur: Decimal
    month_sites: Mapping[str, SiteShare] = field(default_factory=dict)
    """Each site's share of the month (by POD)."""

    @property
    def month_average_tip_eur_mwh(self) -> Decimal | None:
        """The month's TIP per MWh shared (``None`` before any energy is shared)."""
        if self.month_shared_wh <= 0:
            return None
        return self.month_tip_eur * WH_PER_MWH / self.month_shared_wh


class MoneyCoordinator(DataUpdateCoordinator[CommunityMoney]):
    """Reads the community summary of the local day and month."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: CerApiClient) -> None:
        """Poll ``client`` every :data:`MONEY_SCAN_INTERVAL`."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{entry.title} money",
            update_interval=MONEY_SCAN_INTERVAL,
            **coordinator_entry_kwargs(entry),
        )
        self.entry = entry
        self._client = client

    @backend_update("the community summary")
    async def _async_update_data(self) -> CommunityMoney:
        now = dt_util.now()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month_start = day_start.replace(day=1)
        today = await self._client.get_community_summary(day_start.strftime("%Y-%m-%d"))
        month = await self._client.get_community_summary(day_start.strftime("%Y-%m"))
        return CommunityMoney(
            day_start=day_start,
            month_start=month_start,
            today_shared_wh=today.shared_wh,
            today_estimated_eur=today.estimated_eur,
            month_shared_wh=month.shared_wh,
            month_estimated_eur=month.estimated_eur,
            month_tip_eur=month.tip_eur,
            month_sites={site.pod: site for site in month.sites},
        )
