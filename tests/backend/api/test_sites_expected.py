"""``sites_expected`` in the community live figures (issue #14 item 13): only the PODs that
upload from a Home Assistant (an ``ha`` hour or a live figure in the ``site_silent`` alert's
``active_days``) are expected to report; households, whose hours come from the distributor,
never are. The same notion decides the ``site_silent`` alert (``domain.ha_sites``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from cer_backend.api.keys import ENGINE_KEY, LIVE_KEY
from cer_backend.models import Community

from ..metered.conftest import day_values, wide_file
from .conftest import POD_FAMILY, POD_HOME, POD_PLANT, Api

pytestmark = pytest.mark.database


def _hour(days_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.replace(minute=0, second=0, microsecond=0).isoformat()


async def _upload(api: Api, token: str, pod: str, days_ago: float) -> None:
    reading = {"hour_start": _hour(days_ago), "injected_wh": 10, "withdrawn_wh": 20}
    status, body, _ = await api.call(
        "POST", "/readings", token, json={"pod": pod, "readings": [reading]}
    )
    assert status == 200 and body["accepted"] == 1, body


async def _live(api: Api) -> dict:  # type: ignore[type-arg]
    api.server.app[LIVE_KEY].ha_sites.forget()  # read the last hours again (cached a minute)
    status, live, _ = await api.call("GET", "/community/live", "viewer_a")
    assert status == 200, live
    return live  # type: ignore[no-any-return]


async def test_only_home_assistant_sites_are_expected_to_report(api: Api) -> None:
    live = await _live(api)
    assert (live["sites_expected"], live["sites_reporting"], live["sites_total"]) == (0, 0, 3)

    # the distributor's hours of a household: still not expected
    yesterday = (datetime.now(UTC) - timedelta(days=2)).strftime("%d/%m/%Y")
    dso = wide_file([(POD_HOME, yesterday, "Prelievo", day_values(yesterday, "0,125"))])
    path = f"/communities/{api.community_a}/readings/import?layout=dso-wide"
    status, body, _ = await api.call("POST", path, "admin_a", data=dso)
    assert status == 200 and body["hours"]["new"] >= 23, body
    assert (await _live(api))["sites_expected"] == 0

    # an hour from a Home Assistant 20 days ago is too old; 2 days ago counts
    await _upload(api, "site_plant", POD_PLANT, 20)
    assert (await _live(api))["sites_expected"] == 0
    await _upload(api, "site_plant", POD_PLANT, 2)
    live = await _live(api)
    assert (live["sites_expected"], live["sites_reporting"]) == (1, 0)

    # a live figure alone makes a site expected, and reporting
    now = datetime.now(UTC).replace(microsecond=0)
    figure = {
        "pod": POD_FAMILY,
        "ts": now.isoformat(),
        "injection_w": 0,
        "withdrawal_w": 500.0,
        "hour_injected_wh": 0,
        "hour_withdrawn_wh": 100,
    }
    status, answered, _ = await api.call("POST", "/live", "site_family", json=figure)
    assert status == 200
    assert (answered["sites_expected"], answered["sites_reporting"]) == (2, 1)
    # every role sees it
    status, viewed, _ = await api.call("GET", "/community/live", "site_plant")
    assert status == 200 and viewed["sites_expected"] == 2


async def test_the_window_is_the_site_silent_alerts_active_days(api: Api) -> None:
    await _upload(api, "site_plant", POD_PLANT, 20)
    assert (await _live(api))["sites_expected"] == 0
    settings = {"alerts": {"site_silent": {"active_days": 30}}}
    async with api.server.app[ENGINE_KEY].begin() as connection:
        await connection.execute(
            update(Community)
            .where(Community.community_id == api.community_a)
            .values(settings=settings)
        )
    assert (await _live(api))["sites_expected"] == 1


async def test_the_last_hours_are_read_at_most_once_a_minute(api: Api) -> None:
    assert (await _live(api))["sites_expected"] == 0
    await _upload(api, "site_plant", POD_PLANT, 1)
    status, live, _ = await api.call("GET", "/community/live", "viewer_a")
    assert status == 200 and live["sites_expected"] == 0  # cached
    assert (await _live(api))["sites_expected"] == 1
