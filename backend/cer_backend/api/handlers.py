"""Handlers of ingest, live data, tokens and the registry."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Community, Member, Plant, Pod, Token, as_utc, utcnow
from ..service.bounds import DEFAULT_MAX_HOUR_WH, INT32_MAX
from ..service.estimates import tip_estimate_now
from ..service.ingest import CLOCK_SKEW, ingest_readings
from ..service.live import Snapshot
from ..service.registry import (
    RegistryError,
    check_community_file,
    community_document,
    jsonable,
)
from ..service.registry_changes import (
    apply_import,
    enforce_valid_registry,
    record_change,
    record_dated_change,
)
from ..service.tokens import TokenError, create_token, revoke_token
from . import schemas as s
from .guards import check_live_figures, wire_time
from .keys import COMMITTER_KEY, ENGINE_KEY, LIVE_KEY, REGISTRY_KEY
from .problems import ApiError
from .routing import TOKENS_KEY, WARNINGS_KEY, Context, Route


def strict_dumps(data: Any) -> str:
    """JSON text; a NaN or infinity raises instead of writing ``NaN`` (not JSON)."""
    return json.dumps(data, allow_nan=False)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON answer (dates as ISO strings); never a non-finite number (not JSON)."""
    return web.json_response(jsonable(data), status=status, dumps=strict_dumps)


async def scoped_community(context: Context, requested: str | None = None) -> str:
    """The community a request is about: the token's own, or (global admin) the one named."""
    principal = context.require_principal()
    if principal.community_id is not None:
        if requested is not None and requested != principal.community_id:
            raise ApiError(403, "this token belongs to another community")
        return principal.community_id
    engine = context.app[ENGINE_KEY]
    async with engine.connect() as connection:
        if requested is not None:
            found = await connection.scalar(
                select(Community.community_id).where(Community.community_id == requested)
            )
            if found is None:
                raise ApiError(404, f"no community {requested!r}")
            return requested
        ids = (await connection.scalars(select(Community.community_id).limit(2))).all()
    if len(ids) == 1:
        return ids[0]
    raise ApiError(
        422,
        "say which community: ?community=ID",
        errors=[{"field": "community", "message": "is required"}],
    )


async def _rules(context: Context, community_id: str) -> Any:
    try:
        return await context.app[REGISTRY_KEY].rules(community_id)
    except RegistryError as err:
        raise ApiError(err.status, str(err)) from err


def _check_site_pod(context: Context, rules: Any, pod: str) -> None:
    principal = context.require_principal()
    if pod not in principal.pods:
        raise ApiError(
            403,
            f"this token may not write POD {pod}",
            errors=[{"field": "pod", "message": "not in the token's scope"}],
        )
    if pod not in rules.pods:
        raise ApiError(
            422,
            f"the community has no POD {pod}",
            errors=[{"field": "pod", "message": "unknown POD"}],
        )


# --- ingest and live --------------------------------------------------------------------------


async def post_readings(context: Context) -> web.StreamResponse:
    """``POST /readings``: one POD's closed hours."""
    body = context.body
    community_id = await scoped_community(context)
    rules = await _rules(context, community_id)
    _check_site_pod(context, rules, body["pod"])
    outcome = await ingest_readings(
        context.app[ENGINE_KEY],
        rules,
        community_id,
        body["pod"],
        body["readings"],
        token_id=context.require_principal().token_id,
        committer=context.app[COMMITTER_KEY],
    )
    # DESIGN.md: one bad reading never sinks the batch, so item problems (422) and readings of
    # a finalised period (409) are answered per item in "rejected", with that status, even
    # when every item is refused: the uploader then drops those hours and goes on, where a
    # 4xx for the whole request would make it retry the same batch for ever.
    return json_response(outcome.as_dict())


