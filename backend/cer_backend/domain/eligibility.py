"""Eligibility report: does the configured community respect the GSE rules (§2 and §8)?

The structure of the community file is validated by :func:`parse_community`; this module checks
the rules a well-formed community can still break, as errors (the GSE would refuse the
configuration or a plant's TIP) and warnings (something to look at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from . import rules
from .community import Community, Plant

Level = Literal["error", "warning"]

_POD = re.compile(rules.POD_PATTERN)
_CABINA = re.compile(rules.CABINA_PRIMARIA_PATTERN)


@dataclass(frozen=True)
class Finding:
    """One result of the eligibility check."""

    level: Level
    path: str
    message: str

    def to_json_dict(self) -> dict[str, str]:
        """``{"level", "path", "message"}``."""
        return {"level": self.level, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


def check_eligibility(community: Community) -> list[Finding]:
    """Every GSE rule the community breaks (errors) or may break (warnings)."""
    findings: list[Finding] = []

    def error(path: str, message: str) -> None:
        findings.append(Finding("error", path, message))

    def warning(path: str, message: str) -> None:
        findings.append(Finding("warning", path, message))

    # §8: at least two members and two distinct points, one consumption, one production.
    if len(community.members) < 2:
        error("members", "a CER needs at least two members")
    consumption = {pod for m in community.members for pod in m.pods}
    production = {p.pod for p in community.plants}
    if not production:
        error("plants", "a CER needs at least one production point (plant)")
    if not consumption:
        error("members", "a CER needs at least one consumption point")
    if len(consumption | production) < 2:
        error("members", "a CER needs at least two distinct connection points")

    # §7: the market zone normally follows the region.
    if community.market_zone != community.region.market_zone:
        warning(
            "community.market_zone",
            f"{community.market_zone} differs from the zone of {community.region.name} "
            f"({community.region.market_zone}): Pz, TIP and RID use {community.market_zone}",
        )

    # §1, §8: configurations, one per cabina primaria.
    if not _CABINA.fullmatch(community.cabina_primaria):
        warning(
            "community.cabina_primaria",
            f"{community.cabina_primaria!r} does not look like a cabina primaria code "
            "(such as AC001E01725)",
        )
    for i, member in enumerate(community.members):
        for j, point in enumerate(member.points):
            if point.cabina_given and not _CABINA.fullmatch(point.cabina_primaria):
                warning(
                    f"members[{i}].pods[{j}].cabina_primaria",
                    f"{point.cabina_primaria!r} does not look like a cabina primaria code "
                    "(such as AC001E01725)",
                )
    findings.extend(configuration_findings(community))

    # §8: POD format.
    for i, member in enumerate(community.members):
        for j, pod in enumerate(member.pods):
            if not _POD.fullmatch(pod):
                error(
                    f"members[{i}].pods[{j}]",
                    f"{pod!r} is not a POD code (IT + 3-digit distributor + E + 8–9 digits)",
                )
    for i, plant in enumerate(community.plants):
        if not _POD.fullmatch(plant.pod):
            error(
                f"plants[{i}].pod",
                f"{plant.pod!r} is not a POD code (IT + 3-digit distributor + E + 8–9 digits)",
            )
        elif plant.pod not in consumption:
            warning(
                f"plants[{i}].pod",
                f"POD {plant.pod} is in no member's pods: its withdrawals are not counted",
            )

    # §8: who cannot be a member at all, and members with control rights.
    findings.extend(excluded_members(community))
    for i, member in enumerate(community.members):
        if not member.type_rules.control_rights and not member.type_rules.excluded:
            warning(
                f"members[{i}].type",
                f"{member.type} members cannot hold control rights in a CER (GSE-RULES §8)",
            )
        if member.joined < community.constituted:
            warning(f"members[{i}].joined", "before the CER was constituted")
    if community.members and not any(m.type_rules.control_rights for m in community.members):
        error("members", "no member may hold control rights (GSE-RULES §8)")

    # §2: plants.
    total_kw = sum((p.power_kw for p in community.plants), Decimal(0))
    pre_existing_kw = sum((p.power_kw for p in community.plants if p.pre_existing), Decimal(0))
    for i, plant in enumerate(community.plants):
        path = f"plants[{i}]"
        if plant.pre_existing:
            warning(
                f"{path}.commissioned",
                f"in service before {rules.PRE_EXISTING_BEFORE.isoformat()}: pre-existing plant, "
                "valorisation only, no TIP",
            )
        elif plant.commissioned < community.constituted:
            warning(f"{path}.commissioned", _before_constitution(community, plant))
        if plant.other_incentives:
            error(
                f"{path}.other_incentives",
                "a plant in scambio sul posto or with other production incentives cannot "
                "have the TIP",
            )
        if plant.source == "other":
            warning(f"{path}.source", "only renewable sources are eligible: check this plant")
        owner = next((m for m in community.members if m.id == plant.owner), None)
        if owner is not None and plant.pod not in owner.pods and plant.pod in consumption:
            warning(f"{path}.pod", f"POD {plant.pod} belongs to another member than the owner")
    if total_kw > 0 and pre_existing_kw > rules.PRE_EXISTING_MAX_SHARE * total_kw:
        share = (pre_existing_kw / total_kw * 100).quantize(Decimal("0.1"))
        error(
            "plants",
            f"pre-existing plants are {pre_existing_kw} kW of {total_kw} kW ({share} %): "
            f"at most {rules.PRE_EXISTING_MAX_SHARE * 100:.0f} % of the CER's power",
        )

    # §4: the surplus earmark must be able to reach non-business consumers or the social fund.
    statute = community.statute
    if statute.surplus_to == "non_business_consumers" and not any(
        not m.type_rules.business and m.pods for m in community.members
    ):
        error(
            "community.statute.surplus_to",
            "no non-business member with a consumption point can receive the surplus earmark: "
            "use surplus_to: social_fund",
        )
    remaining = (100 - statute.management_pct) * (
        100 - statute.social_fund_pct - statute.investment_fund_pct
    )
    max_surplus = Decimal(100) - rules.SURPLUS_THRESHOLDS["tip_with_grant"] * 100
    if statute.surplus_to == "non_business_consumers" and remaining / 100 < max_surplus:
        warning(
            "community.statute",
            f"after management and funds only {remaining / 100:.1f} % of the TIP stays in the "
            f"pool: a surplus earmark of up to {max_surplus:.0f} % may not be covered",
        )

    # §3: valorisation needs CU_Afa data.
    if not community.cu_afa_eur_mwh:
        warning("community.cu_afa_eur_mwh", "no CU_Afa (TRAS_E) values: no valorisation")
    return findings


def excluded_members(community: Community) -> list[Finding]:
    """Members who cannot be members at all (GSE-RULES §8): central administrations, large
    enterprises and firms whose main ATECO is 35.11.00 or 35.14.00. Errors of ``check``;
    the registry refuses a community with any of them."""
    findings: list[Finding] = []
    for i, member in enumerate(community.members):
        if member.type_rules.excluded:
            findings.append(
                Finding(
                    "error",
                    f"members[{i}].type",
                    f"{member.type} cannot be a member of a CER (GSE-RULES §8)",
                )
            )
        if member.ateco and member.ateco.strip().startswith(rules.EXCLUDED_ATECO_PREFIXES):
            findings.append(
                Finding(
                    "error",
                    f"members[{i}].ateco",
                    f"main ATECO {member.ateco}: a firm producing or trading electricity "
                    "(35.11.00, 35.14.00) cannot be a member of a CER (GSE-RULES §8)",
                )
            )
    return findings


def _before_constitution(community: Community, plant: Plant) -> str:
    """The warning of a plant commissioned before the constitution (GSE-RULES §2, OPEN)."""
    first, last = rules.BUILT_FOR_CER_WINDOW
    head = f"in service before the CER was constituted ({community.constituted.isoformat()}): "
    if community.built_for_cer(plant):
        return (
            head + f"earns the TIP as built for the CER ({plant.built_for_cer}); the GSE may "
            "refuse the plant (OPEN)"
        )
    if first <= plant.commissioned <= last:
        return (
            head + "valorisation only, no TIP, unless pre-dated documents show it was built for "
            "the CER (set built_for_cer to their reference)"
        )
    return head + "valorisation only, no TIP (the GSE may refuse the plant)"


@dataclass(frozen=True)
class ConfigurationPoints:
    """A configuration (cabina primaria) with its consumption points and plants (§1, §8)."""

    cabina_primaria: str
    pods: tuple[str, ...]
    plants: tuple[str, ...]

    def to_json_dict(self) -> dict[str, Any]:
        """``{"cabina_primaria", "pods", "plants"}``."""
        return {
            "cabina_primaria": self.cabina_primaria,
            "pods": list(self.pods),
            "plants": list(self.plants),
        }


def configurations(community: Community) -> list[ConfigurationPoints]:
    """The community's configurations with their points, the community's cabina first."""
    return [
        ConfigurationPoints(
            cabina,
            tuple(
                pod
                for pod, point in community.points_by_pod.items()
                if point.cabina_primaria == cabina
            ),
            tuple(p.id for p in community.plants if community.cabina_of(p.pod) == cabina),
        )
        for cabina in community.configurations
    ]


def configuration_findings(community: Community) -> list[Finding]:
    """A configuration without a production or a consumption point shares nothing
    (GSE-RULES §8): a warning each. A community with one configuration is checked by the
    community-wide rules instead."""
    found = configurations(community)
    if len(found) < 2:
        return []
    findings = []
    for conf in found:
        missing = [
            what
            for what, present in (("production", conf.plants), ("consumption", conf.pods))
            if not present
        ]
        if missing:
            findings.append(
                Finding(
                    "warning",
                    "community.configurations",
                    f"configuration {conf.cabina_primaria} has no {' and no '.join(missing)} "
                    "point: it shares nothing (GSE-RULES §8)",
                )
            )
    return findings


def has_errors(findings: list[Finding]) -> bool:
    """Whether any finding is an error."""
    return any(f.level == "error" for f in findings)
