"""RFC 9457 problem details (``application/problem+json``) for every error the API answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An error answered as problem+json; ``errors`` name the items or fields at fault."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = [dict(error) for error in errors]
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    *,
    errors: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A problem+json response."""
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"https://cer-community.invalid/problems/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [dict(error) for error in errors],
    }
    body.update(extra or {})
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=PROBLEM_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )


def from_error(error: ApiError) -> web.Response:
    """The response of an :class:`ApiError`."""
    return problem_response(
        error.status, error.detail, errors=error.errors, extra=error.extra, headers=error.headers
    )
