"""The optional keys of the community file (FORMATS.md): accepted, validated, defaulted."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cer_backend.domain.community import Location, Point, parse_community
from cer_backend.domain.errors import InvalidInput
from tests.backend.api.conftest import COMMUNITY_A

from .builders import community_data, member, plant, pod


def paths_of(data: dict[str, Any]) -> set[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_community(data)
    return {p.path for p in caught.value.problems}


def full() -> dict[str, Any]:
    """A community with every new optional key."""
    data = community_data(
        location={"lat": Decimal("37.50"), "lon": Decimal("15.07")},
        members=[
            member(
                "comune",
                "municipality",
                [
                    pod(1),
                    {
                        "pod": pod(3),
                        "cabina_primaria": "AC001E01726",
                        "label": "Scuola",
                        "role": "lighting",
                    },
                ],
                tax_code="00123456789",
                email="ufficio.tecnico@example.it",
                public=True,
            ),
            member("rossi", "person", [pod(2)], tax_code="RSSMRA80A01H501U"),
            member("parco", "environmental", [pod(4)], ateco="94.99.90"),
        ],
        plants=[plant("scuola", pod(1), 100, "2023-05-01", built_for_cer="delibera 12/2023")],
    )
    data["settings"] = {
        "f_exemption_persons_from": "2025-07-01",
        "finalise_min_coverage_pct": 95,
        "public_page": True,
        "language": "en",
        "report_recipients": ["a@example.it", "b@example.it"],
        "alert_webhook_url": "https://hooks.example.it/cer",
    }
    return data


def test_every_new_key_is_carried_into_the_domain_objects() -> None:
    community = parse_community(full())
    assert community.location == Location(Decimal("37.50"), Decimal("15.07"))
    assert community.where == community.location
    comune, rossi, parco = community.members
    assert comune.pods == (pod(1), pod(3))
    assert comune.points == (
        Point(pod(1), "AC001E01725"),
        Point(pod(3), "AC001E01726", "Scuola", "lighting", cabina_given=True),
    )
    assert (comune.tax_code, comune.email, comune.public) == (
        "00123456789",
        "ufficio.tecnico@example.it",
        True,
    )
    assert rossi.tax_code == "RSSMRA80A01H501U" and not rossi.public
    assert parco.type == "environmental" and parco.ateco == "94.99.90"
    assert parco.type_rules.f_exempt and parco.type_rules.control_rights
    assert community.plants[0].built_for_cer == "delibera 12/2023"
    assert community.cabina_of(pod(3)) == "AC001E01726"
    assert community.cabina_of(pod(1)) == "AC001E01725"
    assert community.cabina_of("IT001E99999999") == "AC001E01725"  # in no member: the default
    assert community.configurations == ("AC001E01725", "AC001E01726")
    settings = community.settings
    assert settings.f_exemption_persons_from == dt.date(2025, 7, 1)
    assert settings.finalise_min_coverage_pct == Decimal(95)
    assert settings.public_page is True
    assert settings.language == "en"
    assert settings.report_recipients == ("a@example.it", "b@example.it")
    assert settings.alert_webhook_url == "https://hooks.example.it/cer"


def test_defaults_of_the_new_keys() -> None:
    community = parse_community(community_data())  # Sicilia, no optional key
    assert community.location is None
    assert community.where == Location(Decimal("37.59"), Decimal("14.15"))  # centre of Sicilia
    assert community.configurations == ("AC001E01725",)
    assert community.members[0].points == (Point(pod(1), "AC001E01725"),)
    member_ = community.members[1]
    assert (member_.tax_code, member_.email, member_.public) == (None, None, False)
    assert community.plants[0].built_for_cer is None
    settings = community.settings
    assert settings.f_exemption_persons_from == dt.date(2025, 5, 16)
    assert settings.finalise_min_coverage_pct == Decimal(99)
    assert settings.public_page is False
    assert settings.language == "it"
    assert settings.report_recipients == ()
    assert settings.alert_webhook_url is None
    # an empty settings block and explicit nulls are the defaults too
    data = community_data()
    data["settings"] = {"alert_webhook_url": None}
    assert parse_community(data).settings == settings


def test_the_default_location_is_data_for_every_region() -> None:
    toscana = parse_community(community_data(region="Toscana"))
    assert toscana.where == Location(Decimal("43.45"), Decimal("11.10"))


def test_bad_values_of_the_new_keys_are_each_named() -> None:
    data = full()
    data["community"]["location"] = {"lat": 95, "lon": "x"}
    data["members"][0]["pods"][1] = {"pod": pod(3), "role": "street", "colour": "red"}
    data["members"][0]["email"] = "not-an-address"
    data["members"][0]["tax_code"] = "123"
    data["members"][1]["public"] = True  # a person is never named publicly
    data["members"][2]["ateco"] = "thirty-five"
    data["plants"][0]["built_for_cer"] = ""
    data["settings"] = {
        "f_exemption_persons_from": "16/05/2025",
        "finalise_min_coverage_pct": 101,
        "public_page": "yes",
        "language": "de",
        "report_recipients": ["ok@example.it", "nope"],
        "alert_webhook_url": "ftp://example.it",
        "colour": "red",
    }
    assert paths_of(data) == {
        "community.location.lat",
        "community.location.lon",
        "members[0].pods[1].role",
        "members[0].pods[1].colour",
        "members[0].email",
        "members[0].tax_code",
        "members[1].public",
        "members[2].ateco",
        "plants[0].built_for_cer",
        "settings.f_exemption_persons_from",
        "settings.finalise_min_coverage_pct",
        "settings.public_page",
        "settings.language",
        "settings.report_recipients[1]",
        "settings.alert_webhook_url",
        "settings.colour",
    }


def test_unknown_keys_are_still_errors() -> None:
    data = community_data()
    data["extra"] = 1
    data["members"][0]["nickname"] = "x"
    data["community"]["colour"] = "red"
    assert paths_of(data) == {"extra", "members[0].nickname", "community.colour"}


def test_a_pod_object_needs_its_code_and_a_pod_is_still_unique() -> None:
    data = community_data(
        members=[
            member("comune", "municipality", [{"label": "x"}]),
            member("rossi", "person", [pod(2), {"pod": pod(2), "role": "building"}]),
        ]
    )
    assert paths_of(data) == {"members[0].pods[0].pod", "members[1].pods[1]"}


def test_reading_sources_are_checked_and_completed_in_their_default_order() -> None:
    data = _reading_sources_file(["ha", "manual"])
    settings = parse_community(data).settings
    assert settings.reading_sources == ("ha", "manual", "dso", "estimate")
    assert parse_community(_reading_sources_file(None)).settings.reading_sources == (
        "dso",
        "ha",
        "manual",
        "estimate",
    )
    for bad, where in (
        (["ha", "ha"], "settings.reading_sources[1]"),
        (["meter"], "settings.reading_sources[0]"),
        ([], "settings.reading_sources"),
    ):
        with pytest.raises(InvalidInput) as raised:
            parse_community(_reading_sources_file(bad))
        assert [p.path for p in raised.value.problems] == [where], bad


def _reading_sources_file(sources: list[str] | None) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(COMMUNITY_A)
    if sources is not None:
        data["settings"] = {"reading_sources": sources}
    return data
