"""A member's own page (``/socio``): signed in with a personal link, only their own data."""

from __future__ import annotations

from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web

from ..api.keys import ENGINE_KEY
from ..models import utcnow
from ..service import reports
from ..service.coverage import coverage
from ..service.registry import community_document
from ..service.settlements import SettlementError, get_run
from ..service.web_access import (
    WebSessionView,
    end_session,
    peek_member_link,
    use_member_link,
)
from . import downloads
from .figures import recent_periods, shown_runs
from .pages import (
    LANGUAGE_KEY,
    PageError,
    check_csrf,
    clear_session_cookie,
    language_of,
    page,
    redirect,
    render,
    request_text,
    session_of,
    set_session_cookie,
)

BASE: Final = "/socio"
#: a link's secret is URL-safe base64 of 32 bytes
MAX_SECRET: Final = 100


_ = request_text  # the page texts' gettext keyword (python -m cer_backend.locale)


@page
async def landing(request: web.Request) -> web.StreamResponse:
    """The link's page: a button starts the session (a mail scanner's GET uses nothing)."""
    request[LANGUAGE_KEY] = language_of(request)
    secret = request.match_info["secret"]
    found = None
    if len(secret) <= MAX_SECRET:
        found = await peek_member_link(request.app[ENGINE_KEY], secret)
    if found is None:
        raise PageError(404, _(request, "Il link non è valido, è già stato usato o è scaduto."))
    response = render(request, "member/landing.html", {"secret": secret})
    response.headers["Cache-Control"] = "no-store"
    return response


@page
async def enter(request: web.Request) -> web.StreamResponse:
    """Use the link (once) and start the member's session."""
    request[LANGUAGE_KEY] = language_of(request)
    secret = request.match_info["secret"]
    session_secret = None
    if len(secret) <= MAX_SECRET:
        session_secret = await use_member_link(
            request.app[ENGINE_KEY], secret, request[LANGUAGE_KEY]
        )
    if session_secret is None:
        raise PageError(404, _(request, "Il link non è valido, è già stato usato o è scaduto."))
    response = redirect(BASE)
    set_session_cookie(request, response, "member", session_secret)
    return response


async def _session(request: web.Request) -> WebSessionView:
    session = await session_of(request, "member")
    request[LANGUAGE_KEY] = language_of(request, session)
    if session is None:
        raise PageError(
            401, _(request, "Per entrare serve il link personale inviato dal referente.")
        )
    return session


def _own(request: web.Request, session: WebSessionView) -> tuple[str, str]:
    """The community and member of the URL, when they are the session's (else 403)."""
    community_id = request.match_info["community"]
    member_id = request.match_info["member"]
    if (community_id, member_id) != (session.community_id, session.member_id):
        raise PageError(403, _(request, "Questa pagina è di un altro socio."))
    return community_id, member_id


@page
async def home(request: web.Request) -> web.StreamResponse:
    """``/socio``: to the member's own page."""
    session = await _session(request)
    return redirect(f"{BASE}/{session.community_id}/{session.member_id}")


@page
async def member_page(request: web.Request) -> web.StreamResponse:
    """PODs, monthly withdrawn and shared energy, amounts, statements, missing hours."""
    session = await _session(request)
    community_id, member_id = _own(request, session)
    engine = request.app[ENGINE_KEY]
    async with engine.connect() as connection:
        document = await community_document(connection, community_id)
    member = next((m for m in document["members"] if m["id"] == member_id), None)
    if member is None:
        raise PageError(404, _(request, "Socio non trovato."))
    pods = [p["pod"] if isinstance(p, dict) else p for p in member["pods"]]
    rows: list[dict[str, Any]] = []
    for shown in await shown_runs(engine, community_id):
        run = await get_run(engine, shown["id"], community_id)
        try:
            figures = reports.member_of(run, member_id)
        except KeyError:
            continue
        rows.append({"run": run, "member": figures})
    zone = ZoneInfo(document["community"].get("timezone") or "Europe/Rome")
    missing = []
    for period in recent_periods(utcnow().astimezone(zone).date()):
        try:
            report = await coverage(engine, community_id, period)
        except SettlementError:
            continue
        for item in report["pods"]:
            if item["pod"] in pods and item["missing"]:
                missing.append({"period": period, **item})
    context = {
        "session": session,
        "csrf": session.csrf,
        "community_name": document["community"]["name"],
        "member": member,
        "pods": pods,
        "rows": rows,
        "missing": missing,
    }
    return render(request, "member/page.html", context)


@page
async def statement(request: web.Request) -> web.StreamResponse:
    """The member's statement of a run (CSV or PDF), made as the API's statement routes."""
    session = await _session(request)
    community_id, member_id = _own(request, session)
    not_found = _(request, "Liquidazione non trovata.")
    facts = await downloads.run_facts(request, community_id, not_found)
    name = f"statement.{request.match_info['kind']}"
    return await downloads.member_document(request, facts, member_id, name, not_found)


@page
async def sign_out(request: web.Request) -> web.StreamResponse:
    """End the member's session."""
    session = await _session(request)
    await check_csrf(request, session)
    await end_session(request.app[ENGINE_KEY], session.secret_hash)
    response = render(request, "member/signed_out.html", {})
    clear_session_cookie(response, "member")
    return response


def routes() -> list[web.RouteDef]:
    """The member page's routes."""
    return [
        web.get(BASE, home),
        web.get(f"{BASE}/accesso/{{secret}}", landing),
        web.post(f"{BASE}/accesso/{{secret}}", enter),
        web.post(f"{BASE}/esci", sign_out),
        web.get(f"{BASE}/{{community}}/{{member}}", member_page),
        web.get(f"{BASE}/{{community}}/{{member}}/{{run}}/estratto.{{kind:csv|pdf}}", statement),
    ]
