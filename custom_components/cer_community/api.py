"""Client of the cer_community backend, HTTP contract version 1 (``/api/v1``).

One :class:`CerApiClient` per config entry, on Home Assistant's shared aiohttp session::

    client = CerApiClient.from_hass(hass, "https://cer.example.it", token)
    await client.async_validate()                    # config flow: URL and token work
    result = await client.post_readings(pod, readings)   # closed hours, <= 744 per call
    community = await client.post_live(live)         # every minute, answers community live
    community = await client.get_community_live()
    alerts = await client.get_alerts()                # open alerts of the community

Errors (every one is a :class:`CerApiError`):

- :class:`CerApiAuthError`: 401 (missing or unknown token) or 403 (the token may not do it):
  start the reauth flow;
- :class:`CerApiConnectionError`: the backend is down, too slow, answers 5xx or something that
  is not the contract: retry later;
- :class:`CerApiError`: any other 4xx, with the problem details (RFC 9457) of the answer.

Readings refused one by one come back in :attr:`ReadingsResult.rejected`, not as errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

API_PREFIX = "/api/v1"
MAX_READINGS_PER_REQUEST = 744
"""Contract limit: one month of hours (31 x 24) per ``POST /api/v1/readings``."""
DEFAULT_TIMEOUT_S = 30.0

Quality = Literal["measured", "estimated", "derived"]


class CerApiError(Exception):
    """The backend refused a request; carries its problem details when it sent them."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]


class CerApiConnectionError(CerApiError):
    """The backend cannot be reached, timed out or failed (5xx): try again later."""


class CerApiAuthError(CerApiError):
    """The token is missing, unknown (401) or lacks the right (403): reauthenticate."""


@dataclass(frozen=True, slots=True)
class RejectedReading:
    """One reading of a batch the backend refused, with its reason."""

    index: int
    message: str


@dataclass(frozen=True, slots=True)
class ReadingsResult:
    """Answer to ``POST /api/v1/readings``."""

    accepted: int
    duplicates: int
    replaced: int
    rejected: list[RejectedReading] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CommunityLive:
    """The community's figures of the current hour (``GET /api/v1/community/live``)."""

    hour_start: datetime | None
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    surplus_w: float
    sites_reporting: int
    sites_total: int
    tip_estimate_eur_mwh: float | None
    sites_expected: int | None = None
    """The PODs that upload from a Home Assistant, the ones expected to report (``None``:
    a backend from before issue #14 does not say)."""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CommunityLive:
        """Read the contract's JSON object; raises ``KeyError``/``ValueError``/``TypeError``."""
        hour = raw.get("hour_start")
        tip = raw.get("tip_estimate_eur_mwh")
        expected = raw.get("sites_expected")
        return cls(
            hour_start=datetime.fromisoformat(hour) if hour else None,
            injected_wh=int(raw.get("injected_wh") or 0),
            withdrawn_wh=int(raw.get("withdrawn_wh") or 0),
            shared_wh=int(raw.get("shared_wh") or 0),
            surplus_w=float(raw.get("surplus_w") or 0),
            sites_reporting=int(raw.get("sites_reporting") or 0),
            sites_total=int(raw.get("sites_total") or 0),
            tip_estimate_eur_mwh=None if tip is None else float(tip),
            sites_expected=None if expected is None else int(expected),
        )


@dataclass(frozen=True, slots=True)
class SiteShare:
    """A site's part of the period's shared energy and estimated income (summary ``sites``)."""

    pod: str
    share_wh: int
    share_estimated_eur: Decimal
    shared_injected_wh: int
    shared_withdrawn_wh: int

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SiteShare:
        """Read one entry of the summary's ``sites`` (money as a decimal string, exact)."""
        return cls(
            pod=str(raw["pod"]),
            share_wh=int(raw["share_wh"]),
            share_estimated_eur=Decimal(str(raw["share_estimated_eur"])),
            shared_injected_wh=int(raw.get("shared_injected_wh") or 0),
            shared_withdrawn_wh=int(raw.get("shared_withdrawn_wh") or 0),
        )


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    """Shared energy and estimated money of a period (``GET /api/v1/community/summary``)."""

    period: str
    shared_wh: int
    tip_eur: Decimal
    valorisation_eur: Decimal
    estimated_eur: Decimal
    sites: tuple[SiteShare, ...] = ()
    """Each site's share (a backend from before issue #14 sends none: empty)."""

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> CommunitySummary:
        """Read the backend's JSON (money as decimal strings, exact)."""
        return cls(
            period=str(raw["period"]),
            shared_wh=int(raw["shared_wh"]),
            tip_eur=Decimal(str(raw["tip_eur"])),
            valorisation_eur=Decimal(str(raw["valorisation_eur"])),
            estimated_eur=Decimal(str(raw["estimated_eur"])),
            sites=tuple(
                SiteShare.from_json(site)
                for site in raw.get("sites") or []
                if isinstance(site, Mapping) and "share_wh" in site
            ),
        )


