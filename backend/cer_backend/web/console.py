"""The referent's console (``/console``): admin tokens only, one community at a time.

Every figure comes from the services the API uses: coverage, runs and their guards, the GSE
reconciliation, the registry's diff and history, the metered-data import.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

import yaml
from aiohttp import web
from sqlalchemy import select

from ..api.keys import ENGINE_KEY, REGISTRY_KEY
from ..api.routing import MAX_FILE_BODY, TOKENS_KEY
from ..domain.errors import InvalidInput
from ..files import load_yaml
from ..files.layouts import BUILTIN_LAYOUTS, builtin_layout
from ..models import Community, Token, as_utc, table, utcnow
from ..service import reports
from ..service.alerts.store import AlertError, acknowledge, list_alerts
from ..service.coverage import coverage
from ..service.delivery import send_run
from ..service.gse import GseError, import_gse_figures, reconciliation
from ..service.mail import MailError, SmtpConfig
from ..service.metered import DEFAULT_SOURCE, MeteredImportError, import_file
from ..service.registry import (
    RegistryError,
    community_document,
    editable_document,
    jsonable,
)
from ..service.registry_changes import apply_import, history, pod_code
from ..service.report_model import ReportError, load_facts
from ..service.run_documents import MEMBER_DOCUMENTS, RUN_DOCUMENTS
from ..service.runs import guards
from ..service.settlements import (
    SettlementError,
    create_run,
    finalise_run,
    get_run,
    get_run_row,
    list_runs,
)
from ..service.tokens import TokenError, create_token, revoke_token
from ..service.web_access import (
    LinkError,
    WebSessionView,
    create_member_link,
    end_session,
    start_session,
    update_session,
)
from . import downloads
from .figures import recent_periods
from .pages import (
    LANGUAGE_KEY,
    PageError,
    check_csrf,
    clear_session_cookie,
    file_response,
    language_of,
    page,
    redirect,
    render,
    request_text,
    session_of,
    set_session_cookie,
)

BASE: Final = "/console"


_ = request_text  # the page texts' gettext keyword (python -m cer_backend.locale)


def base_url(request: web.Request) -> str:
    """The address the browser used (for links and the site set-up sheet)."""
    scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
    return f"{scheme}://{request.host}"


async def _session(request: web.Request) -> WebSessionView:
    session = await session_of(request, "console")
    if session is None:
        raise web.HTTPSeeOther(f"{BASE}/accedi")
    request[LANGUAGE_KEY] = language_of(request, session)
    return session


async def _community(request: web.Request, session: WebSessionView) -> str:
    """The community the console looks at: the token's own, or the one a global admin picked."""
    if session.token_community is not None:
        return session.token_community
    if session.community_id is None:
        raise web.HTTPSeeOther(f"{BASE}/comunita")
    return session.community_id


async def _context(request: web.Request) -> tuple[WebSessionView, str, dict[str, Any]]:
    session = await _session(request)
    community_id = await _community(request, session)
    async with request.app[ENGINE_KEY].connect() as connection:
        name = await connection.scalar(
            select(Community.name).where(Community.community_id == community_id)
        )
    if name is None:
        raise PageError(404, _(request, "Comunità non trovata."))
    return (
        session,
        community_id,
        {
            "session": session,
            "csrf": session.csrf,
            "community_id": community_id,
            "community_name": name,
        },
    )


# --- sign-in -------------------------------------------------------------------------------------


@page
async def sign_in_form(request: web.Request) -> web.StreamResponse:
    """The sign-in form (an admin token, once)."""
    request[LANGUAGE_KEY] = language_of(request)
    if await session_of(request, "console") is not None:
        raise web.HTTPSeeOther(BASE)
    return render(request, "console/sign_in.html", {"error": None})


@page
async def sign_in(request: web.Request) -> web.StreamResponse:
    """Check the token; an admin gets a session cookie."""
    request[LANGUAGE_KEY] = language_of(request)
    form = await request.post()
    token = str(form.get("token", "")).strip()
    principal = await request.app[TOKENS_KEY].authenticate(token) if token else None
    if principal is None or principal.role != "admin":
        return render(
            request,
            "console/sign_in.html",
            {"error": _(request, "Token sconosciuto, revocato o non di amministrazione.")},
            status=401,
        )
    secret = await start_session(
        request.app[ENGINE_KEY],
        "console",
        community_id=principal.community_id,
        token_id=principal.token_id,
        language=request[LANGUAGE_KEY],
    )
    response = redirect(BASE)
    set_session_cookie(request, response, "console", secret)
    return response


