"""Routes as data: each has its roles and schemas; the same list serves and documents the API."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from .. import __version__
from ..service.availability import RETRY_AFTER_SECONDS, describe, is_unavailable
from ..service.bounds import reject_constant, unsafe_text, unsafe_values
from ..service.tokens import Principal, TokenStore
from ..wording import with_article
from .problems import TITLES, ApiError, from_error, problem_response
from .schemas import PROBLEM, Schema, validate

_LOGGER = logging.getLogger("cer_backend.api")
_ACCESS = logging.getLogger("cer_backend.access")

API_PREFIX: Final = "/api/v1"
#: JSON request bodies above this size are refused with 413
MAX_JSON_BODY = 1024 * 1024
#: uploaded price files (XLSX of a year) may be larger
MAX_FILE_BODY = 16 * 1024 * 1024

TOKENS_KEY: Final = web.AppKey("tokens", TokenStore)
PRINCIPAL_KEY: Final = web.RequestKey("principal", Principal)
WARNINGS_KEY: Final = web.RequestKey("registry_warnings", list)


@dataclass(slots=True)
class Context:
    """What a handler gets besides the request."""

    request: web.Request
    principal: Principal | None
    body: Any = None

    @property
    def app(self) -> web.Application:
        """The application."""
        return self.request.app

    def require_principal(self) -> Principal:
        """The principal (routes with roles always have one)."""
        assert self.principal is not None
        return self.principal


Handler = Callable[[Context], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """One operation of the API."""

    method: str
    path: str
    handler: Handler
    summary: str
    roles: frozenset[str] | None  # None: public
    body: Schema | None = None
    response: Schema | None = None
    query: Mapping[str, Schema] = field(default_factory=dict)
    body_kind: str = "json"  # json | file
    response_type: str = "application/json"
    tag: str = "api"
    #: the success statuses (201 for a creation), each with ``response``
    statuses: tuple[int, ...] = (200,)
    #: problems beyond those the route's shape implies (see :func:`problem_statuses`)
    problems: tuple[int, ...] = ()


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def read_json_body(request: web.Request, limit: int = MAX_JSON_BODY) -> Any:
    """The JSON body, bounded to ``limit`` bytes (413 above it, 400 when not JSON)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the request body is over {limit} bytes (1 MiB)")
    raw = await request.read()
    if len(raw) > limit:
        raise ApiError(413, f"the request body is over {limit} bytes (1 MiB)")
    try:
        return json.loads(raw, parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise ApiError(400, f"the body is not valid JSON: {err}") from err
    except RecursionError as err:
        raise ApiError(422, "the body is nested too deeply") from err


def _wrap(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        principal: Principal | None = None
        if route.roles is not None:
            token = _bearer(request)
            if token is None:
                _LOGGER.warning(
                    "Authentication failed: no bearer token",
                    extra={"fields": {"path": request.path, "remote": request.remote}},
                )
                raise ApiError(
                    401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"}
                )
            principal = await request.app[TOKENS_KEY].authenticate(token)
            if principal is None:
                _LOGGER.warning(
                    "Authentication failed: unknown or revoked token",
                    extra={"fields": {"path": request.path, "remote": request.remote}},
                )
                raise ApiError(
                    401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
                )
            request[PRINCIPAL_KEY] = principal
            if principal.role not in route.roles:
                _LOGGER.warning(
                    "Authorisation failed: role %s may not %s %s",
                    principal.role,
                    route.method,
                    route.path,
                    extra={"fields": {"token_id": principal.token_id, "remote": request.remote}},
                )
                raise ApiError(
                    403,
                    f"{with_article(principal.role)} token may not use {route.method} {route.path}",
                )
        _check_parameters(route, request)
        if (
            route.body_kind == "file"
            and request.content_type.startswith("multipart/")
            and "boundary=" not in request.headers.get("Content-Type", "")
        ):
            raise ApiError(400, "a multipart body needs a boundary in its Content-Type")
        context = Context(request, principal)
        if route.body is not None and route.body_kind == "json":
            context.body = await read_json_body(request)
            _check_safe(route.body, context.body)
            problems = validate(route.body, context.body)
            if problems:
                raise ApiError(
                    422,
                    "the request body does not match the schema",
                    errors=[{"field": p.field, "message": p.message} for p in problems],
                )
        return await route.handler(context)

    return handle


def _check_parameters(route: Route, request: web.Request) -> None:
    """422 for a path or query parameter that cannot be stored (NUL, lone surrogate) or that
    breaks its declared schema (for example ``period=0001``)."""
    errors = [
        {"field": name, "message": problem}
        for name, value in (*request.match_info.items(), *request.query.items())
        if (problem := unsafe_text(value))
    ]
    for name, schema in route.query.items():
        # query values are text: only string schemas apply as they are
        if name in request.query and schema.get("type") == "string":
            errors += [
                {"field": name, "message": p.message}
                for p in validate(schema, request.query[name], name)
            ]
    if errors:
        raise ApiError(422, "a parameter of the request is not valid", errors=errors)


def _check_safe(schema: Schema, body: Any) -> None:
    """422 for what no field may hold (issue #12): too deep, NUL, lone surrogate, beyond
    64 bits, not finite. Arrays checked item by item by their handler are left to it."""
    skip = frozenset(
        name for name, sub in schema.get("properties", {}).items() if sub.get("x-per-item")
    )
    problems = list(unsafe_values(body, skip=skip))
    if problems:
        raise ApiError(
            422,
            "the request body holds values that cannot be stored",
            errors=[{"field": field, "message": message} for field, message in problems[:20]],
        )


@web.middleware
async def problem_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error as problem+json, and one structured access-log line per request."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except ApiError as err:
        response = from_error(err)
    except web.HTTPRequestEntityTooLarge as err:
        response = problem_response(413, f"the request body is too large: {err.text}")
    except web.HTTPException as err:
        if err.status < 400:
            raise
        response = problem_response(err.status, err.reason or "error")
        if err.status == 405:
            response.headers["Allow"] = err.headers.get("Allow", "")
    except Exception as err:
        if is_unavailable(err):  # not the request's fault: the client retries later
            _LOGGER.warning(
                "Database unavailable on %s %s: %s", request.method, request.path, describe(err)
            )
            response = problem_response(
                503,
                "the database is unavailable; try again later",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        else:
            _LOGGER.exception("Unhandled error on %s %s", request.method, request.path)
            response = problem_response(500, "an internal error occurred; it has been logged")
    principal = request.get(PRINCIPAL_KEY)
    _ACCESS.info(
        "%s %s %d",
        request.method,
        request.path,
        response.status,
        extra={
            "fields": {
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "token_id": principal.token_id if principal else None,
                "role": principal.role if principal else None,
            }
        },
    )
    return response


def add_routes(app: web.Application, routes: Sequence[Route]) -> None:
    """Register the routes on the application."""
    for route in routes:
        app.router.add_route(route.method, API_PREFIX + route.path, _wrap(route))


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes, from their schemas."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {"summary": route.summary, "tags": [route.tag]}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_parameters(route.path)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in route.query.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        if route.roles is None:
            operation["security"] = []
        else:
            operation["security"] = [{"bearer": []}]
            operation["description"] = "roles: " + ", ".join(sorted(route.roles))
        if route.body is not None:
            if route.body_kind == "file":
                content = {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("application/xml", "text/csv", "application/octet-stream")
                }
            else:
                content = {"application/json": {"schema": route.body}}
            operation["requestBody"] = {"required": True, "content": content}
        ok: dict[str, Any] = {"description": "success"}
        if route.response is not None:
            ok["content"] = {route.response_type: {"schema": route.response}}
        elif route.response_type != "application/json":
            ok["content"] = {route.response_type: {}}
        responses: dict[str, Any] = {str(status): ok for status in route.statuses}
        for status in problem_statuses(route):
            responses[str(status)] = {
                "description": TITLES.get(status, "problem"),
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        operation["responses"] = dict(sorted(responses.items()))
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "cer_community backend", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def problem_statuses(route: Route) -> list[int]:
    """The problems an operation can answer, from its shape (issue #12: the document
    declares them one by one, so schema-driven clients and fuzzers agree with the server).

    401/403 with a token; 400 (not JSON), 413 and 422 with a body; 422 with parameters;
    404 with path parameters or a community to find; 503 whenever the database is needed
    (every operation with a token); plus the route's own (409 for creations, for example).
    """
    statuses = set(route.problems)
    parameters = bool(_path_parameters(route.path)) or bool(route.query)
    if route.roles is not None:
        statuses |= {401, 403, 503}
        body_fields = route.body.get("properties", {}) if route.body else {}
        if (
            _path_parameters(route.path)
            or "community" in route.query
            or "community" in body_fields
            or route.tag == "ingest"
        ):
            statuses.add(404)
    if route.body is not None:
        statuses |= {400, 413, 422}
    if parameters:
        statuses.add(422)
    return sorted(statuses - set(route.statuses))


def _path_parameters(path: str) -> list[str]:
    names = []
    for part in path.split("/"):
        if part.startswith("{") and "}" in part:
            names.append(part[1 : part.index("}")].split(":")[0])
    return names
