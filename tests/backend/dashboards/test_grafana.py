"""The Grafana dashboard of dashboards/grafana against the backend's PostgreSQL schema.

The schema is the one the backend's Alembic migrations create; it is filled with the example
community of ``examples/`` (``cer-backend demo``: its registry, statute and prices, and the
last month of its readings), a settlement run of that month and a realistic gap: one member's
POD stops sending for the last hours. Every SQL
query of the dashboard (panels and variables) then runs with Grafana's macros and variables
expanded the way Grafana's PostgreSQL data source expands them, and must return rows.

The queries are PostgreSQL SQL (``AT TIME ZONE``, ``FILTER``, ``::numeric``): the tests are
marked ``postgresql_only``, left out of the SQLite pass of ``scripts/test-backend`` and run by
its PostgreSQL pass; run without a PostgreSQL database they fail and say so.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cer_backend.cli import main as cer_backend
from cer_backend.commands.data import find_example
from cer_backend.database import create_engine
from cer_backend.service.settlements import create_run
from tests.backend.conftest import _drop_everything, _sync_url

pytestmark = [pytest.mark.database, pytest.mark.postgresql_only]

REPO = Path(__file__).resolve().parents[3]
GRAFANA = REPO / "dashboards" / "grafana"
DASHBOARD = GRAFANA / "cer_community.json"
EXAMPLES = REPO / "examples"
CO2_FACTOR = "0.25"
GAP_HOURS = 6


def _dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels of a collapsed row


@dataclass(frozen=True)
class Query:
    """One SQL text of the dashboard: where it is and what it says."""

    where: str
    sql: str


def dashboard_queries() -> list[Query]:
    """Every SQL query of the dashboard: each panel target and each query variable."""
    dashboard = _dashboard()
    queries = [
        Query(f"panel {panel['title']!r} target {target['refId']}", target["rawSql"])
        for panel in _panels(dashboard)
        for target in panel.get("targets", [])
    ]
    queries += [
        Query(f"variable {variable['name']!r}", variable["query"])
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return queries


@dataclass(frozen=True)
class Range:
    """The dashboard's time range, as Grafana passes it to the data source (UTC)."""

    start: datetime
    end: datetime


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expand(sql: str, time_range: Range, variables: dict[str, str]) -> str:
    """Grafana's PostgreSQL macros and dashboard variables, expanded as Grafana does."""
    start, end = _rfc3339(time_range.start), _rfc3339(time_range.end)
    sql = re.sub(
        r"\$__timeFilter\(([^)]+)\)",
        lambda m: f"{m.group(1).strip()} BETWEEN '{start}' AND '{end}'",
        sql,
    )
    sql = sql.replace("$__timeFrom()", f"'{start}'").replace("$__timeTo()", f"'{end}'")
    assert "$__" not in sql, f"a Grafana macro the test does not know: {sql}"
    for name in sorted(variables, key=len, reverse=True):
        sql = sql.replace(f"${{{name}}}", variables[name]).replace(f"${name}", variables[name])
    assert "$" not in sql, f"an unknown variable: {sql}"
    return sql


@dataclass(frozen=True)
class ExampleDatabase:
    """The PostgreSQL database filled with the example community."""

    conninfo: str
    community_id: str
    run_id: str
    time_range: Range
    silent_pod: str

    @property
    def variables(self) -> dict[str, str]:
        return {
            "community": self.community_id,
            "run": self.run_id,
            "co2_factor": CO2_FACTOR,
            "datasource": "cer-postgres",
        }

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        expanded = expand(sql, self.time_range, self.variables)
        with psycopg.connect(self.conninfo) as connection, connection.cursor() as cursor:
            cursor.execute(expanded.encode())  # bytes: no placeholder parsing
            return cursor.fetchall()

    def table(self, sql: str) -> list[dict[str, Any]]:
        expanded = expand(sql, self.time_range, self.variables)
        with psycopg.connect(self.conninfo) as connection, connection.cursor() as cursor:
            cursor.execute(expanded.encode())
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def last_month_of(example: Path, into: Path) -> Path:
    """The example with only the last month of its readings (files otherwise unchanged).

    A year of hourly readings takes minutes to insert and adds nothing to what the queries
    are checked for; the registry, the statute and the prices stay whole.
    """
    community, readings, prices = find_example(example)
    months: set[str] = set()
    for path in readings:
        with path.open(encoding="utf-8") as handle:
            months |= {row["hour_start"][:7] for row in csv.DictReader(handle)}
    last = max(months)
    shutil.copy(community, into / community.name)
    for index, path in enumerate(readings):
        with (
            path.open(encoding="utf-8") as source,
            (into / f"readings_{index}.csv").open("w", encoding="utf-8", newline="") as target,
        ):
            rows = csv.DictReader(source)
            writer = csv.DictWriter(target, fieldnames=rows.fieldnames or [])
            writer.writeheader()
            writer.writerows(row for row in rows if row["hour_start"].startswith(last))
    for index, path in enumerate(prices):
        shutil.copy(path, into / f"prices_{index}{path.suffix}")
    return into


