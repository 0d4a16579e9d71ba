"""Shared energy across the sites configured in this Home Assistant, without a backend.

Every site entry registers its hour-so-far source (:meth:`LocalCommunity.register`, done by
:class:`~.uploader.SiteUploader`); :meth:`LocalCommunity.figures` answers the community's
figures of the current hour in the same shape the backend's ``/community/live`` has
(:class:`~.api.CommunityLive`), so the same sensors show either:

- shared energy (*energia condivisa*) = min(sum of injected, sum of withdrawn) this hour;
- surplus power now = sum of injection - sum of withdrawal (negative: the community draws
  more than it injects), signed as the backend's ``surplus_w``;
- sites reporting: sites that polled their devices recently, of the sites expected (all the
  sites of this Home Assistant).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .accounting import HourFigures
from .api import CommunityLive
from .const import DOMAIN
from .listeners import Listeners

DATA_LOCAL_COMMUNITY = f"{DOMAIN}_local_community"

HourSource = Callable[[datetime], HourFigures]


class LocalCommunity:
    """The sites of this Home Assistant as one community."""

    def __init__(self) -> None:
        self._sites: dict[str, HourSource] = {}
        self._listeners = Listeners()

    @callback
    def register(self, entry_id: str, source: HourSource) -> Callable[[], None]:
        """Add a site (its ``hour_so_far``); answers the function that removes it."""
        self._sites[entry_id] = source
        self.async_notify()

        @callback
        def unregister() -> None:
            if self._sites.get(entry_id) is source:
                del self._sites[entry_id]
                self.async_notify()

        return unregister

    @property
    def site_ids(self) -> list[str]:
        """Entry ids of the registered sites."""
        return list(self._sites)

    def figures(self, now: datetime | None = None) -> CommunityLive:
        """The community's figures of the hour that contains ``now``."""
        now = now or dt_util.utcnow()
        hours = [source(now) for source in self._sites.values()]
        injected = sum(h.injected_wh for h in hours)
        withdrawn = sum(h.withdrawn_wh for h in hours)
        reporting = [h for h in hours if h.injection_w is not None]
        injection_w = sum(h.injection_w or 0.0 for h in reporting)
        withdrawal_w = sum(h.withdrawal_w or 0.0 for h in reporting)
        return CommunityLive(
            hour_start=hours[0].hour_start if hours else None,
            injected_wh=round(injected),
            withdrawn_wh=round(withdrawn),
            shared_wh=round(min(injected, withdrawn)),
            surplus_w=injection_w - withdrawal_w,
            sites_reporting=len(reporting),
            sites_total=len(hours),
            tip_estimate_eur_mwh=None,
            sites_expected=len(hours),  # every site here uploads from this Home Assistant
        )

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` whenever a site recorded a poll; answers the unsubscribe."""
        return self._listeners.add(update)

    @callback
    def async_notify(self) -> None:
        """Tell the listeners that the figures changed."""
        self._listeners.notify()


@callback
def async_get_local_community(hass: HomeAssistant) -> LocalCommunity:
    """The one :class:`LocalCommunity` of this Home Assistant."""
    community: LocalCommunity | None = hass.data.get(DATA_LOCAL_COMMUNITY)
    if community is None:
        community = hass.data[DATA_LOCAL_COMMUNITY] = LocalCommunity()
    return community
