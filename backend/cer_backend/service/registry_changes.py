"""A registry that changes safely: validated imports, diffs, end-dating, history, timeline.

``community import`` and ``POST /communities`` validate the file exactly as ``check`` does
(every structural problem and every broken GSE rule, each with its path); nothing is stored
when anything is wrong. The change is answered as a diff (members, PODs and plants added,
changed and *ended*: in the registry, absent from the file); applying it end-dates what the
file drops on the ``effective`` day (the first day no longer in force), never deletes.

Rules that change with time (a member's type, the member a POD belongs to) are kept in
``registry_timeline`` with the day they take effect: the document a settlement uses is the
registry as it was on the first day of its period (:func:`document_in_force`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ..domain import rules
from ..domain.community import Community as DomainCommunity
from ..domain.community import parse_community
from ..domain.eligibility import check_eligibility
from ..domain.errors import InvalidInput
from ..models import (
    Community,
    Member,
    Plant,
    Pod,
    RegistryChange,
    RegistryTimeline,
    as_utc,
    table,
    utcnow,
)
from .registry import RegistryError, community_document, import_community, jsonable

#: the only time zone of an Italian community (every region of the file is Italian)
ITALIAN_TIMEZONE = "Europe/Rome"
_POD = re.compile(rules.POD_PATTERN)
#: plant fields compared by the diff (the registry keeps them as columns)
PLANT_FIELDS = (
    "pod",
    "owner",
    "power_kw",
    "source",
    "commissioned",
    "capital_grant_pct",
    "voltage",
    "built_for_cer",
)
MEMBER_FIELDS = ("name", "type", "joined", "left", "ateco", "tax_code", "email", "public")
#: details of a POD compared by the diff when the file gives them (with the member it is of)
POD_FIELDS = ("cabina_primaria", "role", "label")


class RegistryRefused(RegistryError):
    """A community file or registry change that is refused as a whole.

    ``exit_code`` is what ``check`` would exit with: 2 for an invalid file (structure or
    value), 1 for a community that breaks a GSE rule.
    """

    def __init__(
        self,
        status: int,
        message: str,
        problems: list[dict[str, Any]] | None = None,
        exit_code: int = 2,
    ) -> None:
        super().__init__(status, message, problems)
        self.exit_code = exit_code


@dataclass(slots=True)
class Validation:
    """A community file that passed: the engine's community and the warnings of ``check``."""

    community: DomainCommunity
    warnings: list[dict[str, str]] = field(default_factory=list)


def pod_code(entry: Any) -> str:
    """The code of a POD of ``members[].pods``: a string, or ``{pod, cabina_primaria, …}``."""
    return str(entry["pod"]) if isinstance(entry, Mapping) else str(entry)


def _raw_pod_problems(data: Any) -> list[dict[str, str]]:
    """POD codes of a file that failed to parse, checked as ``check`` checks them (§8).

    The structure errors alone would hide these: they are listed with them.
    """
    problems: list[dict[str, str]] = []
    if not isinstance(data, Mapping):
        return problems
    members = data.get("members")
    for i, member in enumerate(members if isinstance(members, list) else []):
        pods = member.get("pods") if isinstance(member, Mapping) else None
        for j, entry in enumerate(pods if isinstance(pods, list) else []):
            pod = entry.get("pod") if isinstance(entry, Mapping) else entry
            if isinstance(pod, str) and not _POD.fullmatch(pod.strip()):
                problems.append(
                    {"field": f"members[{i}].pods[{j}]", "message": f"{pod!r} is not a POD code"}
                )
    plants = data.get("plants")
    for i, plant in enumerate(plants if isinstance(plants, list) else []):
        pod = plant.get("pod") if isinstance(plant, Mapping) else None
        if isinstance(pod, str) and not _POD.fullmatch(pod.strip()):
            problems.append({"field": f"plants[{i}].pod", "message": f"{pod!r} is not a POD code"})
    return problems


def timezone_problem(data: Any) -> dict[str, str] | None:
    """An Italian community's time zone is Europe/Rome (DESIGN.md: local Italian hours)."""
    head = data.get("community") if isinstance(data, Mapping) else None
    value = head.get("timezone") if isinstance(head, Mapping) else None
    if value is None or value == ITALIAN_TIMEZONE:
        return None
    return {
        "field": "community.timezone",
        "message": f"{value!r}: an Italian community's time zone is {ITALIAN_TIMEZONE}",
    }


