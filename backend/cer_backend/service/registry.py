"""The registry: communities, members, PODs and plants (nothing settled is ever deleted).

The community file of FORMATS.md is checked by the settlement engine
(:func:`cer_backend.domain.community.parse_community`) and then stored as rows; a settlement
run rebuilds the same document from the rows.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ..domain.community import parse_community
from ..domain.eligibility import excluded_members
from ..domain.errors import InvalidInput
from ..models import Community, Member, Plant, Pod, SettlementRun, as_utc, table, utcnow
from .bounds import DEFAULT_MAX_HOUR_WH, INT64_MAX

#: a reading may exceed the nameplate power of its point by this factor (meter and rating
#: tolerances); above it, it is rejected as implausible.
PLAUSIBILITY_MARGIN = 1.10
#: withdrawal bound (kW) of a point whose available power is not in the registry
DEFAULT_POINT_POWER_KW = 10_000.0
CACHE_SECONDS = 10.0
DEFAULT_TIMEZONE = "Europe/Rome"


class RegistryError(ValueError):
    """A registry request that cannot be done; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str, problems: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.problems = problems or []


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def slugify(name: str) -> str:
    """A community id from its name: ``CER Esempio`` → ``cer-esempio``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:56] or "community"


def check_community_file(data: Mapping[str, Any]) -> Any:
    """The engine's parse of a community file; raises RegistryError(422) naming each problem."""

    try:
        return parse_community(data)
    except InvalidInput as err:
        problems = [{"field": p.path, "message": p.message} for p in err.problems]
        raise RegistryError(422, "the community file is invalid", problems) from err


def refuse_excluded_members(community: Any) -> None:
    """RegistryError(422) naming every member who cannot be a member of a CER (GSE-RULES §8:
    central administrations, large enterprises, main ATECO 35.11.00 or 35.14.00)."""
    found = excluded_members(community)
    if found:
        raise RegistryError(
            422,
            "the community has members who cannot be members of a CER (GSE-RULES §8)",
            [{"field": f.path, "message": f.message} for f in found],
        )


@asynccontextmanager
async def _session_scope(
    engine: AsyncEngine, session: AsyncSession | None
) -> AsyncIterator[AsyncSession]:
    """The caller's session (its transaction), or a new one committed at the end."""
    if session is not None:
        yield session
        return
    async with AsyncSession(engine, expire_on_commit=False) as own, own.begin():
        yield own


