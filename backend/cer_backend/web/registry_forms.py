"""One member or one plant at a time: the console's registry forms.

Each form changes the community file in force by one entry and sends the result through the
import's own check and diff (:func:`apply_import`, a dry run first): what is added here meets
exactly the validation of ``community import`` and ``POST /communities``, every problem is
listed with its path, and nothing is stored until the referent confirms on the import page
(which end-dates what was removed on the day given, as an import does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Final

import yaml
from aiohttp import web
from multidict import MultiDictProxy

from ..api.keys import ENGINE_KEY
from ..domain import rules
from ..domain.community import VOLTAGES
from ..domain.errors import InvalidInput
from ..files import load_yaml
from ..service.registry import RegistryError, editable_document, jsonable
from ..service.registry_changes import MEMBER_FIELDS, PLANT_FIELDS, apply_import
from ..service.web_access import WebSessionView
from .console import BASE, _, _context, _effective
from .pages import PageError, check_csrf, page, render

REGISTRY: Final = f"{BASE}/anagrafica"

#: The member's keys that the form edits as text (the registry's, but the ``public`` box).
MEMBER_TEXT_KEYS: Final = tuple(key for key in MEMBER_FIELDS if key != "public")
#: The plant's keys that the form edits (the registry's).
PLANT_TEXT_KEYS: Final = PLANT_FIELDS
#: Plant keys that are numbers in the file.
PLANT_NUMBER_KEYS: Final = frozenset({"power_kw", "capital_grant_pct"})
#: Plant sources (FORMATS.md).
PLANT_SOURCES: Final = ("pv", "wind", "hydro", "biogas", "other")
#: A POD's optional keys besides its code (FORMATS.md).
POD_KEYS: Final = ("cabina_primaria", "label", "role")
#: Empty rows offered for new PODs on a member's form.
NEW_POD_ROWS: Final = 2


def _pod_row(entry: Any) -> dict[str, str]:
    """A member's POD (a string or an object) as one row of the form."""
    if isinstance(entry, dict):
        return {"pod": str(entry["pod"])} | {
            key: str(entry[key]) for key in POD_KEYS if entry.get(key) is not None
        }
    return {"pod": str(entry)}


def _number(_key: str, text: str) -> int | float | str:
    """A number typed in the form (comma or point decimals), as the file would carry it; what
    is not a number stays text, for the file's check to name it with its path."""
    cleaned = text.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() and "." not in cleaned else value


