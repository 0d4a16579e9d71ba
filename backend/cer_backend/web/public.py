"""The public page (``/pubblico``): a community's results, off until ``public_page: true``.

No POD code and no member's name, except members that are neither persons nor firms and
agreed to be shown (``public: true``, FORMATS.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from aiohttp import web
from sqlalchemy import select

from ..api.keys import ENGINE_KEY
from ..models import Community
from ..service.registry import RegistryError, community_document
from .figures import shown_runs
from .pages import LANGUAGE_KEY, PageError, language_of, page, render
from .texts import translate

BASE: Final = "/pubblico"
#: kg of CO₂ per kWh of grid electricity that shared renewable energy displaces: ISPRA's
#: factor of Italian electricity consumption (2023, rounded); an assumption (docs/web.md)
CO2_KG_PER_KWH: Final = Decimal("0.25")
#: member types that may be named publicly when they agree (not persons, not firms)
NAMEABLE_TYPES: Final = frozenset(
    {
        "association",
        "municipality",
        "public_body",
        "religious",
        "third_sector",
        "environmental",
        "research",
    }
)


def publishes(document: dict[str, Any]) -> bool:
    """Whether the community turned its public page on (``settings.public_page: true``)."""
    settings = document.get("settings") or {}
    return settings.get("public_page") is True


def public_names(document: dict[str, Any]) -> list[str]:
    """The members that may be named: bodies (not persons or firms) with ``public: true``."""
    return [
        str(m["name"])
        for m in document["members"]
        if m.get("public") is True and m.get("type") in NAMEABLE_TYPES and not m.get("left")
    ]


def co2_avoided_kg(shared_wh: int) -> Decimal:
    """CO₂ avoided by shared energy: kWh times :data:`CO2_KG_PER_KWH`, to the kg."""
    return (Decimal(shared_wh) / 1000 * CO2_KG_PER_KWH).quantize(Decimal(1))


def month_row(run: dict[str, Any]) -> dict[str, Any]:
    """A period's public totals, from its run (no POD, no member)."""
    result = run.get("result") or {}
    shared = int(result.get("shared_wh") or 0)
    received = Decimal(result.get("tip_eur") or 0) + Decimal(result.get("valorisation_eur") or 0)
    distributed = sum(
        (Decimal(m.get("amount_eur") or 0) for m in result.get("members") or []), Decimal(0)
    )
    return {
        "period": run["period"],
        "final": run["status"] == "final",
        "shared_wh": shared,
        "co2_kg": co2_avoided_kg(shared),
        "received_eur": f"{received:.2f}",
        "distributed_eur": f"{distributed:.2f}",
    }


@page
async def index(request: web.Request) -> web.StreamResponse:
    """The communities that publish a page."""
    request[LANGUAGE_KEY] = language_of(request)
    engine = request.app[ENGINE_KEY]
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Community.community_id, Community.name, Community.settings).order_by(
                    Community.name
                )
            )
        ).all()
    shown = [
        {"id": r.community_id, "name": r.name}
        for r in rows
        if isinstance(r.settings, dict) and r.settings.get("public_page") is True
    ]
    return render(request, "public/index.html", {"communities": shown})


@page
async def community(request: web.Request) -> web.StreamResponse:
    """A community's totals by period, members and plants, installed power."""
    request[LANGUAGE_KEY] = language_of(request)
    community_id = request.match_info["community"]
    engine = request.app[ENGINE_KEY]
    not_found = translate("Questa comunità non ha una pagina pubblica.", request[LANGUAGE_KEY])
    try:
        async with engine.connect() as connection:
            document = await community_document(connection, community_id)
    except RegistryError as err:
        raise PageError(404, not_found) from err
    if not publishes(document):
        raise PageError(404, not_found)
    rows = [month_row(run) for run in await shown_runs(engine, community_id)]
    power = sum((Decimal(str(p["power_kw"])) for p in document["plants"]), Decimal(0))
    context = {
        "name": document["community"]["name"],
        "rows": rows,
        "members": sum(1 for m in document["members"] if not m.get("left")),
        "plants": len(document["plants"]),
        "power_kw": power,
        "named": public_names(document),
        "co2_factor": CO2_KG_PER_KWH,
    }
    return render(request, "public/community.html", context)


def routes() -> list[web.RouteDef]:
    """The public pages' routes."""
    return [web.get(BASE, index), web.get(f"{BASE}/{{community}}", community)]