async def import_community(
    engine: AsyncEngine, data: Mapping[str, Any], within: AsyncSession | None = None
) -> tuple[str, bool]:
    """Create the community of a file, or update the one with the same name.

    Returns (community id, created). Members, PODs and plants absent from the file are kept
    (``service.registry_changes.apply_import`` end-dates them). With ``within``, the rows
    are written in the caller's transaction. A community with a member who cannot be a member
    (GSE-RULES §8) is refused (422).
    """
    refuse_excluded_members(check_community_file(data))
    header = data["community"]
    async with _session_scope(engine, within) as session:
        community = await session.scalar(select(Community).where(Community.name == header["name"]))
        created = community is None
        if community is None:
            base = slugify(str(header["name"]))
            community_id, suffix = base, 1
            while await session.get(Community, community_id) is not None:
                suffix += 1
                community_id = f"{base}-{suffix}"
            community = Community(community_id=community_id, name=str(header["name"]))
            session.add(community)
        community.region = str(header["region"])
        community.market_zone = header.get("market_zone")
        community.cabina_primaria = str(header["cabina_primaria"])
        community.constituted = _date(header["constituted"])  # type: ignore[assignment]
        community.timezone = str(header.get("timezone") or DEFAULT_TIMEZONE)
        community.cu_afa_eur_mwh = jsonable(dict(header.get("cu_afa_eur_mwh") or {}))
        community.statute = jsonable(dict(header.get("statute") or {}))
        community.location = jsonable(header.get("location"))
        community.settings = jsonable(data.get("settings"))
        community.extra = (
            jsonable({k: header[k] for k in HEADER_EXTRA_KEYS if header.get(k) is not None}) or None
        )
        community.updated_at = utcnow()
        cid = community.community_id
        await session.flush()
        for member_position, member_data in enumerate(data.get("members") or []):
            member = await session.get(Member, (cid, str(member_data["id"])))
            if member is None:
                member = Member(community_id=cid, member_id=str(member_data["id"]))
                session.add(member)
            member.position = member_position
            member.name = str(member_data["name"])
            member.type = str(member_data["type"])
            member.joined = _date(member_data.get("joined"))
            member.left = _date(member_data.get("left"))
            member.ateco = member_data.get("ateco")
            member.tax_code = member_data.get("tax_code")
            member.email = member_data.get("email")
            member.public = bool(member_data.get("public") or False)
            await session.flush()
            for position, pod_entry in enumerate(member_data.get("pods") or []):
                # a POD is a code, or {pod, cabina_primaria, label, role}
                details = pod_entry if isinstance(pod_entry, Mapping) else {"pod": pod_entry}
                pod_code = str(details["pod"])
                pod = await session.get(Pod, (cid, pod_code))
                if pod is None:
                    pod = Pod(community_id=cid, pod=pod_code)
                    session.add(pod)
                pod.member_id = member.member_id
                pod.position = position
                pod.cabina_primaria = details.get("cabina_primaria")
                pod.role = details.get("role")
                if isinstance(pod_entry, Mapping):  # a plain code keeps a label set by the API
                    pod.label = details.get("label")
        for plant_position, plant_data in enumerate(data.get("plants") or []):
            plant = await session.get(Plant, (cid, str(plant_data["id"])))
            if plant is None:
                plant = Plant(community_id=cid, plant_id=str(plant_data["id"]))
                session.add(plant)
            plant.position = plant_position
            plant.pod = str(plant_data["pod"])
            plant.owner = str(plant_data["owner"])
            plant.power_kw = float(plant_data["power_kw"])
            plant.source = str(plant_data["source"])
            plant.commissioned = _date(plant_data["commissioned"])  # type: ignore[assignment]
            plant.capital_grant_pct = float(plant_data.get("capital_grant_pct") or 0)
            plant.voltage = str(plant_data.get("voltage") or "lv")
            plant.built_for_cer = plant_data.get("built_for_cer")
            known = {
                "built_for_cer",
                "id",
                "pod",
                "owner",
                "power_kw",
                "source",
                "commissioned",
                "capital_grant_pct",
                "voltage",
            }
            plant.extra = jsonable({k: v for k, v in plant_data.items() if k not in known})
    return cid, created


