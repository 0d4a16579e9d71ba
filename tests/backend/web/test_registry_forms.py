"""The console's registry forms: one member or plant at a time, through the import's check.

Each form answers the dry run's diff and stores nothing; the confirmation on the import page
applies exactly that change; what the file check refuses is listed with its path.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from cer_backend.models import Plant
from cer_backend.service.registry import editable_document

from .conftest import POD_FAMILY, POD_HOME, POD_PLANT, Site, csrf_of

pytestmark = pytest.mark.database

NEW_POD = "IT001E00000077"
B_POD = "IT001E00000009"  # community B's


async def _document(site: Site) -> dict[str, Any]:
    """The registry in force (ended PODs and plants left out)."""
    async with site.engine.connect() as connection:
        return await editable_document(connection, site.community_a)


async def _confirm(site: Site, client: aiohttp.ClientSession, preview: str) -> str:
    """Post the preview page's confirmation form (its hidden file and effective day)."""
    form = preview[preview.index('action="/console/anagrafica/importa"') :]
    text = html.unescape(re.search(r'name="text" value="([^"]*)"', form, re.S).group(1))
    effective = re.search(r'name="effective" value="([^"]*)"', form).group(1)
    status, page, _ = await site.post(
        client,
        "/console/anagrafica/importa",
        {"csrf": csrf_of(form), "apply": "1", "text": text, "effective": effective},
    )
    assert status == 200, page[:2000]
    assert 'id="applied"' in page
    return page


def _diff_row(page: str, section: str) -> str:
    """The cells of one row of the diff table (members, PODs or plants)."""
    table = page[page.index('id="diff"') :]
    label = {"members": "soci", "pods": "POD", "plants": "impianti"}[section]
    row = re.search(rf"<th scope=\"row\">{label}</th>(.*?)</tr>", table, re.S)
    assert row, page[:3000]
    return row.group(1)