async def post_live(context: Context) -> web.StreamResponse:
    """``POST /live``: a site's minute snapshot; answers the community's live figures."""
    body = context.body
    community_id = await scoped_community(context)
    rules = await _rules(context, community_id)
    _check_site_pod(context, rules, body["pod"])
    ts = wire_time(body["ts"], "ts")
    check_live_figures(body, rules, body["pod"])
    now = utcnow()
    if ts > now + CLOCK_SKEW:
        raise ApiError(
            422, "ts is in the future", errors=[{"field": "ts", "message": "in the future"}]
        )
    await context.app[LIVE_KEY].put(
        community_id,
        body["pod"],
        Snapshot(
            ts=ts,
            injection_w=float(body["injection_w"]),
            withdrawal_w=float(body["withdrawal_w"]),
            hour_injected_wh=int(body["hour_injected_wh"]),
            hour_withdrawn_wh=int(body["hour_withdrawn_wh"]),
            received_at=now,
            unavailable_devices=tuple(dict.fromkeys(body.get("unavailable_devices") or ())),
        ),
    )
    return await _community_live(context, community_id, rules)


async def _community_live(context: Context, community_id: str, rules: Any) -> web.StreamResponse:

    tip = await tip_estimate_now(context.app[ENGINE_KEY], community_id)
    store = context.app[LIVE_KEY]
    expected = await store.ha_sites.pods(community_id, store.last_live(community_id))
    return json_response(
        store.community_live(community_id, rules, tip_estimate_eur_mwh=tip, expected=expected)
    )


async def get_community_live(context: Context) -> web.StreamResponse:
    """``GET /community/live``."""
    community_id = await scoped_community(context, context.request.query.get("community"))
    return await _community_live(context, community_id, await _rules(context, community_id))


# --- tokens -----------------------------------------------------------------------------------


def _token_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.token_id,
        "role": row.role,
        "community": row.community_id,
        "pods": list(row.pods or []),
        "label": row.label,
        "created_at": as_utc(row.created_at),  # SQLite gives naive UTC: with its offset
        "revoked_at": None if row.revoked_at is None else as_utc(row.revoked_at),
    }


async def post_token(context: Context) -> web.StreamResponse:
    """``POST /tokens``: the secret is in this answer only."""
    principal = context.require_principal()
    body = context.body
    community = body.get("community")
    if principal.community_id is not None:
        community = await scoped_community(context, community)
    try:
        secret, token_id = await create_token(
            context.app[ENGINE_KEY],
            body["role"],
            community,
            body.get("pods") or (),
            body.get("label"),
        )
    except TokenError as err:
        raise ApiError(422, str(err)) from err
    return json_response(
        {
            "id": token_id,
            "token": secret,
            "role": body["role"],
            "community": community,
            "pods": sorted(set(body.get("pods") or [])),
        },
        201,
    )


async def get_tokens(context: Context) -> web.StreamResponse:
    """``GET /tokens``: tokens of the admin's scope (never the secrets)."""
    principal = context.require_principal()
    statement = select(Token).order_by(Token.token_id)
    if principal.community_id is not None:
        statement = statement.where(Token.community_id == principal.community_id)
    async with AsyncSession(context.app[ENGINE_KEY]) as session:
        rows = (await session.scalars(statement)).all()
        return json_response([_token_view(row) for row in rows])


async def revoke(context: Context) -> web.StreamResponse:
    """``POST /tokens/{token_id}/revoke``."""
    try:
        token_id = int(context.request.match_info["token_id"])
    except ValueError as err:
        raise ApiError(404, "no such token") from err
    if not 1 <= token_id <= INT32_MAX:  # ids are 32-bit integers on PostgreSQL
        raise ApiError(404, "no such token")
    principal = context.require_principal()
    if not await revoke_token(context.app[ENGINE_KEY], token_id, principal.community_id):
        raise ApiError(404, "no such active token")
    context.app[TOKENS_KEY].forget()
    return json_response({"id": token_id, "revoked": True})


# --- registry ---------------------------------------------------------------------------------


async def post_community(context: Context) -> web.StreamResponse:
    """``POST /communities``: a community file as JSON creates or updates (same name).

    Validated as ``check`` validates (422 with every problem, nothing stored);
    ``?dry_run=true`` answers the diff only; ``?effective=DATE`` end-dates what the file drops
    (required when something would end); a POD active in another community is 409.
    """
    principal = context.require_principal()
    query = context.request.query
    try:
        answer = await apply_import(
            context.app[ENGINE_KEY],
            context.body,
            dry_run=query.get("dry_run", "false").lower() in ("1", "true", "yes"),
            effective=_query_date(query.get("effective"), "effective"),
            actor=actor_of(principal),
            allowed_community=principal.community_id,
        )
    except RegistryError as err:
        raise ApiError(err.status, str(err), errors=err.problems) from err
    if answer["dry_run"]:
        return json_response(answer)
    community_id = answer["id"]
    context.app[REGISTRY_KEY].forget(community_id)
    response = await _community_view(
        context, community_id, 201 if answer["created"] else 200, answer["created"]
    )
    assert isinstance(response, web.Response) and response.text is not None
    view = json.loads(response.text)
    view.update(diff=answer["diff"], warnings=answer["warnings"], effective=answer["effective"])
    return json_response(view, response.status)