def validate_community_file(data: Any) -> Validation:
    """Validate a community file exactly as ``cer-backend check`` does.

    Raises :class:`RegistryRefused` (422) listing every problem with its path: structural
    ones (exit code 2) or the GSE rules it breaks (exit code 1). Warnings are returned.
    """
    extra = [p for p in [timezone_problem(data)] if p is not None]
    try:
        community = parse_community(data)
    except InvalidInput as err:
        problems = [{"field": p.path, "message": p.message} for p in err.problems]
        known = {(p["field"], p["message"]) for p in problems}
        problems += [
            p for p in [*extra, *_raw_pod_problems(data)] if (p["field"], p["message"]) not in known
        ]
        raise RegistryRefused(422, "the community file is invalid", problems, 2) from err
    if extra:
        raise RegistryRefused(422, "the community file is invalid", extra, 2)
    findings = check_eligibility(community)
    errors = [{"field": f.path, "message": f.message} for f in findings if f.level == "error"]
    warnings = [{"field": f.path, "message": f.message} for f in findings if f.level == "warning"]
    if errors:
        raise RegistryRefused(422, "the community breaks a GSE rule", errors, 1)
    return Validation(community, warnings)


# --- the registry as it is, and the diff a file makes ---------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _num(value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def _as_is(value: Any) -> Any:
    return value


def _flag(value: Any) -> Any:
    return bool(_iso(value))


def _amount(value: Any) -> Any:
    return _num(value or 0)


def _voltage(value: Any) -> Any:
    return value or "lv"


#: plant fields compared as amounts (none is 0) and the voltage (none is low voltage);
#: the others as they are (days in ISO form)
_PLANT_NORMALISE: dict[str, Callable[[Any], Any]] = {
    "power_kw": _amount,
    "capital_grant_pct": _amount,
    "voltage": _voltage,
}


def _text_differs(old: Any, new: Any) -> bool:
    return str(old) != str(new)


def _value_differs(old: Any, new: Any) -> bool:
    return bool(old != new)


@dataclass(frozen=True, slots=True)
class Compared:
    """A field the diff compares: ``column`` of the registry row against ``name`` of the
    file's entry, both through ``normalise``; ``only_if_given``: compared only when the
    entry names it (a POD's details)."""

    name: str
    column: str = ""
    normalise: Callable[[Any], Any] = _iso
    only_if_given: bool = False

    @property
    def attribute(self) -> str:
        return self.column or self.name


@dataclass(frozen=True, slots=True)
class EntityKind:
    """How one kind of registry row (members, PODs, plants) is diffed, ended and re-added.

    ``section``: its part of the diff; ``model``/``key``: its table and the key of a row;
    ``end``: the column that end-dates a row (null while in force); ``entries``: the file's
    entries by key; ``fields``: what is compared; ``differs``: when two values differ;
    ``added``/``changed``: the diff's line for an entry added or changed; ``readds``: whether
    an ended row listed again is added again (in force again) or just compared;
    ``member_column``: the column naming the member a row belongs to (it ends with him).
    """

    section: str
    model: type[Member] | type[Pod] | type[Plant]
    key: str
    end: str
    entries: Callable[[Mapping[str, Any]], dict[str, Mapping[str, Any]]]
    fields: tuple[Compared, ...]
    differs: Callable[[Any, Any], bool]
    added: Callable[[str, Mapping[str, Any]], Any]
    changed: Callable[[str, dict[str, list[Any]]], dict[str, Any]]
    readds: bool
    member_column: str | None = None


def _member_entries(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(m["id"]): m for m in data.get("members") or []}