async def test_a_new_member_is_previewed_then_added_with_his_pod(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        status, form = await site.get(client, "/console/anagrafica/soci/nuovo")
        assert status == 200
        assert 'value="large_enterprise"' not in form  # excluded types are not offered
        assert 'value="sme"' in form
        data = {
            "csrf": csrf_of(form),
            "original": "",
            "id": "bottega",
            "name": "Bottega Bianchi",
            "type": "sme",
            "email": "bottega@example.it",
            "pod": [NEW_POD, ""],
            "pod_cabina_primaria": ["", ""],
            "pod_label": ["Negozio", ""],
            "pod_role": ["building", ""],
        }
        status, preview, _ = await site.post(client, "/console/anagrafica/soci", data)
        assert status == 200, preview[:2000]
        assert 'id="dry-run"' in preview
        assert "bottega" in _diff_row(preview, "members")
        assert NEW_POD in _diff_row(preview, "pods")
        assert "bottega" not in [m["id"] for m in (await _document(site))["members"]]

        await _confirm(site, client, preview)
        members = {m["id"]: m for m in (await _document(site))["members"]}
        assert members["bottega"]["name"] == "Bottega Bianchi"
        assert members["bottega"]["email"] == "bottega@example.it"
        pod = members["bottega"]["pods"][0]
        assert (pod["pod"], pod["label"], pod["role"]) == (NEW_POD, "Negozio", "building")
        _, registry = await site.get(client, "/console/anagrafica")
        assert 'href="/console/anagrafica/soci/bottega"' in registry


async def test_a_member_the_file_check_refuses_is_listed_and_nothing_is_stored(
    site: Site,
) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        _, form = await site.get(client, "/console/anagrafica/soci/nuovo")
        before = await _document(site)
        data = {
            "csrf": csrf_of(form),
            "id": "ditta",
            "name": "Ditta",
            "type": "sme",
            "ateco": "35.11.00",  # a firm producing electricity cannot be a member (§8)
            "pod": ["IT001X1"],  # not a POD code
        }
        status, page, _ = await site.post(client, "/console/anagrafica/soci", data)
        assert status == 422
        assert 'id="problems"' in page
        assert "members[2].pods[0]" in page
        assert "members[2].ateco" in page
        assert 'action="/console/anagrafica/importa"' not in page  # nothing to confirm
        assert await _document(site) == before


async def test_a_pod_of_another_community_is_refused(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        _, form = await site.get(client, "/console/anagrafica/soci/famiglia")
        data = {
            "csrf": csrf_of(form),
            "original": "famiglia",
            "id": "famiglia",
            "name": "Famiglia Rossi",
            "type": "person",
            "joined": "2025-01-01",
            "pod": [POD_FAMILY, B_POD],
        }
        status, page, _ = await site.post(client, "/console/anagrafica/soci", data)
        assert status == 409
        assert B_POD in page
        assert "CER Test B" not in page  # the other community is not revealed


async def test_changing_a_name_changes_only_that_member(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        status, form = await site.get(client, "/console/anagrafica/soci/comune")
        assert status == 200
        assert f'value="{POD_HOME}"' in form and f'value="{POD_PLANT}"' in form
        assert 'action="/console/anagrafica/soci/comune/termina"' in form
        data = {
            "csrf": csrf_of(form),
            "original": "comune",
            "id": "comune",
            "name": "Comune di Prova",
            "type": "municipality",
            "pod": [POD_HOME, POD_PLANT, ""],
        }
        status, preview, _ = await site.post(client, "/console/anagrafica/soci", data)
        assert status == 200, preview[:2000]
        members = _diff_row(preview, "members")
        assert "comune" in members and "famiglia" not in members
        assert "—" in _diff_row(preview, "plants")
        await _confirm(site, client, preview)
        names = {m["id"]: m["name"] for m in (await _document(site))["members"]}
        assert names == {"comune": "Comune di Prova", "famiglia": "Famiglia Rossi"}


async def _add_plant(site: Site, client: aiohttp.ClientSession, power: str) -> tuple[int, str]:
    _, form = await site.get(client, "/console/anagrafica/impianti/nuovo")
    assert '<option value="comune"' in form
    data = {
        "csrf": csrf_of(form),
        "id": "tettoia",
        "pod": POD_HOME,
        "owner": "comune",
        "power_kw": power,
        "source": "pv",
        "commissioned": "2025-03-01",
        "voltage": "lv",
    }
    status, page, _ = await site.post(client, "/console/anagrafica/impianti", data)
    return status, page


async def test_ending_a_plant_needs_its_day_and_end_dates_it(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        status, form = await site.get(client, "/console/anagrafica/impianti/scuola")
        assert status == 200
        assert 'value="80"' in form
        assert 'action="/console/anagrafica/impianti/scuola/termina"' in form
        assert "Termina l&#39;impianto" in form
        csrf = csrf_of(form)
        status, page, _ = await site.post(
            client,
            "/console/anagrafica/impianti/scuola/termina",
            {"csrf": csrf, "effective": "2025-07-01"},
        )
        assert status == 422  # the community's only plant: the file check refuses it
        assert "at least one production point" in page
        status, preview = await _add_plant(site, client, "12")
        assert status == 200, preview[:2000]
        await _confirm(site, client, preview)

        status, page, _ = await site.post(
            client, "/console/anagrafica/impianti/scuola/termina", {"csrf": csrf}
        )
        assert status == 200  # the dry run shows the change; its confirmation needs the day
        assert 'id="effective-required"' in page
        text = html.unescape(re.search(r'name="text" value="([^"]*)"', page, re.S).group(1))
        status, _refused, _ = await site.post(
            client,
            "/console/anagrafica/importa",
            {"csrf": csrf, "apply": "1", "text": text, "effective": ""},
        )
        assert status == 422
        assert [p["id"] for p in (await _document(site))["plants"]] == ["scuola", "tettoia"]
        status, preview, _ = await site.post(
            client,
            "/console/anagrafica/impianti/scuola/termina",
            {"csrf": csrf, "effective": "2025-07-01"},
        )
        assert status == 200, preview[:2000]
        assert "scuola" in re.findall(r"<td>(.*?)</td>", _diff_row(preview, "plants"))[2]
        await _confirm(site, client, preview)
        async with site.engine.connect() as connection:
            query = select(Plant.plant_id, Plant.ended).where(
                Plant.community_id == site.community_a
            )
            ended = dict((await connection.execute(query)).all())
        assert ended == {"scuola": date(2025, 7, 1), "tettoia": None}
        assert [p["id"] for p in (await _document(site))["plants"]] == ["tettoia"]
        # the file offered for editing leaves the ended plant out: importing it again (or
        # saving another form) must not bring the plant back
        _, edit = await site.get(client, "/console/anagrafica/modifica")
        assert "scuola" not in edit.split('name="text"', 1)[1]
        _, form = await site.get(client, "/console/anagrafica/soci/famiglia")
        data = {
            "csrf": csrf_of(form),
            "original": "famiglia",
            "id": "famiglia",
            "name": "Famiglia Rossi Bianchi",
            "type": "person",
            "joined": "2025-01-01",
            "pod": [POD_FAMILY],
        }
        status, preview, _ = await site.post(client, "/console/anagrafica/soci", data)
        assert status == 200, preview[:2000]
        assert "scuola" not in _diff_row(preview, "plants")


async def test_a_plant_with_a_bad_power_is_named_by_its_path(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        status, page = await _add_plant(site, client, "tanti")
        assert status == 422
        assert "plants[1].power_kw" in page
        status, preview = await _add_plant(site, client, "19,5")
        assert status == 200, preview[:2000]
        await _confirm(site, client, preview)
        plants = {p["id"]: p for p in (await _document(site))["plants"]}
        assert str(plants["tettoia"]["power_kw"]) in ("19.5", "19.50")


async def test_the_forms_need_a_console_session_and_their_csrf_token(site: Site) -> None:
    async with site.browser() as client:
        status, _ = await site.get(client, "/console/anagrafica/soci/nuovo")
        assert status == 303  # to the sign-in
        await site.sign_in(client)
        status, page, _ = await site.post(
            client, "/console/anagrafica/soci/famiglia/termina", {"effective": "2025-07-01"}
        )
        assert status == 403
        status, page = await site.get(client, "/console/anagrafica/soci/nessuno")
        assert status == 404
        assert "non trovata" in page