@page
async def sign_out(request: web.Request) -> web.StreamResponse:
    """End the session on the server and in the browser."""
    session = await _session(request)
    await check_csrf(request, session)
    await end_session(request.app[ENGINE_KEY], session.secret_hash)
    response = redirect(f"{BASE}/accedi")
    clear_session_cookie(response, "console")
    return response


@page
async def pick_form(request: web.Request) -> web.StreamResponse:
    """A global admin picks the community."""
    session = await _session(request)
    if session.token_community is not None:
        raise web.HTTPSeeOther(BASE)
    async with request.app[ENGINE_KEY].connect() as connection:
        rows = (
            await connection.execute(
                select(Community.community_id, Community.name).order_by(Community.community_id)
            )
        ).all()
    return render(
        request,
        "console/pick.html",
        {"session": session, "csrf": session.csrf, "communities": rows, "community_id": None},
    )


@page
async def pick(request: web.Request) -> web.StreamResponse:
    """Remember the community a global admin picked."""
    session = await _session(request)
    form = await check_csrf(request, session)
    if session.token_community is not None:
        raise PageError(403, _(request, "Questo token appartiene a un'altra comunità."))
    chosen = str(form.get("community", ""))
    async with request.app[ENGINE_KEY].connect() as connection:
        found = await connection.scalar(
            select(Community.community_id).where(Community.community_id == chosen)
        )
    if found is None:
        raise PageError(404, _(request, "Comunità non trovata."))
    await update_session(request.app[ENGINE_KEY], session, community_id=chosen)
    raise web.HTTPSeeOther(BASE)


# --- overview ------------------------------------------------------------------------------------


async def _coverage_or_none(request: web.Request, community_id: str, period: str) -> Any:
    try:
        return await coverage(request.app[ENGINE_KEY], community_id, period)
    except (SettlementError, RegistryError, InvalidInput):
        return None


@page
async def overview(request: web.Request) -> web.StreamResponse:
    """The community at a glance."""
    _session_view, community_id, context = await _context(request)
    engine = request.app[ENGINE_KEY]
    async with engine.connect() as connection:
        document = await community_document(connection, community_id)
    zone = ZoneInfo(document["community"].get("timezone") or "Europe/Rome")
    today = utcnow().astimezone(zone).date()
    runs = await list_runs(engine, community_id)
    balance = None
    year = (runs[0]["period"][:4]) if runs else str(today.year)
    try:
        balance = await reconciliation(engine, community_id, year)
    except GseError:
        balance = None
    context.update(
        coverages=[
            (period, await _coverage_or_none(request, community_id, period))
            for period in recent_periods(today)
        ],
        last_run=runs[0] if runs else None,
        balance=balance,
        year=year,
        alerts=await list_alerts(request.app[ENGINE_KEY], community_id, limit=50),
        members=len(document["members"]),
        plants=len(document["plants"]),
        pods=sum(len(m["pods"]) for m in document["members"]),
    )
    return render(request, "console/overview.html", context)


# --- registry ------------------------------------------------------------------------------------


@page
async def registry(request: web.Request) -> web.StreamResponse:
    """Members, PODs and plants, the history of changes, and the import form."""
    _session_view, community_id, context = await _context(request)
    engine = request.app[ENGINE_KEY]
    async with engine.connect() as connection:
        document = await community_document(connection, community_id)
    context.update(
        document=document,
        pod_code=pod_code,
        changes=list(reversed(await history(engine, community_id)))[:50],
        link=None,
    )
    return render(request, "console/registry.html", context)