def actor_of(principal: Any) -> str:
    """Who made a change, for the registry history (the token, never its secret)."""
    scope = principal.community_id or "all communities"
    return f"token {principal.token_id} ({principal.role}, {scope})"


def _query_date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise ApiError(
            422,
            f"{name} must be a date YYYY-MM-DD",
            errors=[{"field": name, "message": "must be a date YYYY-MM-DD"}],
        ) from err


async def _community_view(
    context: Context, community_id: str, status: int = 200, created: bool | None = None
) -> web.StreamResponse:
    async with AsyncSession(context.app[ENGINE_KEY]) as session:
        community = await session.get(Community, community_id)
        if community is None:
            raise ApiError(404, f"no community {community_id!r}")
        counts = {}
        for name, model in (("members", Member), ("pods", Pod), ("plants", Plant)):
            counts[name] = await session.scalar(
                select(func.count()).select_from(model).where(model.community_id == community_id)
            )
        data: dict[str, Any] = {
            "id": community.community_id,
            "name": community.name,
            "region": community.region,
            "market_zone": community.market_zone,
            "cabina_primaria": community.cabina_primaria,
            "constituted": community.constituted,
            "timezone": community.timezone,
            "cu_afa_eur_mwh": community.cu_afa_eur_mwh,
            "statute": community.statute,
            "max_hour_wh": community.max_hour_wh or DEFAULT_MAX_HOUR_WH,
            **counts,
        }
    if created is not None:
        data["created"] = created
    return json_response(data, status)


async def get_communities(context: Context) -> web.StreamResponse:
    """``GET /communities``."""
    principal = context.require_principal()
    statement = select(Community.community_id, Community.name).order_by(Community.community_id)
    if principal.community_id is not None:
        statement = statement.where(Community.community_id == principal.community_id)
    async with context.app[ENGINE_KEY].connect() as connection:
        rows = (await connection.execute(statement)).all()
    return json_response([{"id": r.community_id, "name": r.name} for r in rows])


