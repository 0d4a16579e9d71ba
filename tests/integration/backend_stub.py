"""A real aiohttp server on 127.0.0.1 that implements the upload side of HTTP contract v1.

It stands in for ``backend/cer_backend`` (another virtualenv, not importable here) and follows
``DESIGN.md``: bearer tokens with a role and PODs (401 unknown, 403 without the right),
``POST /api/v1/readings`` idempotent on (pod, hour_start) with per-item accept / duplicate /
replace / reject, at most 744 readings per request (413), hours accepted only once ended
(5 minutes of clock skew), hours of a settled period stored as late, refused hours refused;
``POST /api/v1/live`` answering the community's live figures (``sites_expected``: the PODs
that sent hours or live figures); ``GET /api/v1/community/live``; ``GET
/api/v1/community/summary`` with each site's share of the month; errors as problem+json.

Tests drive it: :meth:`BackendStub.stop` / :meth:`start` (down, same port), ``fail_status``
(answer every request with that status), ``delay_s`` (slow answers), :meth:`hold_requests`
(requests wait, for frozen clocks), ``settled`` (hours of a final period: stored,
counted as ``late``), ``refused`` (hours refused with 422); and read what arrived:
``arrivals`` (every reading received, in order), ``requests`` (method, path, status),
``stored``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

MAX_READINGS = 744
MAX_BODY = 1024 * 1024
QUALITIES = {"measured", "estimated", "derived"}


@dataclass
class Token:
    """A token of the stub: its role and the PODs a site token may write."""

    role: str
    pods: set[str] = field(default_factory=set)


def _problem(status: int, title: str, detail: str = "", errors: list[Any] | None = None) -> Any:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
    }
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/problem+json"
    )


class BackendStub:
    """The stub server; ``url`` once started."""

    def __init__(self, pods: set[str], tokens: dict[str, Token]) -> None:
        self.pods = set(pods)
        self.tokens = dict(tokens)
        self.stored: dict[tuple[str, datetime], dict[str, Any]] = {}
        self.audit: list[tuple[str, datetime, dict[str, Any]]] = []
        self.arrivals: list[tuple[str, datetime, dict[str, Any]]] = []
        self.requests: list[tuple[str, str, int]] = []
        self.live: dict[str, dict[str, Any]] = {}
        self.settled: set[datetime] = set()
        self.refused: set[datetime] = set()
        #: open alerts as ``GET /api/v1/alerts`` lists them; acknowledgements received
        self.alerts: list[dict[str, Any]] = []
        self.acks: list[tuple[int, str]] = []
        #: answers of GET /community/summary by kind of period ("day", "month"), the shape
        #: of the backend's (money as decimal strings)
        self.summaries: dict[str, dict[str, Any]] = {
            "day": {"shared_wh": 12_500, "tip_eur": "1.38", "valorisation_eur": "0.10"},
            "month": {
                "shared_wh": 812_345,
                "tip_eur": "89.77",
                "valorisation_eur": "6.63",
                # each site's share (issue #14 item 11): adds up to the month's figures
                "sites": [
                    {
                        "pod": "IT001E00000001",
                        "share_wh": 500_000,
                        "share_estimated_eur": "59.34",
                        "shared_injected_wh": 900_000,
                        "shared_withdrawn_wh": 100_000,
                    },
                    {
                        "pod": "IT001E00000002",
                        "share_wh": 312_345,
                        "share_estimated_eur": "37.06",
                        "shared_injected_wh": 0,
                        "shared_withdrawn_wh": 624_690,
                    },
                ],
            },
        }
        #: answer ``sites_expected`` in the live figures (False: a backend before issue #14)
        self.says_sites_expected = True
        self.fail_status: int | None = None
        #: a batch holding a reading with this withdrawal is refused whole (422), as an older
        #: backend or a proxy could do (issue #12: the uploader isolates it)
        self.poison_withdrawn_wh: int | None = None
        self.delay_s = 0.0
        self.arrived = asyncio.Event()
        self._hold: asyncio.Event | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    @property
    def url(self) -> str:
        """Root URL of the server (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the same port again after :meth:`stop`)."""
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._middleware])
        app.router.add_post("/api/v1/readings", self._readings)
        app.router.add_post("/api/v1/live", self._post_live)
        app.router.add_get("/api/v1/community/live", self._community_live)
        app.router.add_get("/api/v1/community/summary", self._community_summary)
        app.router.add_get("/api/v1/health", self._health)
        app.router.add_get("/api/v1/alerts", self._alerts)
        app.router.add_post("/api/v1/alerts/{alert_id}/ack", self._ack)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await self._site.start()
        if not self.port:
            server = self._site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def hold_requests(self) -> None:
        """Keep every request waiting (until :meth:`release` or :meth:`stop`).

        For tests under a frozen clock, where ``delay_s`` would never elapse:
        ``arrived`` is set when a request is being held.
        """
        self.arrived.clear()
        self._hold = asyncio.Event()

    def release(self) -> None:
        """Let held requests go on."""
        if self._hold is not None:
            self._hold.set()
        self._hold = None

    async def stop(self) -> None:
        """Stop listening: the backend is down."""
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    # ------------------------------------------------------------------ plumbing
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._hold is not None:
            self.arrived.set()
            await self._hold.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_status is not None:
            response: web.StreamResponse = _problem(self.fail_status, "Stub failure")
        else:
            response = await handler(request)
        self.requests.append((request.method, request.path, response.status))
        return response

    def _token(self, request: web.Request) -> Token | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _problem(401, "Unauthorized", "missing bearer token")
        token = self.tokens.get(header.removeprefix("Bearer "))
        if token is None:
            return _problem(401, "Unauthorized", "unknown token")
        return token

    @staticmethod
    async def _json(request: web.Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    # ------------------------------------------------------------------ handlers
    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readings(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        if token.role not in {"site", "admin"}:
            return _problem(403, "Forbidden", "this token may not write readings")
        body = await self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("readings"), list):
            return _problem(422, "Invalid body", "expected {pod, readings: [...]}")
        if self.poison_withdrawn_wh is not None and any(
            isinstance(r, dict) and r.get("withdrawn_wh") == self.poison_withdrawn_wh
            for r in body["readings"]
        ):
            return _problem(422, "Invalid body", "the batch cannot be taken")
        pod = body.get("pod")
        if token.role == "site" and pod not in token.pods:
            return _problem(403, "Forbidden", f"this token may not write POD {pod}")
        if pod not in self.pods:  # the contract allows 404 or 422; the backend answers 422
            return _problem(
                422,
                "Unknown POD",
                f"the community has no POD {pod}",
                [{"field": "pod", "message": "unknown POD"}],
            )
        readings = body["readings"]
        if len(readings) > MAX_READINGS:
            return _problem(413, "Too many readings", f"at most {MAX_READINGS} per request")
        counts = {"accepted": 0, "duplicates": 0, "replaced": 0}
        late = 0
        rejected: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for index, raw in enumerate(readings):
            problem = self._invalid(raw, now)
            if problem:
                status, message = problem
                rejected.append({"index": index, "message": message, "status": status})
                continue
            hour = datetime.fromisoformat(raw["hour_start"]).astimezone(UTC)
            self.arrivals.append((pod, hour, dict(raw)))
            late += hour in self.settled  # a final period's hour: stored, late (DESIGN.md)
            values = {
                "injected_wh": raw["injected_wh"],
                "withdrawn_wh": raw["withdrawn_wh"],
                "produced_wh": raw.get("produced_wh"),
                "consumed_wh": raw.get("consumed_wh"),
                "quality": raw.get("quality", "measured"),
                "samples": raw.get("samples"),
            }
            old = self.stored.get((pod, hour))
            if old is None:
                counts["accepted"] += 1
            elif old == values:
                counts["duplicates"] += 1
                continue
            else:
                counts["replaced"] += 1
                self.audit.append((pod, hour, old))
            self.stored[(pod, hour)] = values
        answer: dict[str, Any] = {**counts, "rejected": rejected}
        if late:
            answer["late"] = late
        return web.json_response(answer)

    def _invalid(self, raw: Any, now: datetime) -> tuple[int, str] | None:
        """Why a reading is refused, as the backend says it per item: (status, message)."""
        message = self._invalid_message(raw, now)
        if message is None:
            return None
        return 422, message

    def _invalid_message(self, raw: Any, now: datetime) -> str | None:
        if not isinstance(raw, dict):
            return "a reading is an object"
        try:
            hour = datetime.fromisoformat(raw["hour_start"])
        except (KeyError, TypeError, ValueError):
            return "hour_start: ISO 8601 with offset expected"
        if hour.tzinfo is None:
            return "hour_start: an offset is required"
        if hour.minute or hour.second or hour.microsecond:
            return "hour_start: not the start of an hour"
        for name in ("injected_wh", "withdrawn_wh"):
            value = raw.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return f"{name}: a non-negative integer is required"
        for name in ("produced_wh", "consumed_wh", "samples"):
            value = raw.get(name)
            if value is not None and (not isinstance(value, int) or value < 0):
                return f"{name}: a non-negative integer is required"
        if raw.get("quality", "measured") not in QUALITIES:
            return "quality: measured, estimated or derived"
        if hour + timedelta(hours=1) > now + timedelta(minutes=5):
            return "the hour has not ended yet"
        if hour.astimezone(UTC) in self.refused:
            return "this hour is refused"
        return None

    async def _post_live(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        body = await self._json(request)
        if not isinstance(body, dict) or "pod" not in body:
            return _problem(422, "Invalid body", "expected the live object")
        if token.role != "site" or body["pod"] not in token.pods:
            return _problem(403, "Forbidden", "this token may not write live data")
        self.live[body["pod"]] = body
        return web.json_response(self.community())

    async def _community_live(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        return web.json_response(self.community())

    async def _alerts(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        if token.role not in ("viewer", "admin"):
            return _problem(403, "Forbidden", f"a {token.role} token may not read alerts")
        return web.json_response(self.alerts)

    async def _ack(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        if token.role != "admin":
            return _problem(403, "Forbidden", f"a {token.role} token may not acknowledge")
        alert_id = int(request.match_info["alert_id"])
        alert = next((a for a in self.alerts if a["id"] == alert_id), None)
        if alert is None:
            return _problem(404, "Not Found", f"no alert {alert_id}")
        note = (await request.json()).get("note", "")
        self.acks.append((alert_id, note))
        alert.update(acknowledged=True, ack_note=note)
        return web.json_response(alert)

    async def _community_summary(self, request: web.Request) -> web.Response:
        token = self._token(request)
        if isinstance(token, web.Response):
            return token
        period = request.query.get("period", "")
        kind = {10: "day", 7: "month"}.get(len(period))
        if kind is None:
            return _problem(422, "Invalid period", "YYYY, YYYY-MM or YYYY-MM-DD")
        figures = self.summaries[kind]
        estimated = float(figures["tip_eur"]) + float(figures["valorisation_eur"])
        return web.json_response(
            {"sites": [], **figures, "period": period, "estimated_eur": f"{estimated:.2f}"}
        )

    def community(self) -> dict[str, Any]:
        """The community live object computed from the live data received."""
        injected = sum(int(v["hour_injected_wh"]) for v in self.live.values())
        withdrawn = sum(int(v["hour_withdrawn_wh"]) for v in self.live.values())
        injection = sum(float(v["injection_w"]) for v in self.live.values())
        withdrawal = sum(float(v["withdrawal_w"]) for v in self.live.values())
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        figures: dict[str, Any] = {
            "hour_start": now.isoformat(),
            "injected_wh": injected,
            "withdrawn_wh": withdrawn,
            "shared_wh": min(injected, withdrawn),
            "surplus_w": injection - withdrawal,
            "sites_reporting": len(self.live),
            "sites_total": len(self.pods),
            "tip_estimate_eur_mwh": 110.5,
        }
        if self.says_sites_expected:  # the PODs that upload from a Home Assistant
            figures["sites_expected"] = len({pod for pod, _ in self.stored} | set(self.live))
        return figures