#: bounds of ``unavailable_devices`` in ``POST /api/v1/live`` (the backend refuses more)
MAX_UNAVAILABLE_DEVICES = 50
MAX_DEVICE_NAME = 100


@dataclass(frozen=True, slots=True)
class LiveReading:
    """Body of ``POST /api/v1/live``: the site now and its hour so far."""

    pod: str
    ts: datetime
    injection_w: float
    withdrawal_w: float
    hour_injected_wh: int
    hour_withdrawn_wh: int
    unavailable_devices: tuple[str, ...] = ()
    """Names of the site's devices that did not answer at the last poll (asleep is not
    unavailable); sent only when there are some, within the contract's bounds."""

    def as_json(self) -> dict[str, Any]:
        """The contract's JSON object."""
        body: dict[str, Any] = {
            "pod": self.pod,
            "ts": self.ts.isoformat(),
            "injection_w": round(self.injection_w, 1),
            "withdrawal_w": round(self.withdrawal_w, 1),
            "hour_injected_wh": self.hour_injected_wh,
            "hour_withdrawn_wh": self.hour_withdrawn_wh,
        }
        names = [
            clean
            for name in self.unavailable_devices
            if (clean := "".join(c for c in name if c.isprintable())[:MAX_DEVICE_NAME].strip())
        ]
        if names:
            body["unavailable_devices"] = list(dict.fromkeys(names))[:MAX_UNAVAILABLE_DEVICES]
        return body


