"""Issue #12, defect 9: the OpenAPI document declares what the API answers.

Before the fix every operation declared 200 (the creations answer 201) and only ``4XX`` and
``5XX`` ranges for the problems, so a schema-driven client or fuzzer disagreed with the server.
"""

from __future__ import annotations

from typing import Any

import pytest

from cer_backend.api.routing import openapi_document
from cer_backend.app import all_routes

DOCUMENT = openapi_document(all_routes())
PREFIX = "/api/v1"


def responses(method: str, path: str) -> dict[str, Any]:
    return dict(DOCUMENT["paths"][PREFIX + path][method]["responses"])


CREATED = [
    ("post", "/communities/{community}/members"),
    ("post", "/communities/{community}/pods"),
    ("post", "/communities/{community}/plants"),
    ("post", "/tokens"),
    ("post", "/settlements"),
]


@pytest.mark.parametrize(("method", "path"), CREATED)
def test_creations_declare_201(method: str, path: str) -> None:
    codes = responses(method, path)
    assert "201" in codes and "200" not in codes
    assert "409" in codes or path == "/tokens"


def test_a_community_file_creates_or_updates() -> None:
    codes = responses("post", "/communities")
    assert {"200", "201", "409", "413", "422"} <= set(codes)


def test_no_ranges_only_the_specific_problems() -> None:
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert not codes & {"4XX", "5XX", "default"}, (method, path)
            if operation["security"]:
                assert {"401", "403", "503"} <= codes, (method, path)
            else:
                assert not codes & {"401", "403"}, (method, path)
            if "requestBody" in operation:
                assert {"413", "422"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")) and path != PREFIX + "/health":
                    schema = answer["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}


def test_readings_and_health() -> None:
    assert set(responses("post", "/readings")) == {
        "200", "400", "401", "403", "404", "413", "422", "503"
    }  # fmt: skip
    assert set(responses("get", "/health")) == {"200", "503"}
    assert set(responses("get", "/openapi.json")) == {"200"}