@page
async def registry_edit(request: web.Request) -> web.StreamResponse:
    """The registry in force as a community file to edit: add, change or end members, PODs
    and plants; the import checks it as the API does and shows the diff before applying."""
    _session_view, community_id, context = await _context(request)
    async with request.app[ENGINE_KEY].connect() as connection:
        document = await editable_document(connection, community_id)
    text = yaml.safe_dump(
        jsonable(document), allow_unicode=True, sort_keys=False, default_flow_style=False
    )
    context.update(text=text)
    return render(request, "console/edit.html", context)


def _upload(request: web.Request, form: Any) -> tuple[bytes, str] | None:
    """The file of the form's ``file`` field (its bytes and name), none when no file was
    chosen; 413 when it is larger than a file may be."""
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    raw = upload.file.read(MAX_FILE_BODY + 1)
    if len(raw) > MAX_FILE_BODY:
        raise PageError(413, _(request, "Il file è troppo grande."))
    return raw, str(upload.filename)


def _required_upload(request: web.Request, form: Any) -> tuple[bytes, str]:
    """:func:`_upload`, where a file is required (422 without one)."""
    upload = _upload(request, form)
    if upload is None:
        raise PageError(422, _(request, "Scegliere un file."))
    return upload


async def _community_file(request: web.Request, form: Any) -> tuple[str, Any]:
    """The community file's text (a text box or an uploaded file) and its data."""
    upload = _upload(request, form)
    text = str(form.get("text") or "")
    if upload is not None:
        try:
            text = upload[0].decode("utf-8")
        except UnicodeDecodeError as err:
            raise PageError(422, _(request, "Il file non è testo UTF-8.")) from err
    if not text.strip():
        raise PageError(422, _(request, "Scegliere un file della comunità."))
    return text, load_yaml(text, "community.yaml")


