"""Eligibility report: GSE-RULES §2 and §8 as errors and warnings."""

from __future__ import annotations

from cer_backend.domain.eligibility import Finding, check_eligibility, has_errors

from .builders import make_community, member, plant, pod


def findings(**changes: object) -> list[Finding]:
    return check_eligibility(make_community(**changes))


def paths(items: list[Finding], level: str) -> set[str]:
    return {f.path for f in items if f.level == level}


def test_base_community_is_eligible() -> None:
    assert not has_errors(findings())


def test_at_least_two_members() -> None:
    result = findings(members=[member("comune", "municipality", [pod(1), pod(2)])])
    assert "members" in paths(result, "error")


def test_pod_format() -> None:
    result = findings(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("rossi", "person", ["IT001X00000002", "IT1234E00000003", "IT001E1234567890"]),
        ]
    )
    assert paths(result, "error") == {
        "members[1].pods[0]",
        "members[1].pods[1]",
        "members[1].pods[2]",
    }


def test_nine_digit_pod_is_valid() -> None:
    result = findings(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("r", "person", ["IT001E123456789"]),
        ]
    )
    assert not has_errors(result)


def test_commissioned_before_constitution_is_a_warning() -> None:
    """GSE-RULES §2: a warning, not an error (valorisation only, or the TIP when built for
    the CER in 16/12/2021–24/01/2024)."""
    result = findings(plants=[plant("a", pod(1), 100, "2023-06-01")])
    assert not has_errors(result)
    (finding,) = [f for f in result if f.path == "plants[0].commissioned"]
    assert finding.level == "warning" and "built_for_cer" in finding.message
    built = findings(plants=[plant("a", pod(1), 100, "2023-06-01", built_for_cer="doc 1/2023")])
    (finding,) = [f for f in built if f.path == "plants[0].commissioned"]
    assert finding.level == "warning" and "earns the TIP as built for the CER" in finding.message


def test_pre_existing_cap_30_percent() -> None:
    ok = findings(
        plants=[
            plant("old", pod(1), 30, "2019-01-01"),
            plant("new", pod(2), 70, "2024-03-01", owner="rossi"),
        ]
    )
    assert not has_errors(ok)
    assert "plants[0].commissioned" in paths(ok, "warning")
    too_much = findings(
        plants=[
            plant("old", pod(1), 31, "2019-01-01"),
            plant("new", pod(2), 69, "2024-03-01", owner="rossi"),
        ]
    )
    assert "plants" in paths(too_much, "error")


def test_large_enterprise_cannot_be_a_member() -> None:
    """GSE-RULES §8: an error now (it was a warning about control rights)."""
    result = findings(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("big", "large_enterprise", [pod(2)]),
        ]
    )
    assert "members[1].type" in paths(result, "error")
    assert "members[1].type" not in paths(result, "warning")
    only_big = findings(
        members=[
            member("comune", "large_enterprise", [pod(1)]),
            member("big", "large_enterprise", [pod(2)]),
        ]
    )
    assert "members" in paths(only_big, "error")


def test_surplus_needs_a_non_business_consumer() -> None:
    businesses = [member("comune", "sme", [pod(1)]), member("shop", "sme", [pod(2)])]
    assert "community.statute.surplus_to" in paths(findings(members=businesses), "error")
    to_fund = findings(members=businesses, statute={"surplus_to": "social_fund"})
    assert "community.statute.surplus_to" not in paths(to_fund, "error")


def test_statute_that_cannot_cover_the_surplus_is_flagged() -> None:
    result = findings(statute={"management_pct": 30, "social_fund_pct": 40})
    assert "community.statute" in paths(result, "warning")


def test_cabina_code_shape() -> None:
    assert "community.cabina_primaria" in paths(findings(cabina_primaria="cabina 1"), "warning")


def test_energy_firms_and_other_incentives() -> None:
    result = findings(
        members=[
            member("comune", "municipality", [pod(1)]),
            member("gen", "sme", [pod(2)], ateco="35.11.00"),
        ],
        plants=[plant("a", pod(1), 100, "2024-03-01", other_incentives=True)],
    )
    assert {"members[1].ateco", "plants[0].other_incentives"} <= paths(result, "error")


def test_market_zone_override_is_flagged() -> None:
    assert "community.market_zone" in paths(findings(market_zone="SUD"), "warning")
    assert "community.market_zone" not in paths(findings(market_zone="SICI"), "warning")