def _pod_entries(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each POD of the file with its details and (as ``member``) the member it belongs to."""
    entries: dict[str, Mapping[str, Any]] = {}
    for member_id, member in _member_entries(data).items():
        for entry in member.get("pods") or []:
            details = dict(entry) if isinstance(entry, Mapping) else {}
            entries[pod_code(entry)] = {**details, "member": member_id}
    return entries


def _plant_entries(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(p["id"]): p for p in data.get("plants") or []}


#: the kinds of registry rows a community file lists, in the order of the diff
ENTITY_KINDS = (
    EntityKind(
        section="members",
        model=Member,
        key="member_id",
        end="left",
        entries=_member_entries,
        fields=tuple(
            Compared(name, normalise=_flag if name == "public" else _iso) for name in MEMBER_FIELDS
        ),
        differs=_text_differs,
        added=lambda key, entry: key,
        changed=lambda key, fields: {"id": key, "fields": fields},
        readds=False,
    ),
    EntityKind(
        section="pods",
        model=Pod,
        key="pod",
        end="ended",
        entries=_pod_entries,
        fields=(
            Compared("member", "member_id", _as_is),
            *(Compared(name, "", _as_is, only_if_given=True) for name in POD_FIELDS),
        ),
        differs=_value_differs,
        added=lambda key, entry: {"pod": key, "member": entry["member"]},
        changed=lambda key, fields: {"pod": key, "fields": fields},
        readds=True,
        member_column="member_id",
    ),
    EntityKind(
        section="plants",
        model=Plant,
        key="plant_id",
        end="ended",
        entries=_plant_entries,
        fields=tuple(
            Compared(name, normalise=_PLANT_NORMALISE.get(name, _iso)) for name in PLANT_FIELDS
        ),
        differs=_text_differs,
        added=lambda key, entry: key,
        changed=lambda key, fields: {"id": key, "fields": fields},
        readds=True,
    ),
)


async def registry_state(
    session: AsyncSession | AsyncConnection, community_id: str
) -> dict[str, dict[str, Any]]:
    """The registry rows of a community by kind (``members``, ``pods``, ``plants``), each
    keyed by its id (ended rows included)."""
    state: dict[str, dict[str, Any]] = {}
    for kind in ENTITY_KINDS:
        statement = select(table(kind.model)).where(kind.model.community_id == community_id)
        state[kind.section] = {
            getattr(row, kind.key): row for row in (await session.execute(statement)).all()
        }
    return state


def _section() -> dict[str, list[Any]]:
    return {"added": [], "changed": [], "ended": []}


def _changed_fields(kind: EntityKind, row: Any, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The compared fields of ``kind`` in which the registry ``row`` and the file's ``entry``
    differ, as ``{name: [old, new]}``."""
    fields: dict[str, list[Any]] = {}
    for compared in kind.fields:
        if not hasattr(row, compared.attribute):
            continue
        if compared.only_if_given and compared.name not in entry:
            continue
        old = compared.normalise(getattr(row, compared.attribute))
        new = compared.normalise(entry.get(compared.name))
        if kind.differs(old, new):
            fields[compared.name] = [old, new]
    return fields


def _kind_diff(
    kind: EntityKind, rows: Mapping[str, Any], entries: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """One kind's part of the diff: entries added (new, or ended and listed again when the
    kind re-adds), changed (their compared fields), and rows ended (in force, not listed)."""
    section = _section()
    for key, entry in entries.items():
        row = rows.get(key)
        if row is None or (kind.readds and getattr(row, kind.end) is not None):
            section["added"].append(kind.added(key, entry))
            continue
        fields = _changed_fields(kind, row, entry)
        if fields:
            section["changed"].append(kind.changed(key, fields))
    section["ended"] = [
        key for key, row in rows.items() if key not in entries and getattr(row, kind.end) is None
    ]
    return section


def _header_diff(header: Any, head: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The community's own fields that the file changes, as ``{name: [old, new]}``."""
    changed: dict[str, list[Any]] = {}
    for name in ("region", "cabina_primaria", "constituted", "timezone", "market_zone"):
        old = _iso(getattr(header, name))
        new = _iso(head.get(name, ITALIAN_TIMEZONE if name == "timezone" else None))
        if str(old) != str(new) and not (old is None and new is None):
            changed[name] = [old, new]
    for name in ("cu_afa_eur_mwh", "statute"):
        old = jsonable(getattr(header, name) or {})
        new = jsonable(dict(head.get(name) or {}))
        if {k: str(v) for k, v in old.items()} != {k: str(v) for k, v in new.items()}:
            changed[name] = [old, new]
    return changed


def file_diff(
    state: Mapping[str, Mapping[str, Any]] | None,
    data: Mapping[str, Any],
    header: Any = None,
) -> dict[str, Any]:
    """What applying the file changes: members, PODs and plants added, changed and ended.

    *Ended*: active in the registry (not end-dated) and absent from the file.
    """
    diff: dict[str, Any] = {
        "community": {"changed": {} if header is None else _header_diff(header, data["community"])}
    }
    for kind in ENTITY_KINDS:
        rows = (state or {}).get(kind.section, {})
        diff[kind.section] = _kind_diff(kind, rows, kind.entries(data))
    return diff


def ends_anything(diff: Mapping[str, Any]) -> bool:
    """Whether the diff end-dates a member, POD or plant."""
    return any(diff[kind.section]["ended"] for kind in ENTITY_KINDS)


async def _pod_conflicts(
    session: AsyncSession, community_id: str | None, pods: Sequence[str]
) -> list[tuple[str, str]]:
    """(POD, other community id) for each POD active in another community."""
    if not pods:
        return []
    statement = select(Pod.pod, Pod.community_id).where(
        Pod.pod.in_(list(pods)), Pod.ended.is_(None)
    )
    if community_id is not None:
        statement = statement.where(Pod.community_id != community_id)
    found = [(row.pod, row.community_id) for row in (await session.execute(statement)).all()]
    plant_statement = select(Plant.pod, Plant.community_id).where(
        Plant.pod.in_(list(pods)), Plant.ended.is_(None)
    )
    if community_id is not None:
        plant_statement = plant_statement.where(Plant.community_id != community_id)
    found += [(row.pod, row.community_id) for row in (await session.execute(plant_statement)).all()]
    return sorted(set(found))


def _conflict_error(conflicts: list[tuple[str, str]]) -> RegistryRefused:
    """409 naming each POD and the community it is active in (nothing else of that one)."""
    problems = [
        {"field": "pods", "message": f"POD {pod} is active in another community ({other})"}
        for pod, other in conflicts
    ]
    first_pod, first_other = conflicts[0]
    return RegistryRefused(
        409, f"POD {first_pod} is active in another community ({first_other})", problems, 1
    )


async def record_change(
    session: AsyncSession,
    community_id: str,
    action: str,
    diff: Mapping[str, Any],
    actor: str | None,
    *,
    effective: date | None = None,
) -> int:
    """Keep one change of the registry in its history; returns the change id."""
    change = RegistryChange(
        community_id=community_id,
        recorded_at=utcnow(),
        recorded_by=actor,
        action=action,
        effective=effective,
        diff=jsonable(dict(diff)),
    )
    session.add(change)
    await session.flush()
    return int(change.change_id)


class _Raced(Exception):
    """A concurrent change won the race (the database refused this one)."""


def _file_pod_codes(data: Mapping[str, Any]) -> list[str]:
    return sorted(
        {pod_code(p) for m in data.get("members") or [] for p in m.get("pods") or []}
        | {str(p["pod"]) for p in data.get("plants") or []}
    )


async def apply_import(
    engine: AsyncEngine,
    data: Any,
    *,
    dry_run: bool = False,
    effective: date | None = None,
    actor: str | None = None,
    allowed_community: str | None = None,
) -> dict[str, Any]:
    """Validate a community file, diff it against the registry and (unless dry) apply it.

    Returns ``{"id", "created", "dry_run", "effective", "effective_required", "diff",
    "warnings"}``. Raises :class:`RegistryRefused`: 422 (invalid file, or ``effective``
    missing when something would end), 409 (a POD active in another community, also when a
    concurrent import took it first: the database refuses the second), 403
    (``allowed_community`` is set and the file names another community). One transaction:
    nothing is half-stored.
    """
    try:
        return await _apply_import(
            engine,
            data,
            dry_run=dry_run,
            effective=effective,
            actor=actor,
            allowed_community=allowed_community,
        )
    except _Raced as err:
        name = str(data["community"]["name"]).strip()
        async with AsyncSession(engine) as session:
            own = await session.scalar(select(Community.community_id).where(Community.name == name))
            conflicts = await _pod_conflicts(session, own, _file_pod_codes(data))
        if conflicts:
            raise _conflict_error(conflicts) from err
        raise RegistryRefused(
            409, "the registry changed meanwhile (another import of this community): try again"
        ) from err


async def _apply_import(
    engine: AsyncEngine,
    data: Any,
    *,
    dry_run: bool = False,
    effective: date | None = None,
    actor: str | None = None,
    allowed_community: str | None = None,
) -> dict[str, Any]:
    """:func:`apply_import` in one transaction; :class:`_Raced` when the database refused it."""
    validation = validate_community_file(data)
    name = str(data["community"]["name"]).strip()
    file_pods = _file_pod_codes(data)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        header = await session.scalar(select(Community).where(Community.name == name))
        if allowed_community is not None and (
            header is None or header.community_id != allowed_community
        ):
            raise RegistryRefused(403, "an admin of one community may update only that community")
        community_id = header.community_id if header is not None else None
        state = await registry_state(session, community_id) if community_id else None
        diff = file_diff(state, data, header)
        conflicts = await _pod_conflicts(session, community_id, file_pods)
        if conflicts:
            raise _conflict_error(conflicts)
        answer: dict[str, Any] = {
            "id": community_id,
            "created": community_id is None,
            "dry_run": dry_run,
            "effective": effective.isoformat() if effective else None,
            "effective_required": ends_anything(diff),
            "diff": diff,
            "warnings": validation.warnings,
        }
        if dry_run:
            return answer
        if ends_anything(diff) and effective is None:
            raise RegistryRefused(
                422,
                "the file drops members, PODs or plants: say from which day they end",
                [{"field": "effective", "message": "is required when something would end"}],
            )
        try:
            community_id, created = await import_community(engine, data, session)
            await _end_and_reactivate(session, community_id, diff, data, effective)
            if effective is not None and state is not None:
                await _timeline(session, community_id, diff, state, effective)
            await session.flush()
        except IntegrityError as err:  # a concurrent change: a POD taken, the same name created
            raise _Raced from err
        await record_change(
            session,
            community_id,
            "create" if created else "import",
            diff,
            actor,
            effective=effective,
        )
        answer["id"], answer["created"] = community_id, created
    return answer


async def _end_and_reactivate(
    session: AsyncSession,
    community_id: str,
    diff: Mapping[str, Any],
    data: Mapping[str, Any],
    effective: date | None,
) -> None:
    """End-date what the file drops (members with their PODs, PODs, plants) on ``effective``;
    PODs and plants the file lists again are in force again."""
    if effective is not None:
        for kind in ENTITY_KINDS:
            ended = list(diff[kind.section]["ended"])
            if kind.member_column is not None and diff["members"]["ended"]:
                await _set_end(
                    session,
                    kind,
                    community_id,
                    getattr(kind.model, kind.member_column).in_(list(diff["members"]["ended"])),
                    effective,
                    only_in_force=True,
                )
            if ended:
                await _set_end(
                    session, kind, community_id, getattr(kind.model, kind.key).in_(ended), effective
                )
    for kind in ENTITY_KINDS:
        listed = list(kind.entries(data))
        if kind.readds and listed:
            column = getattr(kind.model, kind.end)
            await session.execute(
                update(kind.model)
                .where(
                    kind.model.community_id == community_id,
                    getattr(kind.model, kind.key).in_(listed),
                    column.is_not(None),
                )
                .values({kind.end: None})
            )


async def _set_end(
    session: AsyncSession,
    kind: EntityKind,
    community_id: str,
    which: Any,
    effective: date,
    *,
    only_in_force: bool = False,
) -> None:
    """End-date the rows of ``kind`` that ``which`` selects on ``effective``."""
    statement = update(kind.model).where(kind.model.community_id == community_id, which)
    if only_in_force:
        statement = statement.where(getattr(kind.model, kind.end).is_(None))
    await session.execute(statement.values({kind.end: effective}))


async def _timeline(
    session: AsyncSession,
    community_id: str,
    diff: Mapping[str, Any],
    state: Mapping[str, Mapping[str, Any]],
    effective: date,
) -> None:
    """Dated changes: a member's type, a POD moving to another member or joining."""
    entries = []
    for change in diff["members"]["changed"]:
        if "type" in change["fields"]:
            old, new = change["fields"]["type"]
            entries.append(("member", change["id"], "type", old, new))
    for change in diff["pods"]["changed"]:
        if "member" in change["fields"]:
            old, new = change["fields"]["member"]
            entries.append(("pod", change["pod"], "member_id", old, new))
    for added in diff["pods"]["added"]:
        if added["member"] not in diff["members"]["added"]:
            entries.append(("pod", added["pod"], "member_id", None, added["member"]))
    for entry in entries:
        await record_dated_change(session, community_id, entry, effective)


async def record_dated_change(
    session: AsyncSession,
    community_id: str,
    entry: tuple[str, str, str, str | None, str | None],
    effective: date,
) -> None:
    """Keep (entity, key, attribute, old value, new value) as changing on ``effective``.

    One line of time per attribute: a change dated before the last dated change of the same
    attribute is refused (422), since the old value it names would not be the one in force.
    """
    entity, key, attribute, old, new = entry
    latest = await session.scalar(
        select(func.max(RegistryTimeline.effective)).where(
            RegistryTimeline.community_id == community_id,
            RegistryTimeline.entity == entity,
            RegistryTimeline.key == key,
            RegistryTimeline.attribute == attribute,
        )
    )
    if latest is not None and effective < latest:
        raise RegistryRefused(
            422,
            f"the {attribute} of {entity} {key} already changes on {latest.isoformat()}:"
            " a dated change cannot be earlier",
            [{"field": "effective", "message": f"must be on or after {latest.isoformat()}"}],
        )
    session.add(
        RegistryTimeline(
            community_id=community_id,
            entity=entity,
            key=key,
            attribute=attribute,
            old_value=old,
            new_value=new,
            effective=effective,
        )
    )


# --- the registry as it was ------------------------------------------------------------------


async def document_in_force(
    connection: AsyncConnection | AsyncSession, community_id: str, day: date
) -> dict[str, Any]:
    """The community file of the registry as it was on ``day``.

    The rows give the registry as it is (with its end dates); each dated change that takes
    effect after ``day`` is undone, newest first: the member's old type, the POD back with
    its old member (or out of the community when it joined later).
    """
    document = await community_document(connection, community_id, day)
    entries = (
        await connection.execute(
            select(table(RegistryTimeline))
            .where(RegistryTimeline.community_id == community_id, RegistryTimeline.effective > day)
            .order_by(RegistryTimeline.effective.desc(), RegistryTimeline.entry_id.desc())
        )
    ).all()
    members = {m["id"]: m for m in document["members"]}
    for entry in entries:
        if entry.entity == "member" and entry.attribute == "type" and entry.key in members:
            members[entry.key]["type"] = entry.old_value
        elif entry.entity == "pod" and entry.attribute == "member_id":
            moved: Any = entry.key
            for member in members.values():
                kept = [p for p in member["pods"] if pod_code(p) != entry.key]
                if len(kept) != len(member["pods"]):
                    moved = next(p for p in member["pods"] if pod_code(p) == entry.key)
                    member["pods"] = kept
            if entry.old_value is not None and entry.old_value in members:
                members[entry.old_value]["pods"].append(moved)
    return document


# --- history ----------------------------------------------------------------------------------


async def history(engine: AsyncEngine, community_id: str) -> list[dict[str, Any]]:
    """Every change of a community's registry, oldest first: who, when, from which day, diff."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(table(RegistryChange))
                .where(RegistryChange.community_id == community_id)
                .order_by(RegistryChange.change_id)
            )
        ).all()
    return [
        {
            "id": row.change_id,
            "at": as_utc(row.recorded_at).isoformat(),
            "by": row.recorded_by,
            "action": row.action,
            "effective": row.effective.isoformat() if row.effective else None,
            "diff": row.diff,
        }
        for row in rows
    ]


async def enforce_valid_registry(session: AsyncSession, community_id: str) -> list[dict[str, str]]:
    """After a change made in ``session`` (flushed, not committed): the registry must still
    pass ``check``; raises :class:`RegistryRefused` (422) otherwise, so the caller's
    transaction is rolled back. Returns the warnings."""
    await session.flush()
    document = jsonable(await community_document(session, community_id))
    return validate_community_file(document).warnings
