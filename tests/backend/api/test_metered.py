"""The import, status and comparison of metered data over HTTP (a real server)."""

from __future__ import annotations

import aiohttp
import pytest

from ..metered.conftest import day_values, wide_file
from .conftest import POD_FAMILY, POD_HOME, Api

pytestmark = pytest.mark.database

GOOD = wide_file(
    [
        (POD_HOME, "01/06/2025", "Prelievo", day_values("01/06/2025", "0,125")),
        (POD_HOME, "01/06/2025", "Immissione", day_values("01/06/2025", "0")),
    ]
)
BAD = wide_file([("IT001E99999999", "01/06/2025", "Prelievo", day_values("01/06/2025"))])


async def test_http_import_dry_run_then_apply_then_status(api: Api) -> None:
    path = f"/communities/{api.community_a}/readings/import"
    status, body, _ = await api.call(
        "POST", f"{path}?layout=dso-wide&dry_run=true&filename=g.csv", "admin_a", data=GOOD
    )
    assert status == 200, body
    assert body["hours"] == {"new": 24, "unchanged": 0, "replaced": 0}
    assert body["dry_run"] is True and body["file"] == "g.csv" and body["source"] == "dso"
    status, body, _ = await api.call("POST", f"{path}?layout=dso-wide", "admin_a", data=GOOD)
    assert status == 200 and body["hours"]["new"] == 24
    status, body, _ = await api.call("POST", f"{path}?layout=dso-wide", "admin_a", data=GOOD)
    assert body["hours"] == {"new": 0, "unchanged": 24, "replaced": 0}
    status, report, _ = await api.call(
        "GET", f"/communities/{api.community_a}/readings/status?period=2025-06", "viewer_a"
    )
    assert status == 200
    home = next(p for p in report["pods"] if p["pod"] == POD_HOME)
    assert home["by_source"] == {"dso": 24}
    assert home["missing_ranges"] == ["2025-06-02T00:00+02:00/2025-07-01T00:00+02:00"]
    status, compared, _ = await api.call(
        "GET", f"/communities/{api.community_a}/readings/compare?period=2025-06", "admin_a"
    )
    assert status == 200 and compared["pods"] == []


async def test_http_errors_are_422_with_every_message_and_roles_are_checked(api: Api) -> None:
    path = f"/communities/{api.community_a}/readings/import?layout=dso-wide&filename=b.csv"
    status, body, response = await api.call("POST", path, "admin_a", data=BAD)
    assert status == 422
    assert response.content_type == "application/problem+json"
    assert body["errors"] == [{"message": "b.csv:2: POD IT001E99999999 is not in the community"}]
    assert (await api.call("POST", path, "viewer_a", data=GOOD))[0] == 403
    other = f"/communities/{api.community_b}/readings/import?layout=dso-wide"
    assert (await api.call("POST", other, "admin_a", data=GOOD))[0] == 403
    unknown = f"/communities/{api.community_a}/readings/import?layout=vendor"
    status, body, _ = await api.call("POST", unknown, "admin_a", data=GOOD)
    assert status == 422 and "cer, dso-wide, dso-long" in body["errors"][0]["message"]
    no_period = f"/communities/{api.community_a}/readings/status"
    assert (await api.call("GET", no_period, "admin_a"))[0] == 422


async def test_http_multipart_with_a_layout_file(api: Api) -> None:
    layout = (
        "kind: long\ndelimiter: ','\ndecimal: '.'\ninterval_minutes: 60\n"
        "time_column: t\nvalue_columns: {withdrawn: w, injected: i}\nunit: Wh\n"
    )
    data = "t,w,i\n2025-06-01T10:00:00+02:00,700,0\n2025-06-01T11:00:00+02:00,800,5\n"
    form = aiohttp.FormData()
    form.add_field("file", data.encode(), filename="casa.csv", content_type="text/csv")
    form.add_field("layout", layout.encode(), filename="l.yaml")
    status, body, _ = await api.call(
        "POST",
        f"/communities/{api.community_a}/readings/import?pod={POD_FAMILY}&source=manual",
        "admin_a",
        data=form,
    )
    assert status == 200, body
    assert body["file"] == "casa.csv" and body["source"] == "manual"
    assert body["hours"]["new"] == 2 and body["layout"] == "layout"