def _effective(request: web.Request, value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise PageError(422, _(request, "La data non è valida (AAAA-MM-GG).")) from err


@page
async def registry_import(request: web.Request) -> web.StreamResponse:
    """A community file: first the dry run's diff, then (confirmed) the import."""
    session, _community_id, context = await _context(request)
    form = await check_csrf(request, session)
    apply = form.get("apply") == "1"
    problems: list[Any] = []
    answer = None
    text = ""
    try:
        text, data = await _community_file(request, form)
        answer = await apply_import(
            request.app[ENGINE_KEY],
            data,
            dry_run=not apply,
            effective=_effective(request, form.get("effective")),
            actor=f"console, token {session.token_id}",
            allowed_community=session.token_community,
        )
    except InvalidInput as err:
        problems = [{"field": p.path, "message": p.message} for p in err.problems]
    except RegistryError as err:
        problems = err.problems or [{"field": "", "message": str(err)}]
        context["error"] = str(err)
    if answer is not None and apply:
        request.app[REGISTRY_KEY].forget(answer["id"])
    context.update(answer=answer, problems=problems, text=text, applied=apply and answer)
    status = 200 if answer is not None else 422
    return render(request, "console/import.html", context, status=status)


@page
async def member_link(request: web.Request) -> web.StreamResponse:
    """A member's personal link, shown once to the referent."""
    session, community_id, context = await _context(request)
    await check_csrf(request, session)
    member_id = request.match_info["member"]
    try:
        secret = await create_member_link(request.app[ENGINE_KEY], community_id, member_id)
    except LinkError as err:
        raise PageError(404, _(request, "Socio non trovato.")) from err
    context.update(member=member_id, url=f"{base_url(request)}/socio/accesso/{secret}")
    return render(request, "console/link.html", context)


# --- data ----------------------------------------------------------------------------------------


def _period_query(request: web.Request, default: str) -> str:
    period = request.query.get("period") or default
    if len(period) > 30:
        raise PageError(422, _(request, "Periodo non valido."))
    return period


@page
async def data(request: web.Request) -> web.StreamResponse:
    """The distributor-file upload form and the completeness report of a period."""
    _session_view, community_id, context = await _context(request)
    period = _period_query(request, recent_periods(utcnow().date())[-1])
    report = None
    try:
        report = await coverage(request.app[ENGINE_KEY], community_id, period)
    except (SettlementError, InvalidInput) as err:
        context["error"] = str(err)
    context.update(period=period, report=report, layouts=list(BUILTIN_LAYOUTS), outcome=None)
    return render(request, "console/data.html", context)


@page
async def data_import(request: web.Request) -> web.StreamResponse:
    """Import (or only check) a distributor's file, all or nothing."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    raw, filename = _required_upload(request, form)
    layout_name = str(form.get("layout") or "")
    try:
        layout = builtin_layout(layout_name)
    except InvalidInput as err:
        raise PageError(422, _(request, "Formato del file sconosciuto.")) from err
    try:
        outcome = await import_file(
            request.app[ENGINE_KEY],
            community_id,
            raw,
            filename,
            layout,
            source=str(form.get("source") or DEFAULT_SOURCE),
            dry_run=form.get("dry_run") == "1",
            token_id=session.token_id,
        )
    except MeteredImportError as err:
        raise PageError(err.status, str(err)) from err
    context.update(
        period=recent_periods(utcnow().date())[-1],
        report=None,
        layouts=list(BUILTIN_LAYOUTS),
        outcome=outcome.as_dict(),
    )
    return render(request, "console/data.html", context, status=422 if outcome.errors else 200)


# --- settlements ---------------------------------------------------------------------------------


@page
async def settlements(request: web.Request) -> web.StreamResponse:
    """The runs, newest first, and the form to run a month, a year or a correction."""
    _session_view, community_id, context = await _context(request)
    context.update(runs=await list_runs(request.app[ENGINE_KEY], community_id), error=None)
    return render(request, "console/settlements.html", context)


@page
async def settlement_run(request: web.Request) -> web.StreamResponse:
    """Settle a period into a draft."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    period = str(form.get("period") or "").strip()
    kind = str(form.get("kind") or "") or None
    try:
        run = await create_run(request.app[ENGINE_KEY], community_id, period, kind)
    except SettlementError as err:
        context.update(
            runs=await list_runs(request.app[ENGINE_KEY], community_id),
            error=str(err),
            problems=err.problems,
        )
        return render(request, "console/settlements.html", context, status=err.status)
    raise web.HTTPSeeOther(f"{BASE}/liquidazioni/{run['id']}")


async def _run_page(
    request: web.Request, community_id: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    engine = request.app[ENGINE_KEY]
    run_id = request.match_info["run"]
    try:
        run = await get_run(engine, run_id, community_id)
        checks = None
        if run["status"] == "draft":
            checks = await guards(engine, await get_run_row(engine, run_id, community_id))
    except SettlementError as err:
        raise PageError(err.status, _(request, "Liquidazione non trovata.")) from err
    context.update(run=run, result=run.get("result") or {}, checks=checks)
    context.setdefault("error", None)
    return render(request, "console/run.html", context, status=status)


@page
async def settlement(request: web.Request) -> web.StreamResponse:
    """One run: totals, members, the guards, the finalise form and the downloads."""
    _session_view, community_id, context = await _context(request)
    return await _run_page(request, community_id, context)


@page
async def settlement_finalise(request: web.Request) -> web.StreamResponse:
    """Finalise a draft (forced only with a reason)."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    try:
        await finalise_run(
            request.app[ENGINE_KEY],
            request.match_info["run"],
            community_id,
            force=form.get("force") == "1",
            reason=str(form.get("reason") or ""),
        )
    except SettlementError as err:
        context.update(error=str(err), problems=err.problems)
        return await _run_page(request, community_id, context, status=err.status)
    request.app[REGISTRY_KEY].forget(community_id)
    raise web.HTTPSeeOther(f"{BASE}/liquidazioni/{request.match_info['run']}")


@page
async def download(request: web.Request) -> web.StreamResponse:
    """The run's documents, made by the report services the API uses (issue #13)."""
    session = await _session(request)
    community_id = await _community(request, session)
    facts = await downloads.run_facts(
        request, community_id, _(request, "Liquidazione non trovata.")
    )
    what = request.match_info["what"]
    if what == "report.csv":  # the run's figures as the API's report.csv
        run = await get_run(request.app[ENGINE_KEY], facts.id, community_id)
        return file_response(
            reports.run_csv(run), "text/csv", f"{downloads.stem(facts)}-report.csv"
        )
    if what in MEMBER_DOCUMENTS:
        member = request.query.get("member", "")
        return await downloads.member_document(
            request, facts, member, what, _(request, "Socio non trovato.")
        )
    if what not in RUN_DOCUMENTS:
        raise PageError(404, _(request, "Pagina non trovata."))
    return await downloads.run_document(request, facts, what)


@page
async def settlement_send(request: web.Request) -> web.StreamResponse:
    """E-mail the community report and the statements of a run (or only list them)."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    dry_run = form.get("dry_run") == "1"
    try:
        facts = await load_facts(request.app[ENGINE_KEY], request.match_info["run"], community_id)
        config = None if dry_run else SmtpConfig.from_environment(os.environ)
        outcome = await send_run(
            request.app[ENGINE_KEY],
            facts,
            downloads.document_language(request),
            config=config,
            dry_run=dry_run,
        )
    except (ReportError, MailError) as err:
        context.update(error=str(err))
        return await _run_page(request, community_id, context, status=getattr(err, "status", 409))
    context.update(sent=outcome.to_json())
    return await _run_page(request, community_id, context)


# --- alerts --------------------------------------------------------------------------------------


@page
async def alerts(request: web.Request) -> web.StreamResponse:
    """The community's open alerts, each with its acknowledgement form."""
    _session_view, community_id, context = await _context(request)
    context.update(alerts=await list_alerts(request.app[ENGINE_KEY], community_id))
    return render(request, "console/alerts.html", context)


@page
async def alert_ack(request: web.Request) -> web.StreamResponse:
    """Acknowledge an alert with a note (it stays open until its cause is gone)."""
    session, community_id, _context_data = await _context(request)
    form = await check_csrf(request, session)
    try:
        alert_id = int(request.match_info["alert"])
    except ValueError as err:
        raise PageError(404, _(request, "Avviso non trovato.")) from err
    note = str(form.get("note") or "").strip()[:500]
    try:
        await acknowledge(request.app[ENGINE_KEY], alert_id, note, session.token_id, community_id)
    except AlertError as err:
        raise PageError(err.status, str(err)) from err
    return redirect(f"{BASE}/avvisi")


# --- GSE -----------------------------------------------------------------------------------------


@page
async def gse(request: web.Request) -> web.StreamResponse:
    """The reconciliation of a year or month and the form to record the GSE's figures."""
    _session_view, community_id, context = await _context(request)
    period = _period_query(request, str(utcnow().year))
    answer = None
    try:
        answer = await reconciliation(request.app[ENGINE_KEY], community_id, period)
    except GseError as err:
        context["error"] = str(err)
    context.update(period=period, answer=answer, recorded=None, problems=[])
    return render(request, "console/gse.html", context)


@page
async def gse_import(request: web.Request) -> web.StreamResponse:
    """Record the GSE's figures (a CSV file, FORMATS.md): all or nothing."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    raw, filename = _required_upload(request, form)
    recorded, problems = None, []
    try:
        recorded = await import_gse_figures(
            request.app[ENGINE_KEY], community_id, raw.decode("utf-8"), filename
        )
    except UnicodeDecodeError:
        problems = [_(request, "Il file non è testo UTF-8.")]
    except InvalidInput as err:
        problems = [str(problem) for problem in err.problems]
    context.update(period=str(utcnow().year), answer=None, recorded=recorded, problems=problems)
    return render(request, "console/gse.html", context, status=422 if problems else 200)


# --- tokens and the site set-up sheet ------------------------------------------------------------


async def _tokens(request: web.Request, community_id: str) -> list[Any]:
    async with request.app[ENGINE_KEY].connect() as connection:
        return list(
            (
                await connection.execute(
                    select(table(Token))
                    .where(Token.community_id == community_id)
                    .order_by(Token.token_id)
                )
            ).all()
        )


async def _tokens_page(
    request: web.Request,
    community_id: str,
    context: dict[str, Any],
    created: dict[str, Any] | None = None,
    error: str | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """The tokens page: the community's tokens, its PODs for the form, the token just
    created (its secret shown once) or the error."""
    async with request.app[ENGINE_KEY].connect() as connection:
        document = await community_document(connection, community_id)
    context.update(
        tokens=await _tokens(request, community_id),
        created=created,
        error=error,
        pods=[pod_code(p) for m in document["members"] for p in m["pods"]],
        as_utc=as_utc,
    )
    return render(request, "console/tokens.html", context, status=status)


@page
async def tokens(request: web.Request) -> web.StreamResponse:
    """The community's tokens (never their secrets) and the create form."""
    _session_view, community_id, context = await _context(request)
    return await _tokens_page(request, community_id, context)


@page
async def token_create(request: web.Request) -> web.StreamResponse:
    """A new token: its secret is on this page only; a site token can print its sheet."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    role = str(form.get("role") or "")
    pods = [str(p) for p in form.getall("pods", [])]
    label = str(form.get("label") or "").strip()[:200] or None
    created, error = None, None
    try:
        secret, token_id = await create_token(
            request.app[ENGINE_KEY], role, community_id, pods, label
        )
        created = {"id": token_id, "token": secret, "role": role, "pods": pods, "label": label}
    except TokenError as err:
        error = str(err)
    if created is not None and form.get("sheet") == "1" and role == "site":
        context.update(sheet=created, url=base_url(request))
        return render(request, "console/sheet.html", context)
    return await _tokens_page(
        request, community_id, context, created, error, status=422 if error else 201
    )


@page
async def token_revoke(request: web.Request) -> web.StreamResponse:
    """Revoke a token of the community."""
    session, community_id, _context_data = await _context(request)
    await check_csrf(request, session)
    try:
        token_id = int(request.match_info["token_id"])
    except ValueError as err:
        raise PageError(404, _(request, "Token non trovato.")) from err
    if not 1 <= token_id <= 2**31 - 1 or not await revoke_token(
        request.app[ENGINE_KEY], token_id, community_id
    ):
        raise PageError(404, _(request, "Token non trovato."))
    request.app[TOKENS_KEY].forget()
    raise web.HTTPSeeOther(f"{BASE}/token")


@page
async def sheets(request: web.Request) -> web.StreamResponse:
    """The buildings (PODs with their label) to print a site set-up sheet for."""
    _session_view, community_id, context = await _context(request)
    async with request.app[ENGINE_KEY].connect() as connection:
        document = await community_document(connection, community_id)
    buildings = [
        {
            "pod": pod_code(p),
            "label": p.get("label") if isinstance(p, dict) else None,
            "member": m["name"],
        }
        for m in document["members"]
        for p in m["pods"]
    ]
    context.update(buildings=buildings)
    return render(request, "console/sheets.html", context)


def routes() -> list[web.RouteDef]:
    """The console's routes."""
    return [
        web.get(f"{BASE}/accedi", sign_in_form),
        web.post(f"{BASE}/accedi", sign_in),
        web.post(f"{BASE}/esci", sign_out),
        web.get(f"{BASE}/comunita", pick_form),
        web.post(f"{BASE}/comunita", pick),
        web.get(BASE, overview),
        web.get(f"{BASE}/anagrafica", registry),
        web.post(f"{BASE}/anagrafica/importa", registry_import),
        web.get(f"{BASE}/anagrafica/modifica", registry_edit),
        web.post(f"{BASE}/anagrafica/soci/{{member}}/link", member_link),
        web.get(f"{BASE}/dati", data),
        web.post(f"{BASE}/dati/importa", data_import),
        web.get(f"{BASE}/liquidazioni", settlements),
        web.post(f"{BASE}/liquidazioni", settlement_run),
        web.get(f"{BASE}/liquidazioni/{{run}}", settlement),
        web.post(f"{BASE}/liquidazioni/{{run}}/finalizza", settlement_finalise),
        web.get(f"{BASE}/liquidazioni/{{run}}/{{what}}", download),
        web.post(f"{BASE}/liquidazioni/{{run}}/invia", settlement_send),
        web.get(f"{BASE}/avvisi", alerts),
        web.post(f"{BASE}/avvisi/{{alert}}/conferma", alert_ack),
        web.get(f"{BASE}/gse", gse),
        web.post(f"{BASE}/gse", gse_import),
        web.get(f"{BASE}/token", tokens),
        web.post(f"{BASE}/token", token_create),
        web.post(f"{BASE}/token/{{token_id}}/revoca", token_revoke),
        web.get(f"{BASE}/schede", sheets),
    ]
