"""Which PODs upload from a Home Assistant: one definition for the ``site_silent`` alert
(issue #15) and the live figures' "sites expected to report" (issue #14 item 13).

Households never have a Home Assistant: their hours come from the distributor weeks later.
A POD is a Home Assistant site when, in the ``active_days`` days before a moment, it sent an
hour from one (a reading of source ``ha``) or a live figure; only those are expected to report,
and only those can go silent. ``active_days`` is the ``site_silent`` threshold of the community
(``settings.alerts.site_silent.active_days``, default 14 in ``alert_thresholds``).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def uploads_from_home_assistant(
    last_ha_hour_end: datetime | None,
    last_live: datetime | None,
    at: datetime,
    active_days: int,
) -> bool:
    """Whether a POD whose last Home Assistant hour ended at ``last_ha_hour_end`` and whose last
    live figure is ``last_live`` (either ``None`` when there is none) uploaded from a Home
    Assistant in the ``active_days`` days before ``at``."""
    since = at - timedelta(days=active_days)
    return any(moment is not None and moment > since for moment in (last_ha_hour_end, last_live))