def load_example(url: str, example: Path) -> ExampleDatabase:
    """Migrate, load the example (cer-backend demo), settle its last month, open a gap."""
    assert cer_backend(["demo", "--example", str(example), "--database", url]) == 0
    engine = create_sync_engine(_sync_url(url))
    try:
        with engine.begin() as connection:
            community_id, zone = connection.execute(
                text("SELECT community_id, timezone FROM communities ORDER BY name LIMIT 1")
            ).one()
            last = connection.execute(
                text("SELECT MAX(hour_start) FROM readings WHERE community_id = :c"),
                {"c": community_id},
            ).scalar_one()
            local = last.astimezone(ZoneInfo(zone))
            month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            end = last + timedelta(hours=1)
            # a consumer's POD (not a plant's) stops sending for the last hours
            silent_pod = connection.execute(
                text(
                    "SELECT p.pod FROM pods p WHERE p.community_id = :c AND p.pod NOT IN "
                    "(SELECT pod FROM plants WHERE community_id = :c) ORDER BY p.pod LIMIT 1"
                ),
                {"c": community_id},
            ).scalar_one()
            connection.execute(
                text(
                    "DELETE FROM readings WHERE community_id = :c AND pod = :p "
                    "AND hour_start >= :since"
                ),
                {"c": community_id, "p": silent_pod, "since": end - timedelta(hours=GAP_HOURS)},
            )
    finally:
        engine.dispose()

    async def settle() -> str:
        async_engine = create_engine(url)
        try:
            run = await create_run(async_engine, community_id, f"{month_start:%Y-%m}")
            return str(run["id"])
        finally:
            await async_engine.dispose()

    run_id = asyncio.run(settle())
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return ExampleDatabase(
        conninfo=conninfo,
        community_id=community_id,
        run_id=run_id,
        time_range=Range(month_start.astimezone(UTC), end),
        silent_pod=silent_pod,
    )


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleDatabase]:
    """The example community in the throw-away PostgreSQL database of the test scripts."""
    url = os.environ.get("CER_TEST_DATABASE_URL")
    if not url or make_url(url).get_backend_name() != "postgresql":
        pytest.fail(
            "the Grafana queries are PostgreSQL SQL: run them with scripts/test-backend, "
            "whose PostgreSQL pass sets CER_TEST_DATABASE_URL to a PostgreSQL database"
        )
    if not any(EXAMPLES.rglob("*.csv")):
        pytest.fail(f"no example community in {EXAMPLES}")
    engine = create_sync_engine(_sync_url(url))
    _drop_everything(engine)
    try:
        yield load_example(url, last_month_of(EXAMPLES, tmp_path_factory.mktemp("example")))
    finally:
        _drop_everything(engine)
        engine.dispose()


# --- the dashboard file -----------------------------------------------------------------------


