"""What the reports show, read from a settlement run: one adapter for every optional field.

A run stores the engine's result and the community file as it was settled. Several fields
arrive with later versions (run kinds and forced finalise, configurations, tax codes and
e-mails, the completeness service): each is read here, in one function, with a default, so
the renderers (:mod:`.community_report`, :mod:`.statements`, :mod:`.export`) never guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .gse import GseError
from .gse import reconciliation as gse_reconciliation
from .registry import RegistryError, community_document
from .settlements import SettlementError, get_run, get_run_row


class ReportError(Exception):
    """A report that cannot be made; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MemberInfo:
    """A member as the reports name it (registry fields that may be absent are None)."""

    id: str
    name: str
    type: str
    pods: list[str]
    joined: str | None = None
    left: str | None = None
    tax_code: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Completeness:
    """How much of the period's data the run had (FORMATS.md "Completeness")."""

    expected_pod_hours: int
    missing_pod_hours: int
    missing_by_pod: dict[str, dict[str, Any]]
    missing_price_hours: int
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> Fraction:
        """Present ÷ expected POD-hours (1 when nothing was expected)."""
        if self.expected_pod_hours <= 0:
            return Fraction(1)
        present = max(0, self.expected_pod_hours - self.missing_pod_hours)
        return Fraction(present, self.expected_pod_hours)

    @property
    def complete(self) -> bool:
        """No reading and no price missing."""
        return self.missing_pod_hours == 0 and self.missing_price_hours == 0


@dataclass(frozen=True)
class ReconciliationLine:
    """One line of the money reconciliation."""

    key: str
    amount: Decimal


@dataclass(frozen=True)
class Reconciliation:
    """TIP + valorisation = management + funds + members' total, to the cent."""

    tip: Decimal
    valorisation: Decimal
    management: Decimal
    social_fund: Decimal
    investment_fund: Decimal
    members_total: Decimal

    @property
    def income(self) -> Decimal:
        """The community's income (TIP + valorisation)."""
        return self.tip + self.valorisation

    @property
    def distributed(self) -> Decimal:
        """What the statute gave: management, funds and members."""
        return self.management + self.social_fund + self.investment_fund + self.members_total

    @property
    def balanced(self) -> bool:
        """Both sides agree to the cent."""
        return self.income == self.distributed


@dataclass(frozen=True)
class RunFacts:
    """A run with the community as settled and the contacts in force now."""

    id: str
    community_id: str
    community_name: str
    period: str
    kind: str
    status: str
    forced_reason: str | None
    created_at: str
    finalised_at: str | None
    result: dict[str, Any]
    profile: dict[str, Any]
    document: dict[str, Any]
    members: dict[str, MemberInfo]
    #: the GSE's payments and figures for the period (``service.gse.reconciliation``), when
    #: any were recorded
    gse: dict[str, Any] | None = None
    #: readings of the period stored after a final run was finalised (for a correction)
    late_readings: int = 0

    @property
    def final(self) -> bool:
        """A final run (else every page says draft)."""
        return self.status == "final"

    def member_name(self, member_id: str) -> str:
        """A member's name (its id when the registry does not know it)."""
        info = self.members.get(member_id)
        return info.name if info is not None else member_id

    @property
    def statute(self) -> dict[str, Any]:
        """The statute settled."""
        return dict((self.document.get("community") or {}).get("statute") or {})

    @property
    def settings(self) -> dict[str, Any]:
        """The community's settings (optional keys of FORMATS.md)."""
        return community_settings(self.document)


