"""The shell side: migrate, community import, token create, prices import, and a settlement
run over the API that gives the same figures as ``cer-backend settle`` on the same files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from cer_backend.app import create_app
from tests.backend.api.conftest import COMMUNITY_A, POD_FAMILY, POD_HOME, POD_PLANT
from tests.backend.api.test_settlement import HOURS, START, energy_of, price_of
from tests.support.cli import backend_env, run_cli

pytestmark = pytest.mark.database


def cli(database_url: str, tmp_path: Path, *args: str, check: bool = True) -> list[str]:
    done = run_cli(*args, env=backend_env(tmp_path / "data", database_url))
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines() or [done.stderr.strip()]


def write_files(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, list[dict[str, object]]]]:
    community = tmp_path / "community.yaml"
    community.write_text(yaml.safe_dump(COMMUNITY_A, sort_keys=False), encoding="utf-8")
    readings = tmp_path / "readings.csv"
    uploads: dict[str, list[dict[str, object]]] = {POD_PLANT: [], POD_FAMILY: []}
    lines = ["pod,hour_start,injected_wh,withdrawn_wh"]
    for pod, items in uploads.items():
        for i in range(HOURS):
            if pod == POD_FAMILY and 200 <= i < 210:
                continue  # missing in both
            injected, withdrawn = energy_of(pod, i)
            hour = (START + timedelta(hours=i)).astimezone(datetime.now().astimezone().tzinfo)
            lines.append(f"{pod},{hour.isoformat()},{injected},{withdrawn}")
            items.append(
                {"hour_start": hour.isoformat(), "injected_wh": injected, "withdrawn_wh": withdrawn}
            )
    readings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "hour_start,zone,eur_mwh\n"
        + "".join(
            f"{(START + timedelta(hours=i)).isoformat()},CNOR,{price_of(i)}\n" for i in range(HOURS)
        ),
        encoding="utf-8",
    )
    return community, readings, prices, uploads


async def test_cli_and_api_give_the_settle_figures(database_url: str, tmp_path: Path) -> None:
    community, readings, prices, uploads = write_files(tmp_path)
    assert "migrated" in cli(database_url, tmp_path, "migrate")[-1]
    assert "up to date" in cli(database_url, tmp_path, "migrate")[-1]
    community_id = cli(database_url, tmp_path, "community", "import", str(community))[-1]
    assert community_id == "cer-test-a"
    # a second import updates the same community
    assert cli(database_url, tmp_path, "community", "import", str(community))[-1] == community_id
    admin = cli(
        database_url, tmp_path, "token", "create", "--role", "admin", "--community", community_id
    )[-1]
    site_tokens = {
        pod: cli(
            database_url,
            tmp_path,
            "token",
            "create",
            "--role",
            "site",
            "--community",
            community_id,
            "--pod",
            pod,
        )[-1]
        for pod in uploads
    }
    assert all(token.startswith("cer_") and " " not in token for token in site_tokens.values())
    assert "720 hourly prices" in cli(database_url, tmp_path, "prices", "import", str(prices))[-1]
    bad = cli(
        database_url,
        tmp_path,
        "token",
        "create",
        "--role",
        "site",
        "--community",
        community_id,
        "--pod",
        "IT001E99999999",
        check=False,
    )
    assert "no POD IT001E99999999" in bad[-1]

    expected = json.loads(
        "\n".join(
            cli(
                database_url,
                tmp_path,
                "settle",
                "--community",
                str(community),
                "--readings",
                str(readings),
                "--prices",
                str(prices),
                "--period",
                "2025-06",
                "--json",
            )
        )
    )

    server = TestServer(create_app(database_url), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            for pod, items in uploads.items():
                async with session.post(
                    server.make_url("/api/v1/readings"),
                    json={"pod": pod, "readings": items},
                    headers={"Authorization": f"Bearer {site_tokens[pod]}"},
                ) as response:
                    assert response.status == 200
                    assert (await response.json())["accepted"] == len(items)
            async with session.post(
                server.make_url("/api/v1/settlements"),
                json={"period": "2025-06"},
                headers={"Authorization": f"Bearer {admin}"},
            ) as response:
                assert response.status == 201
                run = await response.json()
    finally:
        await server.close()
    result = run["result"]
    for key in (
        "period",
        "hours",
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "incentivised_wh",
        "tip_eur",
        "valorisation_eur",
        "surplus_earmarked_eur",
        "rid_eur",
        "gse_fees_eur",
        "plants",
        "members",
        "missing",
        "management_eur",
        "funds",
        "months",
        "warnings",
        "errors",
    ):
        assert result[key] == expected[key], key
    assert {m["pod"] for m in result["missing_readings"]} == {POD_HOME, POD_FAMILY}


def test_community_import_reports_every_problem(database_url: str, tmp_path: Path) -> None:
    broken = dict(COMMUNITY_A, plants=[dict(COMMUNITY_A["plants"][0], power_kw=-1)])
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    done = run_cli(
        "community", "import", str(path), env=backend_env(tmp_path / "data", database_url)
    )
    assert done.returncode == 2
    assert "plants[0].power_kw" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_refuses_an_unreachable_database_clearly(tmp_path: Path) -> None:
    env = backend_env(tmp_path / "data", "postgresql://nobody:secret@127.0.0.1:1/none")
    done = run_cli("serve", "--port", "1", env=env, timeout=60)
    assert done.returncode == 2
    assert "cannot migrate" in done.stderr and "secret" not in done.stderr
    assert "Traceback" not in done.stderr


def test_datetime_of_start_is_utc() -> None:
    assert START.tzinfo is UTC
