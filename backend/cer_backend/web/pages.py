"""What every page shares: templates, language, number formats, sessions, CSRF, errors.

The web layer sits beside the API: it calls the services (never the other way round) and
renders HTML with Jinja2; no page needs JavaScript.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from multidict import MultiDictProxy

from .. import i18n
from ..api.keys import ENGINE_KEY
from ..service.availability import is_unavailable
from ..service.web_access import WebSessionView, load_session, update_session
from .texts import LANGUAGES, translate

_LOGGER = logging.getLogger("cer_backend.web")

HERE: Final = Path(__file__).resolve().parent
#: one cookie per area, each sent only under its own path
COOKIES: Final = {"console": ("cer_console", "/console"), "member": ("cer_socio", "/socio")}
SESSION_KEY: Final = web.RequestKey("web_session", WebSessionView)
LANGUAGE_KEY: Final = web.RequestKey("web_language", str)

ENVIRONMENT: Final = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageError(Exception):
    """A page that cannot be shown: its status and a sentence (already in the language)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def language_of(request: web.Request, session: WebSessionView | None = None) -> str:
    """``?lang=``, else the session's choice, else Accept-Language, else Italian."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    if session is not None and session.language in LANGUAGES:
        return str(session.language)
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "it"


def number(value: Any, language: str, digits: int = 0) -> str:
    """A number in the language's format, as the reports write it: ``1.234,5`` in Italian."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return i18n.language(language).number(amount, digits)


def kwh(wh: Any, language: str) -> str:
    """Integer Wh shown as kWh with one decimal (the unit is in the column's heading)."""
    if wh is None:
        return "—"
    return number(Decimal(int(wh)) / 1000, language, 1)


def euro(value: Any, language: str) -> str:
    """An exact euro string (the engine's) shown to the cent, as the reports write it."""
    if value is None or value == "":
        return "—"
    return i18n.language(language).eur(str(value))


def period_label(period: str, language: str) -> str:
    """``giugno 2025`` / ``June 2025``; a range of days ``1 dic 2026 – 5 dic 2026``."""
    lang = i18n.language(language)
    try:
        first, dots, last = period.partition("..")
        if dots:
            return f"{lang.date(first)} – {lang.date(last)}"
        return lang.period(period)
    except (ValueError, KeyError):
        return period


def hours_range(text: str, language: str) -> str:
    """A missing range ``start/end`` (ISO, local) as ``1 dicembre 2026 00:00 – 06:00``."""
    lang = i18n.language(language)
    try:
        start, end = (dt.datetime.fromisoformat(part) for part in str(text).split("/"))
    except ValueError:
        return str(text)
    first = f"{lang.date(start.date())} {start:%H:%M}"
    if end.date() == start.date() or ((end - start) <= dt.timedelta(hours=24) and end.hour == 0):
        return f"{first} – {end:%H:%M}"
    return f"{first} – {lang.date(end.date())} {end:%H:%M}"


async def session_of(request: web.Request, kind: str) -> WebSessionView | None:
    """The request's live session of ``kind`` (its cookie), or None."""
    cookie_name, _ = COOKIES[kind]
    secret = request.cookies.get(cookie_name)
    if not secret or len(secret) > 200:
        return None
    session = await load_session(request.app[ENGINE_KEY], secret)
    if session is None or session.kind != kind:
        return None
    asked = request.query.get("lang")
    if asked in LANGUAGES and asked != session.language:
        await update_session(request.app[ENGINE_KEY], session, language=asked)
    return session


def set_session_cookie(
    request: web.Request, response: web.StreamResponse, kind: str, secret: str
) -> None:
    """HTTP-only, SameSite=Strict, under the area's path; Secure behind HTTPS; a browser
    session cookie (the server ends the session after ``IDLE_HOURS`` idle hours)."""
    name, path = COOKIES[kind]
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"
    response.set_cookie(
        name,
        secret,
        path=path,
        httponly=True,
        samesite="Strict",
        secure=secure,
    )  # no max-age: the server ends the session after IDLE_HOURS without a request


def clear_session_cookie(response: web.StreamResponse, kind: str) -> None:
    """Forget the cookie in the browser (the server already ended the session)."""
    name, path = COOKIES[kind]
    response.del_cookie(name, path=path)


async def check_csrf(request: web.Request, session: WebSessionView) -> MultiDictProxy[Any]:
    """The posted form, once its CSRF token matches the session's (else 403)."""
    form = await request.post()
    token = form.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
        _LOGGER.warning("Form refused: missing or wrong CSRF token on %s", request.path)
        raise PageError(403, translate("Modulo rifiutato: token CSRF mancante o errato.", "it"))
    return form


def file_response(body: str | bytes, content_type: str, filename: str) -> web.Response:
    """A download (an attachment with its name)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if isinstance(body, str):
        return web.Response(text=body, content_type=content_type, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


def request_text(request: web.Request, text: str) -> str:
    """A page text (Italian) in the request's language: the page modules' ``_(request, …)``."""
    return translate(text, request.get(LANGUAGE_KEY) or "it")


def redirect(location: str) -> web.Response:
    """303 See Other (after a form, the browser GETs the next page)."""
    return web.Response(status=303, headers={"Location": location})


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    language: str | None = None,
) -> web.Response:
    """A page in the request's language."""
    lang = language or request.get(LANGUAGE_KEY) or language_of(request)
    page = ENVIRONMENT.get_template(template).render(
        **context,
        _=lambda text: translate(text, lang),
        lang=lang,
        path=request.path,
        num=lambda value, digits=0: number(value, lang, digits),
        kwh=lambda wh: kwh(wh, lang),
        euro=lambda value: euro(value, lang),
        period_name=lambda value: period_label(str(value), lang),
        hours=lambda value: hours_range(str(value), lang),
    )
    response = web.Response(text=page, content_type="text/html", charset="utf-8", status=status)
    response.headers["Content-Language"] = lang
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"  # personal figures stay out of caches
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self';"
        " frame-ancestors 'none'"
    )
    return response


def page(handler: Handler) -> Handler:
    """Errors of a page as an HTML page with their status, never a traceback."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PageError as err:
            lang = request.get(LANGUAGE_KEY) or language_of(request)
            message = translate(err.message, lang)
            return render(request, "error.html", {"message": message}, status=err.status)
        except web.HTTPException:
            raise
        except Exception as err:
            lang = request.get(LANGUAGE_KEY) or language_of(request)
            if is_unavailable(err):
                message = translate("Il database non risponde: riprovare più tardi.", lang)
                return render(request, "error.html", {"message": message}, status=503)
            _LOGGER.exception("Unhandled error on %s %s", request.method, request.path)
            message = translate("Errore interno: è stato registrato.", lang)
            return render(request, "error.html", {"message": message}, status=500)

    wrapped.__doc__ = handler.__doc__
    wrapped.__name__ = handler.__name__
    return wrapped
