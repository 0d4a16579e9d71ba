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
from ..domain import rules
from ..models import Community
from ..service.council import (
    DEFAULT_EMISSION_FACTOR_G_KWH,
    DEFAULT_EMISSION_SOURCE,
    co2_avoided_kg,
    emission_factor,
)
from ..service.registry import RegistryError, community_document
from ..service.report_model import RunFacts, load_facts
from .figures import shown_runs
from .pages import LANGUAGE_KEY, PageError, language_of, page, render
from .texts import translate

BASE: Final = "/pubblico"
#: member types that may be named publicly when they agree (not persons, not firms: the
#: registry's own rule, ``MemberType.may_be_public``)
NAMEABLE_TYPES: Final = frozenset(
    name for name, kind in rules.MEMBER_TYPES.items() if kind.may_be_public and not kind.excluded
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


def month_row(facts: RunFacts) -> dict[str, Any]:
    """A period's public totals, from its run (no POD, no member).

    CO₂ avoided as the council's report counts it (``service.council``): the energy the
    plants injected × the community's emission factor (or ISPRA's default).
    """
    result = facts.result
    received = Decimal(result.get("tip_eur") or 0) + Decimal(result.get("valorisation_eur") or 0)
    distributed = sum(
        (Decimal(m.get("amount_eur") or 0) for m in result.get("members") or []), Decimal(0)
    )
    factor, _source = emission_factor(facts)
    co2 = co2_avoided_kg(int(result.get("injected_wh") or 0), factor)
    return {
        "period": facts.period,
        "final": facts.final,
        "shared_wh": int(result.get("shared_wh") or 0),
        "co2_kg": co2.quantize(Decimal(1)),
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
    shown = [
        await load_facts(engine, run["id"], community_id)
        for run in await shown_runs(engine, community_id)
    ]
    rows = [month_row(facts) for facts in shown]
    factor, source = (
        emission_factor(shown[0])
        if shown
        else (DEFAULT_EMISSION_FACTOR_G_KWH, DEFAULT_EMISSION_SOURCE)
    )
    power = sum((Decimal(str(p["power_kw"])) for p in document["plants"]), Decimal(0))
    context = {
        "name": document["community"]["name"],
        "rows": rows,
        "members": sum(1 for m in document["members"] if not m.get("left")),
        "plants": len(document["plants"]),
        "power_kw": power,
        "named": public_names(document),
        "co2_factor": factor,
        "co2_source": source,
    }
    return render(request, "public/community.html", context)


def routes() -> list[web.RouteDef]:
    """The public pages' routes."""
    return [web.get(BASE, index), web.get(f"{BASE}/{{community}}", community)]
