"""Validation of the community file's structure: every problem, with its path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer_backend.domain.community import parse_community
from cer_backend.domain.errors import InvalidInput, Problem

from .builders import community_data, member, plant, pod


def problems_of(data: dict[str, object]) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        parse_community(data)
    return caught.value.problems


def test_valid_community() -> None:
    community = parse_community(community_data())
    assert community.name == "CER Test"
    assert community.market_zone == "SICI"
    assert community.area == "sud"
    assert community.constituted == dt.date(2024, 1, 1)
    assert community.members[0].joined == dt.date(2024, 1, 1)  # default: constituted
    plant_ = community.plants[0]
    assert plant_.power_kw == Decimal(100)
    assert plant_.capital_grant_pct == 0
    assert plant_.voltage == "lv"
    assert not plant_.pre_existing
    assert community.statute.consumers_by == "coincident_withdrawal"
    assert community.statute.surplus_to == "non_business_consumers"


def test_market_zone_override() -> None:
    assert parse_community(community_data(market_zone="SUD")).market_zone == "SUD"


def test_power_out_of_range_names_path() -> None:
    data = community_data(
        plants=[
            plant("a", pod(1), 100, "2024-03-01"),
            plant("b", pod(3), 0, "2024-03-01"),
            plant("c", pod(4), 1001, "2024-03-01"),
            plant("d", pod(5), 1000, "2024-03-01"),
        ]
    )
    found = problems_of(data)
    assert Problem("plants[1].power_kw", "must be > 0 and ≤ 1000") in found
    assert Problem("plants[2].power_kw", "must be > 0 and ≤ 1000") in found
    assert not any(p.path.startswith("plants[3]") for p in found)


def test_every_problem_is_reported() -> None:
    data = community_data(
        region="Atlantide",
        constituted="2024-13-01",
        plants=[
            plant("a", pod(1), 100, "2024-03-01", owner="nobody"),
            plant("a", pod(1), 50, "2024-03-01", capital_grant_pct=41),
            plant("b", pod(9), 50, "not a date", source="coal", voltage="hv"),
        ],
    )
    data["community"]["statute"]["management_pct"] = 120
    data["community"]["typo"] = 1
    paths = {p.path for p in problems_of(data)}
    assert {
        "community.region",
        "community.constituted",
        "community.statute.management_pct",
        "community.typo",
        "plants[0].owner",
        "plants[1].id",
        "plants[1].pod",
        "plants[1].capital_grant_pct",
        "plants[2].commissioned",
        "plants[2].source",
        "plants[2].voltage",
    } <= paths


def test_missing_and_unknown_keys() -> None:
    data = community_data()
    del data["community"]["cabina_primaria"]
    data["members"][0]["nickname"] = "x"
    del data["plants"][0]["power_kw"]
    paths = {p.path for p in problems_of(data)}
    assert paths == {"community.cabina_primaria", "members[0].nickname", "plants[0].power_kw"}


def test_pod_in_two_members_and_bad_dates() -> None:
    data = community_data(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", [pod(1)], joined="2024-05-01", left="2024-04-01"),
            member("bianchi", "robot", [pod(3)]),
        ]
    )
    paths = {p.path for p in problems_of(data)}
    assert paths == {"members[1].pods[0]", "members[1].left", "members[2].type"}


def test_numbers_must_be_numbers() -> None:
    data = community_data()
    data["plants"][0]["power_kw"] = True
    data["community"]["cu_afa_eur_mwh"] = {"2024": "abc", "24": 1}
    paths = {p.path for p in problems_of(data)}
    assert paths == {
        "plants[0].power_kw",
        "community.cu_afa_eur_mwh.2024",
        "community.cu_afa_eur_mwh.24",
    }


def test_not_a_mapping() -> None:
    assert problems_of([])[0].message == "must be a mapping"  # type: ignore[arg-type]


def test_cu_afa_month_beats_year() -> None:
    community = parse_community(
        community_data(cu_afa_eur_mwh={"2025": Decimal("10.57"), "2025-03": Decimal("11"), 2024: 9})
    )
    assert community.cu_afa_for_month("2025-03") == Decimal(11)
    assert community.cu_afa_for_month("2025-04") == Decimal("10.57")
    assert community.cu_afa_for_month("2024-04") == Decimal(9)
    assert community.cu_afa_for_month("2023-04") is None


def test_first_in_order_and_tie_break() -> None:
    community = parse_community(
        community_data(
            plants=[
                plant("z", pod(1), 10, "2024-05-01"),
                plant("b", pod(2), 10, "2024-05-01"),
                plant("a", pod(3), 10, "2024-06-01"),
                plant("old", pod(4), 10, "2019-01-01"),
            ]
        )
    )
    assert [p.id for p in community.plants_first_in()] == ["old", "b", "z", "a"]


def test_pre_existing_is_derived_from_the_date() -> None:
    community = parse_community(
        community_data(
            plants=[plant("a", pod(1), 10, "2021-12-15"), plant("b", pod(2), 10, "2021-12-16")]
        )
    )
    assert [p.pre_existing for p in community.plants] == [True, False]


def test_str_lists_every_problem() -> None:
    error = InvalidInput([Problem("a", "x"), Problem("b", "y")])
    assert str(error) == "a: x\nb: y"
    assert str(error.within("file.yaml")) == "file.yaml: a: x\nfile.yaml: b: y"