def community_settings(document: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` of a community file, or of its header (either place is read)."""
    settings = document.get("settings")
    if not isinstance(settings, Mapping):
        settings = (document.get("community") or {}).get("settings")
    return dict(settings) if isinstance(settings, Mapping) else {}


def report_recipients(document: Mapping[str, Any]) -> list[str]:
    """``settings.report_recipients``: who gets the community report."""
    value = community_settings(document).get("report_recipients") or []
    if isinstance(value, str):
        value = [value]
    return [str(address).strip() for address in value if str(address).strip()]


def member_info(entry: Mapping[str, Any], contacts: Mapping[str, Any] | None = None) -> MemberInfo:
    """A member of a community file; ``tax_code`` and ``email`` are optional keys (FORMATS.md).

    ``contacts`` (the member as in the registry now) wins for the e-mail and the tax code:
    an address corrected after the run is the one to use.
    """
    pods = [p if isinstance(p, str) else str(p.get("pod")) for p in entry.get("pods") or []]
    now = contacts or {}

    def optional(key: str) -> str | None:
        value = now.get(key) or entry.get(key)
        return str(value).strip() or None if value else None

    joined, left = entry.get("joined"), entry.get("left")
    return MemberInfo(
        id=str(entry["id"]),
        name=str(entry.get("name") or entry["id"]),
        type=str(entry.get("type") or ""),
        pods=pods,
        joined=str(joined) if joined else None,
        left=str(left) if left else None,
        tax_code=optional("tax_code"),
        email=optional("email"),
    )


def run_kind(run: Mapping[str, Any]) -> str:
    """``month``, ``year``, ``correction`` (or ``day``): the run's own kind when it has one."""
    kind = run.get("kind")
    if kind:
        return str(kind)
    period = str(run["period"])
    return {4: "year", 7: "month"}.get(len(period), "day")


def forced_reason(run: Mapping[str, Any]) -> str | None:
    """The reason given when an incomplete or stale run was finalised by force."""
    for key in ("forced_reason", "finalise_reason", "force_reason"):
        if run.get(key):
            return str(run[key])
    forced = run.get("forced") or run.get("finalise")
    if isinstance(forced, Mapping) and forced.get("reason"):
        return str(forced["reason"])
    return None


def completeness(facts_run: Mapping[str, Any], document: Mapping[str, Any]) -> Completeness:
    """Coverage of the run's POD-hours: the run's ``completeness`` (the figures finalise
    checks) when it has them, else counted here from its missing readings.

    Expected POD-hours: each member POD over the member's days in the period (plants' PODs
    belong to members or are counted once more), as FORMATS.md "Completeness" defines them.
    """
    result = facts_run.get("result") or {}
    given = result.get("completeness")
    missing_by_pod = {str(item["pod"]): dict(item) for item in result.get("missing_readings") or []}
    missing = sum(int(item.get("hours", 0)) for item in missing_by_pod.values())
    prices = result.get("missing_prices") or {}
    missing_prices = int(prices.get("hours", 0)) if isinstance(prices, Mapping) else int(prices)
    sources = {str(k): int(v) for k, v in (result.get("readings_by_source") or {}).items()}
    if isinstance(given, Mapping) and "expected_pod_hours" in given:
        # the run's own count (service.runs.completeness, what finalise checks)
        return Completeness(
            int(given["expected_pod_hours"]),
            int(given.get("missing_pod_hours", missing)),
            missing_by_pod,
            missing_prices,
            sources,
        )
    hours = int(result.get("hours") or 0)
    days_in_period = _days_in_period(str(facts_run.get("period") or result.get("period")))
    days = {str(m["id"]): int(m.get("membership_days", 0)) for m in result.get("members") or []}
    expected = 0
    member_pods: set[str] = set()
    for entry in document.get("members") or []:
        info = member_info(entry)
        member_pods.update(info.pods)
        share = Fraction(days.get(info.id, 0), days_in_period) if days_in_period else 1
        expected += round(hours * share) * len(info.pods)
    for plant in document.get("plants") or []:
        if plant.get("pod") not in member_pods:
            expected += hours
    return Completeness(expected, missing, missing_by_pod, missing_prices, sources)


def _days_in_period(period: str) -> int:
    if len(period) == 4:
        year = int(period)
        return (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    if len(period) == 7:
        year, month = int(period[:4]), int(period[5:])
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return (following - dt.date(year, month, 1)).days
    return 1


def reconciliation(result: Mapping[str, Any]) -> Reconciliation:
    """The money of a run as the reconciliation shows it (amounts as reported)."""
    funds = result.get("funds") or {}
    return Reconciliation(
        tip=Decimal(result["tip_eur"]),
        valorisation=Decimal(result["valorisation_eur"]),
        management=Decimal(result.get("management_eur") or "0"),
        social_fund=Decimal(funds.get("social_eur") or "0"),
        investment_fund=Decimal(funds.get("investment_eur") or "0"),
        members_total=sum(
            (Decimal(m["amount_eur"]) for m in result.get("members") or []), Decimal(0)
        ),
    )


def configurations(result: Mapping[str, Any], document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Energy and money per configuration (cabina primaria); one when the run has none."""
    given = result.get("configurations")
    if isinstance(given, list) and given:
        return [dict(item) for item in given]
    return [
        {
            "cabina_primaria": (document.get("community") or {}).get("cabina_primaria", ""),
            "injected_wh": result.get("injected_wh", 0),
            "withdrawn_wh": result.get("withdrawn_wh", 0),
            "shared_wh": result.get("shared_wh", 0),
            "incentivised_wh": result.get("incentivised_wh", 0),
            "tip_eur": result.get("tip_eur", "0.00"),
            "valorisation_eur": result.get("valorisation_eur", "0.00"),
        }
    ]


def surplus_recipients(result: Mapping[str, Any]) -> list[tuple[str, Decimal]]:
    """Members given part of the surplus earmark, with their part."""
    out = []
    for member in result.get("members") or []:
        part = Decimal((member.get("parts") or {}).get("surplus_eur") or "0")
        if part:
            out.append((str(member["id"]), part))
    return out


def facts_from(
    run: Mapping[str, Any],
    document: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> RunFacts:
    """A run view (with result and profile) and its community file as report facts."""
    now = {str(m["id"]): m for m in (current or {}).get("members") or []}
    members = {
        str(entry["id"]): member_info(entry, now.get(str(entry["id"])))
        for entry in document.get("members") or []
    }
    header = document.get("community") or {}
    return RunFacts(
        id=str(run["id"]),
        community_id=str(run["community"]),
        community_name=str(header.get("name") or run["community"]),
        period=str(run["period"]),
        kind=run_kind(run),
        status=str(run["status"]),
        forced_reason=forced_reason(run),
        created_at=str(run.get("created_at") or ""),
        finalised_at=run.get("finalised_at"),
        result=dict(run.get("result") or {}),
        profile=dict(run.get("hourly_profile") or {}),
        document=_with_current_settings(document, current),
        members=members,
        late_readings=int(run.get("late_readings") or 0),
    )


def _with_current_settings(
    document: Mapping[str, Any], current: Mapping[str, Any] | None
) -> dict[str, Any]:
    merged = dict(document)
    if current is not None:
        settings = community_settings(current)
        if settings:
            merged["settings"] = settings
    return merged


async def load_facts(engine: AsyncEngine, run_id: str, community_id: str | None) -> RunFacts:
    """The facts of a stored run (404 as ReportError when absent or out of scope)."""
    try:
        row = await get_run_row(engine, run_id, community_id)
    except SettlementError as err:
        raise ReportError(err.status, str(err)) from err
    view = await get_run(engine, run_id, community_id)  # with the late readings of a final
    async with engine.connect() as connection:
        try:
            current = await community_document(connection, row.community_id)
        except RegistryError:
            current = None
    facts = facts_from(view, dict(row.community_document or {}), current)
    return replace(facts, gse=await gse_of(engine, row.community_id, str(row.period)))


async def gse_of(engine: AsyncEngine, community_id: str, period: str) -> dict[str, Any] | None:
    """The GSE's payments and figures of a month or year (None when none was recorded)."""
    if len(period) not in (4, 7):
        return None
    try:
        answer = await gse_reconciliation(engine, community_id, period)
    except (GseError, RegistryError):
        return None
    return answer if answer.get("payments") else None