async def community_document(
    connection: AsyncConnection | AsyncSession, community_id: str, in_force_on: date | None = None
) -> dict[str, Any]:
    """The community file (FORMATS.md) of the registry rows, with what is in force on a date.

    PODs and plants end-dated on or before ``in_force_on`` are left out.
    """
    community = (
        await connection.execute(
            select(table(Community)).where(Community.community_id == community_id)
        )
    ).first()
    if community is None:
        raise RegistryError(404, f"no community {community_id!r}")
    members = (
        await connection.execute(
            select(table(Member))
            .where(Member.community_id == community_id)
            .order_by(Member.position, Member.member_id)
        )
    ).all()
    pods = (
        await connection.execute(
            select(table(Pod))
            .where(Pod.community_id == community_id)
            .order_by(Pod.member_id, Pod.position, Pod.pod)
        )
    ).all()
    plants = (
        await connection.execute(
            select(table(Plant))
            .where(Plant.community_id == community_id)
            .order_by(Plant.position, Plant.plant_id)
        )
    ).all()

    def in_force(ended: date | None) -> bool:
        return ended is None or in_force_on is None or ended > in_force_on

    header: dict[str, Any] = {
        "name": community.name,
        "region": community.region,
        "cabina_primaria": community.cabina_primaria,
        "constituted": community.constituted,
        "timezone": community.timezone,
        "cu_afa_eur_mwh": dict(community.cu_afa_eur_mwh or {}),
        "statute": dict(community.statute or {}),
    }
    if community.market_zone:
        header["market_zone"] = community.market_zone
    if community.location is not None:
        header["location"] = dict(community.location)
    header.update(community.extra or {})
    member_list = []
    pods_of: dict[str, list[Any]] = {}  # in their order (one pass, not one per member)
    for p in pods:
        pods_of.setdefault(p.member_id, []).append(p)
    for member in members:
        entry: dict[str, Any] = {
            "id": member.member_id,
            "name": member.name,
            "type": member.type,
            "pods": [_pod_entry(p) for p in pods_of.get(member.member_id, ()) if in_force(p.ended)],
        }
        if member.joined is not None:
            entry["joined"] = member.joined
        if member.left is not None:
            entry["left"] = member.left
        for key in ("ateco", "tax_code", "email"):
            if getattr(member, key) is not None:
                entry[key] = getattr(member, key)
        if member.public:
            entry["public"] = True
        member_list.append(entry)
    plant_list = []
    for plant in plants:
        if not in_force(plant.ended):
            continue
        item: dict[str, Any] = {
            "id": plant.plant_id,
            "pod": plant.pod,
            "owner": plant.owner,
            "power_kw": _number(plant.power_kw),
            "source": plant.source,
            "commissioned": plant.commissioned,
        }
        if plant.capital_grant_pct:
            item["capital_grant_pct"] = _number(plant.capital_grant_pct)
        if plant.voltage and plant.voltage != "lv":
            item["voltage"] = plant.voltage
        if plant.built_for_cer is not None:
            item["built_for_cer"] = plant.built_for_cer
        item.update(plant.extra or {})
        plant_list.append(item)
    document: dict[str, Any] = {"community": header, "members": member_list, "plants": plant_list}
    if community.settings is not None:
        document["settings"] = dict(community.settings)
    return document


async def editable_document(
    connection: AsyncConnection | AsyncSession, community_id: str
) -> dict[str, Any]:
    """The community file to edit and import again: ended PODs and plants left out.

    An import that lists an ended POD or plant brings it back (its end date is cleared), so
    a file offered for editing must not carry them; members keep their ``left`` day.
    """
    return await community_document(connection, community_id, date.max)


#: optional header keys of the community file stored as given in ``communities.extra``
HEADER_EXTRA_KEYS = ("configuration", "cu_afb_eur_mwh", "gse_fees")


def _pod_entry(row: Any) -> str | dict[str, Any]:
    """A POD of ``members[].pods``: its code, or ``{pod, cabina_primaria, label, role}``."""
    details = {
        key: getattr(row, key)
        for key in ("cabina_primaria", "label", "role")
        if getattr(row, key) is not None
    }
    return {"pod": row.pod, **details} if details else str(row.pod)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def jsonable(value: Any) -> Any:
    """Dates to ISO strings, recursively (for JSON columns and answers)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact; the engine reads numbers from strings
    return value


# --- what ingest needs, cached ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodRule:
    """What a reading of one POD must respect."""

    valid_from: datetime | None
    valid_until: datetime | None
    max_injected_wh: int
    max_withdrawn_wh: int
    max_produced_wh: int


@dataclass(slots=True)
class CommunityRules:
    """A community's PODs and finalised periods, as ingest checks them."""

    timezone: ZoneInfo
    pods: dict[str, PodRule]
    final_periods: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    #: plausibility bound of any energy of one point in one hour (community setting)
    max_hour_wh: int = DEFAULT_MAX_HOUR_WH

    def final_period_of(self, hour_start: datetime) -> str | None:
        """The finalised period that holds an hour, if any."""
        for start, end, period in self.final_periods:
            if start <= hour_start < end:
                return period
        return None


