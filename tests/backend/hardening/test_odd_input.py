"""Issue #12, defect 4: odd input gets a 4xx problem+json, never a 500, on both databases.

Before the fix: deeply nested JSON, a lone surrogate, a NUL in a name or label (PostgreSQL),
token id 99999999999999999999, ``period=0001`` and a live ``ts`` in year 1 answered 500.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.backend.api.conftest import COMMUNITY_A, POD_PLANT, Api

pytestmark = pytest.mark.database


async def raw(api: Api, method: str, path: str, body: str, token: str = "root") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {api.tokens[token]}", "Content-Type": "application/json"}
    async with api.session.request(method, api.url(path), data=body, headers=headers) as response:
        text = await response.text()
        assert response.content_type == "application/problem+json", (response.status, text)
        return response.status, json.loads(text)


def assert_4xx(status: int, problem: Any, expected: tuple[int, ...] = (422,)) -> None:
    assert status in expected, (status, problem)
    assert problem["status"] == status


async def test_deeply_nested_json_is_refused(api: Api) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    status, problem = await raw(api, "POST", "/communities", deep)
    assert_4xx(status, problem, (400, 413, 422))
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    document = copy.deepcopy(COMMUNITY_A)
    document["community"]["extra"] = nested
    status, problem = await raw(api, "POST", "/communities", json.dumps(document))
    assert_4xx(status, problem)


BAD_TEXT = {"NUL": "Ro\\u0000ssi", "lone surrogate": "Ro\\ud800ssi"}


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
async def test_nul_and_lone_surrogates_in_names_and_labels(api: Api, text: str) -> None:
    a = api.community_a
    bodies = [
        (
            "POST",
            f"/communities/{a}/members",
            f'{{"id": "m1", "name": "{text}", "type": "person"}}',
        ),
        ("POST", f"/communities/{a}/members", f'{{"id": "{text}", "name": "x", "type": "person"}}'),
        ("PATCH", f"/communities/{a}/members/comune", f'{{"name": "{text}"}}'),
        ("PATCH", f"/communities/{a}/pods/{POD_PLANT}", f'{{"label": "{text}"}}'),
        ("PATCH", f"/communities/{a}", f'{{"region": "{text}"}}'),
        ("POST", "/tokens", f'{{"role": "admin", "label": "{text}"}}'),
        ("POST", "/communities", json.dumps(COMMUNITY_A).replace("Famiglia Rossi", text)),
    ]
    for method, path, body in bodies:
        status, problem = await raw(api, method, path, body)
        assert_4xx(status, problem)
    # nothing of it was stored
    status, members, _ = await api.call("GET", f"/communities/{a}/members", "root")
    assert status == 200
    assert sorted(m["name"] for m in members) == ["Comune", "Famiglia Rossi"]


async def test_nul_in_a_path_or_query_parameter(api: Api) -> None:
    for path in ("/communities/a%00b", "/community/live?community=a%00b", "/tokens/1%00/revoke"):
        method = "POST" if path.endswith("revoke") else "GET"
        status, problem = await raw(api, method, path, "")
        assert_4xx(status, problem, (404, 422))


async def test_over_long_texts_are_refused_on_both_databases(api: Api) -> None:
    status, problem = await raw(
        api, "POST", "/tokens", json.dumps({"role": "admin", "label": "x" * 201})
    )
    assert_4xx(status, problem)
    a = api.community_a
    status, problem = await raw(
        api,
        "POST",
        f"/communities/{a}/members",
        json.dumps({"id": "m", "name": "n" * 201, "type": "person"}),
    )
    assert_4xx(status, problem)


@pytest.mark.parametrize("token_id", ["99999999999999999999", str(2**31), "-1", "0"])
async def test_revoking_a_huge_token_id_is_not_found(api: Api, token_id: str) -> None:
    status, problem = await raw(api, "POST", f"/tokens/{token_id}/revoke", "")
    assert_4xx(status, problem, (404,))


@pytest.mark.parametrize("period", ["0001", "9999", "1999-12", "2025-13", "2025-02-30", "2025-00"])
async def test_a_period_out_of_range(api: Api, period: str) -> None:
    status, problem = await raw(api, "GET", f"/community/summary?period={period}", "", "admin_a")
    assert_4xx(status, problem)
    status, problem = await raw(
        api, "POST", "/settlements", json.dumps({"period": period}), "admin_a"
    )
    assert_4xx(status, problem)


async def test_found_by_the_fuzzer_a_huge_power_and_a_multipart_without_boundary(api: Api) -> None:
    a = api.community_a
    status, problem = await raw(
        api, "PATCH", f"/communities/{a}/pods/{POD_PLANT}", json.dumps({"power_kw": 1e308})
    )
    assert_4xx(status, problem)
    status, _, _ = await api.call("GET", f"/community/live?community={a}", "root")
    assert status == 200
    headers = {
        "Authorization": f"Bearer {api.tokens['root']}",
        "Content-Type": "multipart/form-data",
    }
    async with api.session.post(api.url("/prices"), data=b"\0", headers=headers) as response:
        assert response.status == 400
        assert response.content_type == "application/problem+json"