def _text(form: MultiDictProxy[Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _pods_of(form: MultiDictProxy[Any]) -> list[Any]:
    """The POD rows of a member's form: a plain code, or an object when it has more keys.

    A row whose code is cleared is removed (the import then ends that POD)."""
    codes = form.getall("pod", [])
    columns = {key: form.getall(f"pod_{key}", []) for key in POD_KEYS}
    pods: list[Any] = []
    for row, typed in enumerate(codes):
        code = str(typed).strip().upper()
        if not code:
            continue
        extra = {
            key: str(values[row]).strip()
            for key, values in columns.items()
            if row < len(values) and str(values[row]).strip()
        }
        pods.append({"pod": code, **extra} if extra else code)
    return pods


def _updated(
    entry: dict[str, Any],
    form: MultiDictProxy[Any],
    keys: Iterable[str],
    convert: Callable[[str, str], Any] = lambda _key, text: text,
) -> dict[str, Any]:
    """``entry`` with the form's values for ``keys``: an empty field removes the key (its
    default applies), the keys the form does not show are kept."""
    for key in keys:
        text = _text(form, key)
        if text:
            entry[key] = convert(key, text)
        else:
            entry.pop(key, None)
    return entry


async def _document(request: web.Request, community_id: str) -> dict[str, Any]:
    async with request.app[ENGINE_KEY].connect() as connection:
        document: dict[str, Any] = jsonable(await editable_document(connection, community_id))
    return document


def _find(entries: list[dict[str, Any]], entry_id: str, request: web.Request) -> int:
    for index, entry in enumerate(entries):
        if str(entry.get("id")) == entry_id:
            return index
    raise PageError(404, _(request, "Voce dell'anagrafica non trovata."))


async def _preview(
    request: web.Request,
    session: WebSessionView,
    context: dict[str, Any],
    document: dict[str, Any],
    form: MultiDictProxy[Any],
) -> web.StreamResponse:
    """The changed file through the import's check and diff (a dry run), on the import page,
    whose confirmation applies it."""
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=False)
    problems: list[Any] = []
    answer = None
    status = 200
    try:
        answer = await apply_import(
            request.app[ENGINE_KEY],
            load_yaml(text, "community.yaml"),
            dry_run=True,
            effective=_effective(request, form.get("effective")),
            actor=f"console, token {session.token_id}",
            allowed_community=session.token_community,
        )
    except InvalidInput as err:
        problems = [{"field": p.path, "message": p.message} for p in err.problems]
        status = 422
    except RegistryError as err:
        problems = err.problems or [{"field": "", "message": str(err)}]
        context["error"] = str(err)
        status = err.status  # 409: a POD active in another community
    context.update(answer=answer, problems=problems, text=text, applied=False)
    return render(request, "console/import.html", context, status=status)


def _choices(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_types": [t for t, kind in rules.MEMBER_TYPES.items() if not kind.excluded],
        "pod_roles": rules.POD_ROLES,
        "plant_sources": PLANT_SOURCES,
        "voltages": VOLTAGES,
        "owners": [(m["id"], m.get("name") or m["id"]) for m in document["members"]],
    }


#: Changes the file in force (the document) as the posted form says.
Change = Callable[[web.Request, dict[str, Any], MultiDictProxy[Any]], None]
#: Fills an entry from its form: (entry, form, document, original id).
Fill = Callable[[dict[str, Any], MultiDictProxy[Any], dict[str, Any], str], None]


async def _change(request: web.Request, change: Change) -> web.StreamResponse:
    """A posted form: the file in force changed by it, through the import's dry run."""
    session, community_id, context = await _context(request)
    form = await check_csrf(request, session)
    document = await _document(request, community_id)
    change(request, document, form)
    return await _preview(request, session, context, document, form)


def _saved(section: str, fill: Fill) -> Change:
    """An entry of ``section`` added (no ``original``) or changed (its ``original`` id)."""

    def change(request: web.Request, document: dict[str, Any], form: MultiDictProxy[Any]) -> None:
        entries = document[section]
        original = _text(form, "original")
        if original:
            index = _find(entries, original, request)
            entry = dict(entries[index])
        else:
            index, entry = len(entries), {}
        entry["id"] = _text(form, "id") or original
        fill(entry, form, document, original)
        ordered = {"id": entry["id"]} | {k: v for k, v in entry.items() if k != "id"}
        entries[index : index + 1] = [ordered]

    return change


def _ended(section: str, name: str) -> Change:
    """The entry of ``section`` named in the address removed: the import ends it."""

    def change(request: web.Request, document: dict[str, Any], _form: MultiDictProxy[Any]) -> None:
        del document[section][_find(document[section], request.match_info[name], request)]

    return change


# --- members ------------------------------------------------------------------------------------


@page
async def member_form(request: web.Request) -> web.StreamResponse:
    """A member's form: a new one, or the one named in the address, with its PODs."""
    _session, community_id, context = await _context(request)
    document = await _document(request, community_id)
    member_id = request.match_info.get("member")
    member: dict[str, Any] = {"pods": []}
    if member_id is not None:
        member = document["members"][_find(document["members"], member_id, request)]
    rows = [_pod_row(p) for p in member.get("pods", [])] + [{}] * NEW_POD_ROWS
    context.update(_choices(document), member=member, original=member_id, rows=rows)
    return render(request, "console/member_form.html", context)


def _fill_member(
    member: dict[str, Any], form: MultiDictProxy[Any], document: dict[str, Any], original: str
) -> None:
    _updated(member, form, MEMBER_TEXT_KEYS)
    if form.get("public") == "1":
        member["public"] = True
    else:
        member.pop("public", None)
    member["pods"] = _pods_of(form)
    if original and member["id"] != original:  # a new code: the member's plants follow
        for plant in document["plants"]:
            if plant.get("owner") == original:
                plant["owner"] = member["id"]


@page
async def member_save(request: web.Request) -> web.StreamResponse:
    """A member added or changed: the whole file's diff, to confirm."""
    return await _change(request, _saved("members", _fill_member))


@page
async def member_end(request: web.Request) -> web.StreamResponse:
    """A member removed from the file: the import ends him (and his PODs) on the day given."""
    return await _change(request, _ended("members", "member"))


# --- plants -------------------------------------------------------------------------------------


@page
async def plant_form(request: web.Request) -> web.StreamResponse:
    """A plant's form: a new one, or the one named in the address."""
    _session, community_id, context = await _context(request)
    document = await _document(request, community_id)
    plant_id = request.match_info.get("plant")
    plant: dict[str, Any] = {"source": "pv", "voltage": "lv"}
    if plant_id is not None:
        plant = document["plants"][_find(document["plants"], plant_id, request)]
    context.update(_choices(document), plant=plant, original=plant_id)
    return render(request, "console/plant_form.html", context)


def _fill_plant(
    plant: dict[str, Any], form: MultiDictProxy[Any], _document: dict[str, Any], _original: str
) -> None:
    def convert(key: str, text: str) -> Any:
        return _number(key, text) if key in PLANT_NUMBER_KEYS else text

    _updated(plant, form, PLANT_TEXT_KEYS, convert)
    if "pod" in plant:
        plant["pod"] = str(plant["pod"]).upper()


@page
async def plant_save(request: web.Request) -> web.StreamResponse:
    """A plant added or changed: the whole file's diff, to confirm."""
    return await _change(request, _saved("plants", _fill_plant))


@page
async def plant_end(request: web.Request) -> web.StreamResponse:
    """A plant removed from the file: the import ends it on the day given."""
    return await _change(request, _ended("plants", "plant"))


def routes() -> list[web.RouteDef]:
    """The forms' routes ("nuovo" before the entry's own address)."""
    return [
        web.get(f"{REGISTRY}/soci/nuovo", member_form),
        web.get(f"{REGISTRY}/soci/{{member}}", member_form),
        web.post(f"{REGISTRY}/soci", member_save),
        web.post(f"{REGISTRY}/soci/{{member}}/termina", member_end),
        web.get(f"{REGISTRY}/impianti/nuovo", plant_form),
        web.get(f"{REGISTRY}/impianti/{{plant}}", plant_form),
        web.post(f"{REGISTRY}/impianti", plant_save),
        web.post(f"{REGISTRY}/impianti/{{plant}}/termina", plant_end),
    ]
