"""A site's Home Assistant reports an unavailable device in its live figures; the real
backend keeps it and ``alerts check`` raises ``site_silent`` for the site's POD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant

from custom_components.cer_community.api import CerApiClient, LiveReading

from .conftest import SITE_POD, Backend


async def test_an_unavailable_device_reaches_the_site_silent_alert(
    hass: HomeAssistant, backend: Backend
) -> None:
    await hass.async_add_executor_job(backend.start)
    site = CerApiClient.from_hass(hass, backend.url, backend.site_token)
    now = datetime.now(UTC).replace(microsecond=0)
    for ts in (now - timedelta(minutes=70), now - timedelta(minutes=1)):
        live = LiveReading(SITE_POD, ts, 0.0, 800.0, 0, 300, ("Inverter tetto",))
        await site.post_live(live)
    answer = await hass.async_add_executor_job(
        backend.command_json,
        "alerts",
        "check",
        "--community",
        backend.community_id,
        "--dry-run",
        "--json",
    )
    alerts = {a["cause"]: a for a in answer["alerts"]}
    alert = alerts[f"site_silent:{SITE_POD}"]
    assert alert["details"]["devices"] == "Inverter tetto"
