"""A registry that changes safely (#10): validated imports, diffs, end-dating, history."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import date
from typing import Any

import pytest

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.service.registry_changes import document_in_force
from cer_backend.service.settlements import get_run_row

from .conftest import COMMUNITY_A, POD_B, POD_FAMILY, POD_HOME, POD_PLANT, Api

pytestmark = pytest.mark.database

POD_NEW = "IT001E00000044"


def file_a() -> dict[str, Any]:
    return copy.deepcopy(COMMUNITY_A)


async def counts(api: Api, community: str) -> dict[str, int]:
    status, view, _ = await api.call("GET", f"/communities/{community}", "root")
    assert status == 200
    return {k: view[k] for k in ("members", "pods", "plants")}


async def test_an_import_with_a_bad_pod_stores_nothing_and_lists_every_problem(api: Api) -> None:
    data = file_a()
    data["community"]["name"] = "CER Nuova"
    data["members"][0]["pods"] = ["IT001E1", "IT001E00000055"]
    status, problem, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 422
    assert {e["field"] for e in problem["errors"]} == {"members[0].pods[0]"}
    status, listing, _ = await api.call("GET", "/communities", "root")
    assert "CER Nuova" not in {c["name"] for c in listing}
    # a structural error does not hide the others: the bad POD is listed beside it
    data["plants"][0]["power_kw"] = -1
    data["community"]["timezone"] = "Europe/Roma"
    status, problem, _ = await api.call("POST", "/communities", "root", json=data)
    assert status == 422
    fields = {e["field"] for e in problem["errors"]}
    assert {"plants[0].power_kw", "members[0].pods[0]", "community.timezone"} <= fields
    # an update of an existing community with a bad POD changes nothing either
    before = await counts(api, api.community_a)
    broken = file_a()
    broken["members"][1]["pods"].append("ITXXX")
    status, _, _ = await api.call("POST", "/communities", "admin_a", json=broken)
    assert status == 422
    assert await counts(api, api.community_a) == before


async def test_a_dry_run_shows_the_member_that_ends_and_the_import_end_dates_him(
    api: Api,
) -> None:
    a = api.community_a
    data = file_a()
    data["members"][1] = {
        "id": "scuola",
        "name": "Scuola",
        "type": "public_body",
        "pods": [POD_NEW],
    }
    status, answer, _ = await api.call("POST", "/communities?dry_run=true", "admin_a", json=data)
    assert status == 200 and answer["dry_run"] is True, answer
    diff = answer["diff"]
    assert diff["members"]["ended"] == ["famiglia"]
    assert diff["members"]["added"] == ["scuola"]
    assert diff["pods"]["ended"] == [POD_FAMILY]
    assert diff["pods"]["added"] == [{"pod": POD_NEW, "member": "scuola"}]
    status, famiglia, _ = await api.call("GET", f"/communities/{a}/members/famiglia", "root")
    assert famiglia["left"] is None  # a dry run stores nothing
    # something would end: the day is required
    status, problem, _ = await api.call("POST", "/communities", "admin_a", json=data)
    assert status == 422 and problem["errors"][0]["field"] == "effective"
    assert (await counts(api, a))["members"] == 2
    status, answer, _ = await api.call(
        "POST", "/communities?effective=2025-07-01", "admin_a", json=data
    )
    assert status == 200, answer
    assert answer["diff"]["members"]["ended"] == ["famiglia"]
    status, famiglia, _ = await api.call("GET", f"/communities/{a}/members/famiglia", "root")
    assert famiglia["left"] == "2025-07-01"  # end-dated, never deleted
    status, pod, _ = await api.call("GET", f"/communities/{a}/pods/{POD_FAMILY}", "root")
    assert pod["ended"] == "2025-07-01"
    # June is settled with famiglia, July without
    async with api.server.app[ENGINE_KEY].connect() as connection:
        june = await document_in_force(connection, a, date(2025, 6, 1))
        july = await document_in_force(connection, a, date(2025, 7, 1))
    assert "famiglia" in {m["id"] for m in june["members"]}
    assert next(m for m in july["members"] if m["id"] == "famiglia")["pods"] == []
    status, changes, _ = await api.call("GET", f"/communities/{a}/history", "admin_a")
    assert status == 200
    last = changes[-1]
    assert last["action"] == "import" and last["effective"] == "2025-07-01"
    assert last["by"].startswith("token ") and last["at"]
    assert last["diff"]["members"]["ended"] == ["famiglia"]
    # the same file again changes nothing and ends nothing
    status, again, _ = await api.call("POST", "/communities?dry_run=true", "admin_a", json=data)
    assert again["diff"]["members"] == {"added": [], "changed": [], "ended": []}


async def test_a_pod_of_another_community_is_refused(api: Api) -> None:
    data = file_a()
    data["members"][1]["pods"].append(POD_B)
    before = await counts(api, api.community_a)
    status, problem, _ = await api.call("POST", "/communities", "admin_a", json=data)
    assert status == 409
    assert POD_B in problem["detail"] and api.community_b in problem["detail"]
    # nothing else of the other community is told to an admin of this one
    assert "Ente" not in str(problem) and "tetto" not in str(problem)
    assert await counts(api, api.community_a) == before
    status, _, _ = await api.call("POST", "/communities?dry_run=true", "admin_a", json=data)
    assert status == 409
    # nor through the registry endpoint
    status, _, _ = await api.call(
        "POST",
        f"/communities/{api.community_a}/pods",
        "admin_a",
        json={"pod": POD_B, "member": "famiglia"},
    )
    assert status == 409


async def test_a_misspelt_time_zone_is_refused_and_uploads_keep_working(api: Api) -> None:
    a = api.community_a
    for body in (
        {"timezone": "Europe/Rom"},
        {"timezone": "America/New_York"},
        {"cu_afa_eur_mwh": {"2025": -3}},
        {"statute": {"management_pct": 150}},
    ):
        status, problem, _ = await api.call("PATCH", f"/communities/{a}", "admin_a", json=body)
        assert status == 422, body
        assert problem["errors"], body
    status, plant, _ = await api.call(
        "PATCH", f"/communities/{a}/plants/scuola", "admin_a", json={"power_kw": 1e307}
    )
    assert status == 422 and plant["errors"][0]["field"] == "plants[0].power_kw"
    status, view, _ = await api.call("GET", f"/communities/{a}", "admin_a")
    assert view["timezone"] == "Europe/Rome"
    reading = {"hour_start": "2025-06-01T10:00:00+02:00", "injected_wh": 100, "withdrawn_wh": 5}
    status, answer, _ = await api.call(
        "POST", "/readings", "site_plant", json={"pod": POD_PLANT, "readings": [reading]}
    )
    assert status == 200 and answer["accepted"] == 1
    status, _, _ = await api.call(
        "PATCH", f"/communities/{a}", "admin_a", json={"cabina_primaria": "AC001E01799"}
    )
    assert status == 200
    status, changes, _ = await api.call("GET", f"/communities/{a}/history", "admin_a")
    assert changes[-1]["action"] == "patch"
    assert changes[-1]["diff"]["community"]["changed"]["cabina_primaria"] == [
        "AC001E01725",
        "AC001E01799",
    ]


async def test_a_type_change_and_a_pod_move_take_effect_from_their_day(api: Api) -> None:
    a = api.community_a
    data = file_a()
    data["members"][1]["type"] = "sme"
    data["members"][0]["pods"] = [POD_PLANT]
    data["members"][1]["pods"] = [POD_FAMILY, POD_HOME]
    status, answer, _ = await api.call(
        "POST", "/communities?effective=2025-09-01", "admin_a", json=data
    )
    assert status == 200, answer
    assert answer["diff"]["pods"]["changed"] == [
        {"pod": POD_HOME, "fields": {"member": ["comune", "famiglia"]}}
    ]
    async with api.server.app[ENGINE_KEY].connect() as connection:
        august = await document_in_force(connection, a, date(2025, 8, 1))
        september = await document_in_force(connection, a, date(2025, 9, 1))
    before = {m["id"]: m for m in august["members"]}
    after = {m["id"]: m for m in september["members"]}
    assert before["famiglia"]["type"] == "person" and after["famiglia"]["type"] == "sme"
    assert POD_HOME in before["comune"]["pods"] and POD_HOME not in before["famiglia"]["pods"]
    assert POD_HOME in after["famiglia"]["pods"] and POD_HOME not in after["comune"]["pods"]
    # a run of August uses the registry as it was then
    status, run, _ = await api.call("POST", "/settlements", "admin_a", json={"period": "2025-08"})
    assert status == 201
    row = await get_run_row(api.server.app[ENGINE_KEY], run["id"], a)
    used = {m["id"]: m for m in row.community_document["members"]}
    assert used["famiglia"]["type"] == "person" and POD_HOME in used["comune"]["pods"]


async def test_pods_given_as_objects_are_diffed_and_moved_with_their_details(api: Api) -> None:
    a = api.community_a
    data = file_a()
    data["members"][1]["pods"] = [
        {"pod": POD_FAMILY, "cabina_primaria": "AC001E01726", "label": "Casa"}
    ]
    status, answer, _ = await api.call("POST", "/communities", "admin_a", json=data)
    assert status == 200, answer
    assert answer["diff"]["pods"]["changed"] == [
        {
            "pod": POD_FAMILY,
            "fields": {"cabina_primaria": [None, "AC001E01726"], "label": [None, "Casa"]},
        }
    ]
    moved = copy.deepcopy(data)
    moved["members"][0]["pods"].append(moved["members"][1]["pods"].pop())
    moved["members"][1]["pods"] = ["IT001E00000045"]
    status, answer, _ = await api.call(
        "POST", "/communities?effective=2025-10-01", "admin_a", json=moved
    )
    assert status == 200, answer
    assert answer["diff"]["pods"]["changed"][0]["fields"]["member"] == ["famiglia", "comune"]
    async with api.server.app[ENGINE_KEY].connect() as connection:
        before = await document_in_force(connection, a, date(2025, 9, 1))
        after = await document_in_force(connection, a, date(2025, 10, 1))
    entry = {"pod": POD_FAMILY, "cabina_primaria": "AC001E01726", "label": "Casa"}
    members_before = {m["id"]: m["pods"] for m in before["members"]}
    members_after = {m["id"]: m["pods"] for m in after["members"]}
    assert entry in members_before["famiglia"] and entry not in members_before["comune"]
    assert "IT001E00000045" not in members_before["famiglia"]  # it joined on 2025-10-01
    assert entry in members_after["comune"] and members_after["famiglia"] == ["IT001E00000045"]


async def test_a_member_type_patched_from_a_day_keeps_the_old_type_before_it(api: Api) -> None:
    a = api.community_a
    status, member, _ = await api.call(
        "PATCH",
        f"/communities/{a}/members/famiglia?effective=2025-11-01",
        "admin_a",
        json={"type": "sme"},
    )
    assert status == 200 and member["type"] == "sme"
    async with api.server.app[ENGINE_KEY].connect() as connection:
        october = await document_in_force(connection, a, date(2025, 10, 1))
        november = await document_in_force(connection, a, date(2025, 11, 1))
    assert {m["id"]: m["type"] for m in october["members"]}["famiglia"] == "person"
    assert {m["id"]: m["type"] for m in november["members"]}["famiglia"] == "sme"
    status, changes, _ = await api.call("GET", f"/communities/{a}/history", "admin_a")
    assert changes[-1]["action"] == "update member" and changes[-1]["effective"] == "2025-11-01"
    assert changes[-1]["diff"]["members"]["changed"][0]["fields"]["type"] == ["person", "sme"]
    # a type the rules do not know is refused, and nothing changes
    status, problem, _ = await api.call(
        "PATCH", f"/communities/{a}/members/famiglia", "admin_a", json={"type": "alien"}
    )
    assert status == 422 and problem["errors"][0]["field"] == "type"
    # one line of time: a dated change cannot be earlier than the last one of the same type
    status, problem, _ = await api.call(
        "PATCH",
        f"/communities/{a}/members/famiglia?effective=2025-09-01",
        "admin_a",
        json={"type": "person"},
    )
    assert status == 422 and problem["errors"][0]["field"] == "effective"
    status, member, _ = await api.call("GET", f"/communities/{a}/members/famiglia", "admin_a")
    assert member["type"] == "sme"


async def test_two_imports_claiming_one_pod_at_the_same_moment_give_it_to_one(api: Api) -> None:
    for attempt in range(6):
        files = []
        for side in ("C", "D"):
            text = json.dumps(COMMUNITY_A)
            text = text.replace("IT001E0000000", f"IT001E{'12'[side == 'D']}{attempt}00000")
            data = json.loads(text)
            data["community"]["name"] = f"CER {side}{attempt}"
            # both claim the same plant POD
            data["plants"][0]["pod"] = data["members"][0]["pods"][1] = f"IT001E77{attempt}00000"
            files.append(data)
        answers = await asyncio.gather(
            *(api.call("POST", "/communities", "root", json=data) for data in files)
        )
        assert sorted(status for status, _, _ in answers) == [201, 409], [a[1] for a in answers]
        (refused,) = [answer for status, answer, _ in answers if status == 409]
        assert f"IT001E77{attempt}00000" in refused["detail"]  # named, with the winner's id
