"""Who cannot be a member (GSE-RULES §8) and the configurations ``check`` lists (§1, §8)."""

from __future__ import annotations

import pytest

from cer_backend.domain.community import parse_community
from cer_backend.domain.eligibility import (
    check_eligibility,
    configurations,
    excluded_members,
    has_errors,
)

from .builders import community_data, member, plant, pod


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"type": "large_enterprise"}, "members[1].type"),
        ({"type": "central_administration"}, "members[1].type"),
        ({"type": "sme", "ateco": "35.11.00"}, "members[1].ateco"),
        ({"type": "sme", "ateco": "35.14.00"}, "members[1].ateco"),
    ],
)
def test_each_excluded_member_is_an_error(extra: dict[str, str], path: str) -> None:
    shop = {**member("shop", "sme", [pod(2)]), **extra}
    community = parse_community(
        community_data(members=[member("comune", "municipality", [pod(1)]), shop])
    )
    findings = check_eligibility(community)
    assert has_errors(findings)
    assert [f.path for f in findings if f.level == "error"] == [path]
    assert [f.path for f in excluded_members(community)] == [path]


def test_other_ateco_codes_and_bodies_are_members() -> None:
    community = parse_community(
        community_data(
            members=[
                member("comune", "municipality", [pod(1)]),
                member("shop", "sme", [pod(2)], ateco="35.13.00"),  # distribution: allowed
                member("parco", "environmental", [pod(3)]),
            ]
        )
    )
    assert excluded_members(community) == []
    assert not has_errors(check_eligibility(community))


def test_check_lists_configurations_and_warns_about_an_incomplete_one() -> None:
    community = parse_community(
        community_data(
            members=[
                member(
                    "comune",
                    "municipality",
                    [pod(1), {"pod": pod(3), "cabina_primaria": "AC001E01726"}],
                ),
                member("rossi", "person", [pod(2)]),
            ],
            plants=[plant("scuola", pod(1), 100, "2024-03-01")],
        )
    )
    found = configurations(community)
    assert [c.to_json_dict() for c in found] == [
        {"cabina_primaria": "AC001E01725", "pods": [pod(1), pod(2)], "plants": ["scuola"]},
        {"cabina_primaria": "AC001E01726", "pods": [pod(3)], "plants": []},
    ]
    warnings = [f for f in check_eligibility(community) if f.path == "community.configurations"]
    assert [(f.level, f.message) for f in warnings] == [
        (
            "warning",
            "configuration AC001E01726 has no production point: it shares nothing (GSE-RULES §8)",
        )
    ]


def test_a_cabina_code_of_a_pod_is_checked() -> None:
    community = parse_community(
        community_data(
            members=[
                member("comune", "municipality", [{"pod": pod(1), "cabina_primaria": "cabina"}]),
                member("rossi", "person", [pod(2)]),
            ]
        )
    )
    paths = {f.path for f in check_eligibility(community) if f.level == "warning"}
    assert "members[0].pods[0].cabina_primaria" in paths