def _local_midnight(day: date | None, zone: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, dtime(0), tzinfo=zone).astimezone(UTC)


class RegistryCache:
    """Per-community rules for ingest, reloaded after 10 s or when told of a change."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._cache: dict[str, tuple[float, CommunityRules]] = {}

    def forget(self, community_id: str | None = None) -> None:
        """Drop the cached rules (of one community, or all)."""
        if community_id is None:
            self._cache.clear()
        else:
            self._cache.pop(community_id, None)

    async def rules(self, community_id: str) -> CommunityRules:
        """The current rules of a community."""
        now = time.monotonic()
        cached = self._cache.get(community_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._engine.connect() as connection:
            rules = await load_rules(connection, community_id)
        self._cache[community_id] = (now + CACHE_SECONDS, rules)
        return rules


def _hour_bound_wh(power_kw: float) -> int:
    """The most energy a point of ``power_kw`` can plausibly exchange in one hour (Wh), kept
    within 64 bits whatever the registry holds (a huge power cannot overflow)."""
    bound = power_kw * 1000 * PLAUSIBILITY_MARGIN
    if not math.isfinite(bound) or bound >= INT64_MAX:
        return INT64_MAX
    return max(0, int(bound))


async def load_rules(connection: AsyncConnection, community_id: str) -> CommunityRules:
    """Read a community's ingest rules from the database."""
    header = (
        await connection.execute(
            select(Community.timezone, Community.constituted, Community.max_hour_wh).where(
                Community.community_id == community_id
            )
        )
    ).first()
    if header is None:
        raise RegistryError(404, f"no community {community_id!r}")
    zone = ZoneInfo(header.timezone or DEFAULT_TIMEZONE)
    members = {
        row.member_id: row
        for row in (
            await connection.execute(
                select(Member.member_id, Member.joined, Member.left).where(
                    Member.community_id == community_id
                )
            )
        ).all()
    }
    plant_power: dict[str, float] = {}
    for plant_row in (
        await connection.execute(
            select(Plant.pod, Plant.power_kw).where(
                Plant.community_id == community_id, Plant.ended.is_(None)
            )
        )
    ).all():
        plant_power[plant_row.pod] = plant_power.get(plant_row.pod, 0.0) + float(plant_row.power_kw)
    pods: dict[str, PodRule] = {}
    for row in (
        await connection.execute(
            select(Pod.pod, Pod.member_id, Pod.power_kw, Pod.ended).where(
                Pod.community_id == community_id
            )
        )
    ).all():
        member = members.get(row.member_id)
        joined = (member.joined if member else None) or header.constituted
        ends = [d for d in (row.ended, member.left if member else None) if d is not None]
        point_kw = float(row.power_kw) if row.power_kw else DEFAULT_POINT_POWER_KW
        plant_kw = plant_power.get(row.pod)
        inject_kw = plant_kw if plant_kw is not None else point_kw
        pods[row.pod] = PodRule(
            valid_from=_local_midnight(joined, zone),
            valid_until=_local_midnight(min(ends), zone) if ends else None,
            max_injected_wh=_hour_bound_wh(inject_kw),
            max_withdrawn_wh=_hour_bound_wh(point_kw),
            max_produced_wh=_hour_bound_wh(max(inject_kw, plant_kw or 0)),
        )
    finals = (
        await connection.execute(
            select(
                SettlementRun.period_start, SettlementRun.period_end, SettlementRun.period
            ).where(SettlementRun.community_id == community_id, SettlementRun.status == "final")
        )
    ).all()
    return CommunityRules(
        timezone=zone,
        pods=pods,
        final_periods=[(as_utc(r.period_start), as_utc(r.period_end), r.period) for r in finals],
        max_hour_wh=header.max_hour_wh or DEFAULT_MAX_HOUR_WH,
    )
