"""Issue #14 items 11 and 13 against the real backend: each site's share of the shared
energy in the summary the community entry reads, and the sites expected to report (only the
PODs that upload from a Home Assistant) in the live figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from custom_components.cer_community.api import CerApiClient

from .conftest import OTHER_POD, SITE_POD, Backend


def _reading(hour: datetime, injected: int, withdrawn: int) -> dict[str, object]:
    return {"hour_start": hour.isoformat(), "injected_wh": injected, "withdrawn_wh": withdrawn}


async def test_site_shares_and_sites_expected_from_the_real_backend(
    hass: HomeAssistant, backend: Backend
) -> None:
    other_token = backend.command(
        "token", "create", "--role", "site", "--community", backend.community_id,
        "--pod", OTHER_POD,
    )  # fmt: skip
    await hass.async_add_executor_job(backend.start)
    viewer = CerApiClient.from_hass(hass, backend.url, backend.viewer_token)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

    # the school's plant injects 5 kWh while the other school draws 3 kWh: 3 kWh shared
    school = CerApiClient.from_hass(hass, backend.url, backend.site_token)
    assert (await school.post_readings(SITE_POD, [_reading(hour, 5_000, 0)])).accepted == 1
    other = CerApiClient.from_hass(hass, backend.url, other_token)
    assert (await other.post_readings(OTHER_POD, [_reading(hour, 0, 3_000)])).accepted == 1

    live = await viewer.get_community_live()
    assert live.sites_expected == 2  # of the example's many PODs, two upload from a HA
    assert live.sites_total > 2 and live.sites_reporting == 0

    day = hour.astimezone(ZoneInfo("Europe/Rome")).strftime("%Y-%m-%d")
    summary = await viewer.get_community_summary(day)
    assert summary.shared_wh == 3_000
    shares = {site.pod: site for site in summary.sites}
    assert (shares[SITE_POD].shared_injected_wh, shares[SITE_POD].share_wh) == (3_000, 1_500)
    assert (shares[OTHER_POD].shared_withdrawn_wh, shares[OTHER_POD].share_wh) == (3_000, 1_500)
    assert sum(site.share_wh for site in summary.sites) == summary.shared_wh
    assert sum(site.share_estimated_eur for site in summary.sites) == summary.estimated_eur
