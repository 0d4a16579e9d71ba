"""Each site's part of the shared energy and estimated income in ``GET /community/summary``
(issue #14 item 11): both sides the settlement attributes to a POD, shares that add up
exactly to the community's totals, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import POD_FAMILY, POD_HOME, POD_PLANT, Api
from .test_settlement import store_june_prices, upload_june

pytestmark = pytest.mark.database


async def _summary(api: Api, period: str) -> dict:  # type: ignore[type-arg]
    status, body, _ = await api.call("GET", f"/community/summary?period={period}", "viewer_a")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("period", ["2025-06", "2025-06-02"])
async def test_the_sites_shares_add_up_to_the_community_figures(api: Api, period: str) -> None:
    await upload_june(api)
    await store_june_prices(api)
    summary = await _summary(api, period)
    sites = {site["pod"]: site for site in summary["sites"]}
    assert set(sites) == {POD_HOME, POD_PLANT, POD_FAMILY}
    shared = summary["shared_wh"]
    assert shared > 0
    # each side adds up to the shared energy: the one plant takes it all (first in) ...
    assert sum(s["shared_injected_wh"] for s in sites.values()) == shared
    assert sites[POD_PLANT]["shared_injected_wh"] == sites[POD_PLANT]["allocated_wh"]
    # ... and the withdrawals share it pro-rata (coincident withdrawal)
    assert sum(s["shared_withdrawn_wh"] for s in sites.values()) == shared
    assert sites[POD_HOME]["shared_withdrawn_wh"] == 0  # no readings: nothing shared
    # the shares: half of the two sides, whole Wh and cents adding up exactly
    assert sum(s["share_wh"] for s in sites.values()) == shared
    for site in sites.values():
        half = (site["shared_injected_wh"] + site["shared_withdrawn_wh"]) / 2
        assert abs(site["share_wh"] - half) <= 1
    money = [Decimal(s["share_estimated_eur"]) for s in sites.values()]
    assert all(m == m.quantize(Decimal("0.01")) for m in money)
    assert sum(money) == Decimal(summary["estimated_eur"])
    assert Decimal(sites[POD_HOME]["share_estimated_eur"]) == 0


async def test_the_withdrawal_side_of_a_member_is_its_coincident_withdrawal(api: Api) -> None:
    """The POD figures come from the same rule as the members' ``shared_wh`` (one rule)."""
    await upload_june(api)
    await store_june_prices(api)
    summary = await _summary(api, "2025-06")
    sites = {site["pod"]: site for site in summary["sites"]}
    members = {m["id"]: m for m in summary["members"]}
    comune = sites[POD_HOME]["shared_withdrawn_wh"] + sites[POD_PLANT]["shared_withdrawn_wh"]
    assert comune == members["comune"]["shared_wh"]
    assert sites[POD_FAMILY]["shared_withdrawn_wh"] == members["famiglia"]["shared_wh"]


async def test_no_shared_energy_means_no_share(api: Api) -> None:
    summary = await _summary(api, "2025-06")  # nothing uploaded
    assert summary["shared_wh"] == 0
    for site in summary["sites"]:
        assert site["share_wh"] == 0 and site["share_estimated_eur"] == "0.00"