async def get_community(context: Context) -> web.StreamResponse:
    """``GET /communities/{community}``."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    return await _community_view(context, community_id)


async def patch_community(context: Context) -> web.StreamResponse:
    """``PATCH /communities/{community}``."""
    community_id = await scoped_community(context, context.request.match_info["community"])
    async with AsyncSession(context.app[ENGINE_KEY]) as session, session.begin():
        community = await session.get(Community, community_id)
        assert community is not None
        before = {key: jsonable(getattr(community, key)) for key in context.body}
        for key, value in context.body.items():
            setattr(community, key, value)
        community.updated_at = utcnow()
        await strict_registry(context, session, community_id)
        changed = {k: [before[k], jsonable(v)] for k, v in context.body.items() if before[k] != v}
        await record_change(
            session,
            community_id,
            "patch",
            {"community": {"changed": changed}},
            actor_of(context.require_principal()),
        )
    await _check_document(context, community_id)
    context.app[REGISTRY_KEY].forget(community_id)
    return await _community_view(context, community_id)


async def strict_registry(context: Context, session: AsyncSession, community_id: str) -> None:
    """The registry after a change (flushed, uncommitted) must pass ``check``: else 422, and
    the transaction is rolled back (nothing stored)."""
    try:
        await enforce_valid_registry(session, community_id)
    except RegistryError as err:
        raise ApiError(err.status, str(err), errors=err.problems) from err


async def _check_document(context: Context, community_id: str) -> None:
    """After a registry change, say (as warnings) what the engine finds wrong, if anything."""

    async with context.app[ENGINE_KEY].connect() as connection:
        document = await community_document(connection, community_id)
    try:
        check_community_file(jsonable(document))
    except RegistryError as err:
        context.request[WARNINGS_KEY] = err.problems
    except ImportError:
        pass


MODELS: dict[str, Any] = {"members": Member, "pods": Pod, "plants": Plant}
KEYS = {"members": "member_id", "pods": "pod", "plants": "plant_id"}


def _entity_view(kind: str, row: Any) -> dict[str, Any]:
    if kind == "members":
        return {
            "id": row.member_id,
            "name": row.name,
            "type": row.type,
            "joined": row.joined,
            "left": row.left,
        }
    if kind == "pods":
        return {
            "pod": row.pod,
            "member": row.member_id,
            "power_kw": row.power_kw,
            "label": row.label,
            "ended": row.ended,
        }
    return {
        "id": row.plant_id,
        "pod": row.pod,
        "owner": row.owner,
        "power_kw": row.power_kw,
        "source": row.source,
        "commissioned": row.commissioned,
        "capital_grant_pct": row.capital_grant_pct,
        "voltage": row.voltage,
        "ended": row.ended,
    }


def _list_handler(kind: str) -> Any:
    async def handler(context: Context) -> web.StreamResponse:
        community_id = await scoped_community(context, context.request.match_info["community"])
        model = MODELS[kind]
        async with AsyncSession(context.app[ENGINE_KEY]) as session:
            rows = (
                await session.scalars(
                    select(model)
                    .where(model.community_id == community_id)
                    .order_by(getattr(model, KEYS[kind]))
                )
            ).all()
            return json_response([_entity_view(kind, row) for row in rows])

    handler.__doc__ = f"``GET /communities/{{community}}/{kind}``."
    return handler


def _dates(data: dict[str, Any], *names: str) -> dict[str, Any]:
    out = dict(data)
    for name in names:
        if out.get(name) is not None:
            out[name] = date.fromisoformat(out[name])
    return out


def _create_handler(kind: str) -> Any:
    async def handler(context: Context) -> web.StreamResponse:
        community_id = await scoped_community(context, context.request.match_info["community"])
        body = dict(context.body)
        async with AsyncSession(context.app[ENGINE_KEY]) as session, session.begin():
            if kind == "members":
                if await session.get(Member, (community_id, body["id"])) is not None:
                    raise ApiError(409, f"member {body['id']!r} exists")
                data = _dates(body, "joined", "left")
                row: Any = Member(
                    community_id=community_id,
                    member_id=data["id"],
                    name=data["name"],
                    type=data["type"],
                    joined=data.get("joined"),
                    left=data.get("left"),
                    position=await _next_position(session, Member, community_id),
                )
                session.add(row)
                await session.flush()
                for position, pod in enumerate(body.get("pods") or []):
                    await _new_pod(session, community_id, pod, data["id"], position=position)
            elif kind == "pods":
                if await session.get(Member, (community_id, body["member"])) is None:
                    raise ApiError(
                        422,
                        f"no member {body['member']!r}",
                        errors=[{"field": "member", "message": "unknown member"}],
                    )
                row = await _new_pod(
                    session,
                    community_id,
                    body["pod"],
                    body["member"],
                    position=99,
                    power_kw=body.get("power_kw"),
                    label=body.get("label"),
                )
            else:
                if await session.get(Plant, (community_id, body["id"])) is not None:
                    raise ApiError(409, f"plant {body['id']!r} exists")
                data = _dates(body, "commissioned")
                row = Plant(
                    community_id=community_id,
                    plant_id=data["id"],
                    pod=data["pod"],
                    owner=data["owner"],
                    power_kw=float(data["power_kw"]),
                    source=data["source"],
                    commissioned=data["commissioned"],
                    capital_grant_pct=float(data.get("capital_grant_pct") or 0),
                    voltage=data.get("voltage") or "lv",
                    extra={},
                    position=await _next_position(session, Plant, community_id),
                )
                session.add(row)
            await session.flush()
            view = _entity_view(kind, row)
            await strict_registry(context, session, community_id)
            await record_change(
                session,
                community_id,
                f"create {kind[:-1]}",
                {kind: {"added": [jsonable(view)]}},
                actor_of(context.require_principal()),
            )
        context.app[REGISTRY_KEY].forget(community_id)
        await _check_document(context, community_id)
        if context.request.get(WARNINGS_KEY):
            view["warnings"] = context.request[WARNINGS_KEY]
        return json_response(view, 201)

    handler.__doc__ = f"``POST /communities/{{community}}/{kind}``."
    return handler


async def _next_position(session: AsyncSession, model: Any, community_id: str) -> int:
    """After the last member or plant (the order of the community file is kept)."""
    last = await session.scalar(
        select(func.max(model.position)).where(model.community_id == community_id)
    )
    return 0 if last is None else int(last) + 1


async def _new_pod(
    session: AsyncSession,
    community_id: str,
    pod: str,
    member_id: str,
    *,
    position: int,
    power_kw: float | None = None,
    label: str | None = None,
) -> Pod:
    existing = await session.get(Pod, (community_id, pod))
    if existing is not None:
        raise ApiError(409, f"POD {pod} exists")
    taken = await session.scalar(
        select(Pod.community_id).where(Pod.pod == pod, Pod.ended.is_(None))
    )
    if taken is not None:
        raise ApiError(409, f"POD {pod} belongs to another community")
    row = Pod(
        community_id=community_id,
        pod=pod,
        member_id=member_id,
        position=position,
        power_kw=power_kw,
        label=label,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as err:  # another community took it meanwhile (one active POD)
        raise ApiError(409, f"POD {pod} became active in another community meanwhile") from err
    return row


async def _load(session: AsyncSession, kind: str, community_id: str, key: str) -> Any:
    row = await session.get(MODELS[kind], (community_id, key))
    if row is None:
        raise ApiError(404, f"no {kind[:-1]} {key!r} in community {community_id!r}")
    return row


def _get_handler(kind: str) -> Any:
    async def handler(context: Context) -> web.StreamResponse:
        community_id = await scoped_community(context, context.request.match_info["community"])
        async with AsyncSession(context.app[ENGINE_KEY]) as session:
            row = await _load(session, kind, community_id, context.request.match_info["key"])
            return json_response(_entity_view(kind, row))

    handler.__doc__ = f"``GET /communities/{{community}}/{kind}/{{key}}``."
    return handler


FIELD_MAP = {"members": {"left": "left", "joined": "joined"}, "plants": {}, "pods": {}}


def _patch_handler(kind: str) -> Any:
    async def handler(context: Context) -> web.StreamResponse:
        community_id = await scoped_community(context, context.request.match_info["community"])
        async with AsyncSession(context.app[ENGINE_KEY]) as session, session.begin():
            row = await _load(session, kind, community_id, context.request.match_info["key"])
            before = jsonable(_entity_view(kind, row))
            for key, value in _dates(context.body, "joined", "left").items():
                setattr(row, key, value)
            await session.flush()
            view = _entity_view(kind, row)
            await strict_registry(context, session, community_id)
            after = jsonable(view)
            effective = _query_date(context.request.query.get("effective"), "effective")
            if effective is not None and kind == "members" and before["type"] != after["type"]:
                # a member's type changes from that day: earlier periods keep the old one
                try:
                    await record_dated_change(
                        session,
                        community_id,
                        ("member", row.member_id, "type", before["type"], after["type"]),
                        effective,
                    )
                except RegistryError as err:
                    raise ApiError(err.status, str(err), errors=err.problems) from err
            await record_change(
                session,
                community_id,
                f"update {kind[:-1]}",
                {
                    kind: {
                        "changed": [
                            {
                                "key": context.request.match_info["key"],
                                "fields": {
                                    k: [before[k], after[k]] for k in after if before[k] != after[k]
                                },
                            }
                        ]
                    }
                },
                actor_of(context.require_principal()),
                effective=effective,
            )
        context.app[REGISTRY_KEY].forget(community_id)
        await _check_document(context, community_id)
        if context.request.get(WARNINGS_KEY):
            view["warnings"] = context.request[WARNINGS_KEY]
        return json_response(view)

    handler.__doc__ = (
        f"``PATCH /communities/{{community}}/{kind}/{{key}}[?effective=DATE]``: a member's type"
        " changed with ``effective`` holds from that day (earlier periods keep the old one)."
    )
    return handler


def _end_handler(kind: str) -> Any:
    async def handler(context: Context) -> web.StreamResponse:
        community_id = await scoped_community(context, context.request.match_info["community"])
        end = date.fromisoformat(context.body["date"])
        async with AsyncSession(context.app[ENGINE_KEY]) as session, session.begin():
            row = await _load(session, kind, community_id, context.request.match_info["key"])
            if kind == "members":
                row.left = end
            else:
                row.ended = end
            await session.flush()
            view = _entity_view(kind, row)
            await strict_registry(context, session, community_id)
            await record_change(
                session,
                community_id,
                f"end {kind[:-1]}",
                {kind: {"ended": [context.request.match_info["key"]]}},
                actor_of(context.require_principal()),
                effective=end,
            )
        context.app[REGISTRY_KEY].forget(community_id)
        return json_response(view)

    handler.__doc__ = f"``POST /communities/{{community}}/{kind}/{{key}}/end``: end-date."
    return handler


ADMIN = frozenset({"admin"})
SITE = frozenset({"site"})
READERS = frozenset({"admin", "viewer", "site"})

_CREATE = {"members": s.MEMBER, "pods": s.POD_CREATE, "plants": s.PLANT}
_PATCH = {"members": s.MEMBER_PATCH, "pods": s.POD_PATCH, "plants": s.PLANT_PATCH}

ROUTES: list[Route] = [
    Route(
        "POST",
        "/readings",
        post_readings,
        "Upload closed hours of one POD",
        SITE,
        s.READINGS_UPLOAD,
        s.READINGS_ANSWER,
        tag="ingest",
    ),
    Route(
        "POST",
        "/live",
        post_live,
        "Upload a live snapshot; answers the community live figures",
        SITE,
        s.LIVE_UPLOAD,
        s.COMMUNITY_LIVE,
        tag="ingest",
    ),
    Route(
        "GET",
        "/community/live",
        get_community_live,
        "The community's current hour",
        READERS,
        response=s.COMMUNITY_LIVE,
        query={"community": {"type": "string"}},
        tag="community",
    ),
    Route("GET", "/tokens", get_tokens, "List tokens", ADMIN, tag="registry"),
    Route(
        "POST",
        "/tokens",
        post_token,
        "Create a token (the secret is shown once)",
        ADMIN,
        s.TOKEN_CREATE,
        tag="registry",
        statuses=(201,),
    ),
    Route(
        "POST",
        "/tokens/{token_id}/revoke",
        revoke,
        "Revoke (end-date) a token",
        ADMIN,
        tag="registry",
    ),
    Route("GET", "/communities", get_communities, "List communities", ADMIN, tag="registry"),
    Route(
        "POST",
        "/communities",
        post_community,
        "Create or update (same name) a community from a community file",
        ADMIN,
        s.COMMUNITY_FILE,
        tag="registry",
        statuses=(200, 201),
        problems=(409,),
    ),
    Route("GET", "/communities/{community}", get_community, "A community", ADMIN, tag="registry"),
    Route(
        "PATCH",
        "/communities/{community}",
        patch_community,
        "Update a community's header",
        ADMIN,
        s.COMMUNITY_PATCH,
        tag="registry",
    ),
]
for _kind in ("members", "pods", "plants"):
    ROUTES += [
        Route(
            "GET",
            f"/communities/{{community}}/{_kind}",
            _list_handler(_kind),
            f"List {_kind}",
            ADMIN,
            tag="registry",
        ),
        Route(
            "POST",
            f"/communities/{{community}}/{_kind}",
            _create_handler(_kind),
            f"Create a {_kind[:-1]}",
            ADMIN,
            _CREATE[_kind],
            tag="registry",
            statuses=(201,),
            problems=(409,),
        ),
        Route(
            "GET",
            f"/communities/{{community}}/{_kind}/{{key}}",
            _get_handler(_kind),
            f"A {_kind[:-1]}",
            ADMIN,
            tag="registry",
        ),
        Route(
            "PATCH",
            f"/communities/{{community}}/{_kind}/{{key}}",
            _patch_handler(_kind),
            f"Update a {_kind[:-1]}",
            ADMIN,
            _PATCH[_kind],
            tag="registry",
        ),
        Route(
            "POST",
            f"/communities/{{community}}/{_kind}/{{key}}/end",
            _end_handler(_kind),
            f"End-date a {_kind[:-1]}",
            ADMIN,
            s.END_DATE,
            tag="registry",
        ),
    ]