def test_every_panel_reads_the_provisioned_postgresql_through_the_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "cer-community"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "grafana-postgresql-datasource"
    ids = [panel["id"] for panel in _panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["rawQuery"] is True
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["format"] in {"table", "time_series"}
            if target["format"] == "time_series":
                assert '"time"' in target["rawSql"], panel["title"]


def test_co2_factor_is_a_dashboard_variable() -> None:
    variables = {v["name"]: v for v in _dashboard()["templating"]["list"]}
    factor = variables["co2_factor"]
    assert factor["type"] == "textbox"
    assert float(factor["query"]) > 0
    assert any("$co2_factor" in query.sql for query in dashboard_queries())


def test_panels_the_issue_asks_for_are_there() -> None:
    titles = {panel["title"] for panel in _panels(_dashboard())}
    assert {
        "Energia condivisa ora per ora",
        "Energia condivisa per mese",
        "Immissione e prelievo per giorno",
        "Incentivo del mese in corso",
        "Impianti",
        "Soci",
        "Classifica dei soci per consumo coincidente",
        "Siti che non trasmettono",
        "CO₂ evitata",
    } <= titles


def test_provisioning_files_point_at_the_dashboard_and_the_datasource() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "cer_community.yaml").read_text("utf-8")
    )
    (source,) = datasources["datasources"]
    assert source["type"] == "grafana-postgresql-datasource"
    assert source["uid"] == "cer-postgres"
    providers = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "cer_community.yaml").read_text("utf-8")
    )
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]


# --- the queries on PostgreSQL ----------------------------------------------------------------


@pytest.mark.parametrize("query", dashboard_queries(), ids=lambda query: query.where)
def test_query_runs_on_the_example_community_and_returns_rows(
    example_db: ExampleDatabase, query: Query
) -> None:
    rows = example_db.rows(query.sql)
    assert rows, f"{query.where} returned no rows"


def _query(title: str) -> str:
    for panel in _panels(_dashboard()):
        if panel["title"] == title:
            return str(panel["targets"][0]["rawSql"])
    raise AssertionError(title)


def test_figures_agree_with_the_settlement_and_each_other(example_db: ExampleDatabase) -> None:
    (period,) = example_db.table(_query("Energia nel periodo"))
    assert period["Condivisa"] > 0
    assert period["Condivisa"] <= min(period["Immessa"], period["Prelevata"])

    (incentive,) = example_db.table(_query("Incentivo del mese in corso"))
    assert incentive["Fonte"] == "liquidazione draft"
    assert incentive["TIP"] > 0
    assert incentive["Totale"] == incentive["TIP"] + incentive["Valorizzazione"]

    (co2,) = example_db.table(_query("CO₂ evitata"))
    shared = co2["Evitata con l'energia condivisa"]
    assert float(shared) == pytest.approx(float(period["Condivisa"]) * float(CO2_FACTOR))

    hourly = example_db.table(_query("Energia condivisa ora per ora"))
    assert float(sum(row["Condivisa"] for row in hourly)) == pytest.approx(
        float(period["Condivisa"])
    )
    monthly = example_db.table(_query("Energia condivisa per mese"))
    assert float(sum(row["Condivisa"] for row in monthly)) == pytest.approx(
        float(period["Condivisa"])
    )

    members = example_db.table(_query("Soci"))
    coincident = sum(row["Consumo coincidente"] for row in members)
    assert float(coincident) == pytest.approx(float(period["Condivisa"]), rel=1e-9)
    assert all(row["Spettante"] is not None for row in members)
    ranking = example_db.table(_query("Classifica dei soci per consumo coincidente"))
    values = [row["Consumo coincidente"] for row in ranking]
    assert values == sorted(values, reverse=True)

    plants = example_db.table(_query("Impianti"))
    assert all(row["TIP"] is not None for row in plants)


def test_the_silent_site_is_on_top_of_the_not_reporting_table(
    example_db: ExampleDatabase,
) -> None:
    rows = example_db.table(_query("Siti che non trasmettono"))
    assert rows[0]["POD"] == example_db.silent_pod
    assert rows[0]["Ore mancanti"] == GAP_HOURS
    assert rows[0]["Stato"] == "non trasmette"
    assert all(row["Ore mancanti"] == 0 for row in rows[1:])

    alerts = example_db.table(_query("Avvisi aperti"))
    assert any(row["Tipo"] == "run_incomplete" for row in alerts)