class CerApiClient:
    """Async client of one backend with one bearer token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._session = session
        self._base = normalise_base_url(base_url)
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @classmethod
    def from_hass(
        cls, hass: HomeAssistant, base_url: str, token: str, **kwargs: Any
    ) -> CerApiClient:
        """A client on Home Assistant's shared aiohttp session."""
        from homeassistant.helpers.aiohttp_client import (  # noqa: PLC0415
            async_get_clientsession,
        )

        return cls(async_get_clientsession(hass), base_url, token, **kwargs)

    @property
    def base_url(self) -> str:
        """The backend's root URL, without a trailing slash."""
        return self._base

    async def async_validate(self) -> CommunityLive:
        """Check URL and token with a read every role may do (community live).

        Raises :class:`CerApiAuthError` for a bad token, :class:`CerApiConnectionError` when
        the URL does not lead to a backend of this contract.
        """
        return await self.get_community_live()

    async def async_check_site(self, pod: str) -> None:
        """Check that the token may upload readings for ``pod``: an empty
        ``POST /readings`` (nothing stored, the contract's own rights check).

        Raises :class:`CerApiAuthError` (401: unknown token; 403: not a site token of this
        POD, e.g. a viewer token), :class:`CerApiError` with status 404/422 when the
        community has no such POD, :class:`CerApiConnectionError` when it does not answer.
        """
        await self.post_readings(pod, [])

    async def post_readings(
        self, pod: str, readings: Sequence[Mapping[str, Any]]
    ) -> ReadingsResult:
        """Send closed hours of one POD (each a contract reading object, at most 744)."""
        if len(readings) > MAX_READINGS_PER_REQUEST:
            raise ValueError(f"at most {MAX_READINGS_PER_REQUEST} readings per request")
        body = await self._request(
            "POST", "/readings", {"pod": pod, "readings": [dict(r) for r in readings]}
        )
        try:
            rejected = [
                RejectedReading(index=int(item["index"]), message=str(item.get("message", "")))
                for item in body.get("rejected") or []
            ]
            return ReadingsResult(
                accepted=int(body.get("accepted") or 0),
                duplicates=int(body.get("duplicates") or 0),
                replaced=int(body.get("replaced") or 0),
                rejected=rejected,
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CerApiConnectionError(f"unexpected answer to readings: {body!r}") from err

    async def async_healthy(self) -> bool:
        """Whether the backend says it is healthy (``GET /api/v1/health`` answers 200)."""
        try:
            await self._request("GET", "/health", None)
        except CerApiError:
            return False
        return True

    async def post_live(self, live: LiveReading) -> CommunityLive:
        """Send the site's live figures; answers the community's live figures."""
        return self._community(await self._request("POST", "/live", live.as_json()))

    async def get_community_live(self) -> CommunityLive:
        """The community's figures of the current hour."""
        return self._community(await self._request("GET", "/community/live", None))

    async def get_community_summary(self, period: str) -> CommunitySummary:
        """Shared energy and estimated money of ``period`` (``2025-06`` or ``2025-06-01``)."""
        body = await self._request("GET", f"/community/summary?period={period}", None)
        try:
            return CommunitySummary.from_json(body)
        except (KeyError, TypeError, ValueError, ArithmeticError) as err:
            raise CerApiConnectionError(f"unexpected community summary: {body!r}") from err

    @staticmethod
    def _community(body: Mapping[str, Any]) -> CommunityLive:
        try:
            return CommunityLive.from_json(body)
        except (KeyError, TypeError, ValueError) as err:
            raise CerApiConnectionError(f"unexpected community live answer: {body!r}") from err

    async def get_alerts(self) -> list[dict[str, Any]]:
        """The community's open alerts (``GET /api/v1/alerts``), newest first."""
        body = await self._request("GET", "/alerts", None, expect=list)
        return [item for item in body if isinstance(item, dict)]

    async def ack_alert(self, alert_id: int, note: str) -> dict[str, Any]:
        """Acknowledge an open alert with a note (``POST /api/v1/alerts/{id}/ack``, admin)."""
        body: dict[str, Any] = await self._request(
            "POST", f"/alerts/{int(alert_id)}/ack", {"note": note}
        )
        return body

    async def _request(
        self,
        method: str,
        path: str,
        payload: Mapping[str, Any] | None,
        *,
        expect: type[Any] = dict,
    ) -> Any:
        url = f"{self._base}{API_PREFIX}{path}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            async with self._session.request(
                method, url, json=payload, headers=headers, timeout=self._timeout
            ) as response:
                text = await response.text()
                status = response.status
        except TimeoutError as err:
            raise CerApiConnectionError(f"{method} {url}: timed out") from err
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, ValueError) as err:
            raise CerApiConnectionError(f"{method} {url}: {err}") from err
        except TypeError as err:  # the body cannot be encoded (an integer beyond 64 bits)
            raise CerApiError(f"{method} {path}: the request cannot be encoded: {err}") from err

        body = _json_or_none(text)
        if status < 300:
            if not isinstance(body, expect):
                kind = "a JSON array" if expect is list else "a JSON object"
                raise CerApiConnectionError(f"{method} {url}: answer is not {kind}")
            return body
        problem = body if isinstance(body, dict) else {}
        title = _str_or_none(problem.get("title"))
        detail = _str_or_none(problem.get("detail"))
        errors = [e for e in problem.get("errors") or [] if isinstance(e, dict)]
        message = f"{method} {path}: {status} {detail or title or text[:200]}".strip()
        kwargs: dict[str, Any] = {
            "status": status,
            "title": title,
            "detail": detail,
            "errors": errors,
        }
        if status in (401, 403):
            raise CerApiAuthError(message, **kwargs)
        if status >= 500 or status in (408, 429):
            raise CerApiConnectionError(message, **kwargs)
        raise CerApiError(message, **kwargs)


def normalise_base_url(url: str) -> str:
    """The backend root URL as the client uses it: stripped, no trailing slash or API path."""
    url = url.strip().rstrip("/")
    return url.removesuffix(API_PREFIX)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
