"""One open alert per cause (a database constraint), acknowledgement, resolution, history;
the command's exit codes; the GSE rules against issue #10's figures; incomplete runs."""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from cer_backend.cli import main
from cer_backend.database import create_engine
from cer_backend.models import Alert, SettlementRun
from cer_backend.service.alerts.store import acknowledge, list_alerts, record_run_incomplete

from .builders import AT, HOME, LIGHTS, build, causes, check

pytestmark = pytest.mark.database


def _lights_on_today(pod: str, local: datetime, injected: int, withdrawn: int) -> tuple[int, int]:
    if pod == LIGHTS and local.date() == AT.date() and 9 <= local.hour < 11:
        return injected, 450
    return injected, withdrawn


def _run(database_url: str, work: Any) -> Any:
    async def go() -> Any:
        engine = create_engine(database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_open_once_acknowledge_resolve_and_keep_history(database_url: str) -> None:
    community_id = build(database_url, _lights_on_today, until=AT + timedelta(days=2))
    first = check(database_url, community_id)
    second = check(database_url, community_id, AT + timedelta(hours=1))
    assert [a["new"] for a in first["alerts"]] == [True]
    assert [a["new"] for a in second["alerts"]] == [False]  # the same cause: not again
    alert_id = first["alerts"][0]["id"]
    assert second["alerts"][0]["id"] == alert_id

    acked = _run(
        database_url, lambda e: acknowledge(e, alert_id, "Tecnico avvisato", 7, community_id)
    )
    assert acked["acknowledged"] is True and acked["ack_note"] == "Tecnico avvisato"
    third = check(database_url, community_id, AT + timedelta(hours=2))
    assert third["alerts"][0]["acknowledged"] is True  # acknowledged, still open

    # the next daylight period without lights on resolves it
    next_evening = (AT + timedelta(days=1)).replace(hour=22)
    later = check(database_url, community_id, next_evening)
    assert later["alerts"] == []
    assert [r["id"] for r in later["resolved"]] == [alert_id]
    history = _run(database_url, lambda e: list_alerts(e, community_id, "all"))
    assert [(h["id"], h["resolved_at"] is not None) for h in history] == [(alert_id, True)]
    assert _run(database_url, lambda e: list_alerts(e, community_id, "open")) == []

    # the cause again, later: a new alert, the old one stays in the history
    again = check(database_url, community_id, AT + timedelta(hours=3))
    assert again["alerts"][0]["new"] is True and again["alerts"][0]["id"] != alert_id


def test_the_database_refuses_a_second_open_alert_of_a_cause(database_url: str) -> None:
    community_id = build(database_url, _lights_on_today)
    check(database_url, community_id)

    async def duplicate(engine: Any) -> None:
        async with engine.begin() as connection:
            await connection.execute(
                insert(Alert).values(
                    community_id=community_id,
                    kind="lighting_daytime",
                    cause_key=f"lighting_daytime:{LIGHTS}",
                    message="duplicate",
                    created_at=datetime.now(UTC),
                )
            )

    with pytest.raises(IntegrityError):
        _run(database_url, duplicate)


def test_dry_run_stores_nothing(database_url: str) -> None:
    community_id = build(database_url, _lights_on_today)
    dry = check(database_url, community_id, AT, "--dry-run")
    assert causes(dry) == {f"lighting_daytime:{LIGHTS}"}
    assert dry["alerts"][0]["id"] is None and dry["dry_run"] is True
    assert _run(database_url, lambda e: list_alerts(e, community_id, "all")) == []


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_bad_input_exits_2_with_one_line(database_url: str) -> None:
    community_id = build(database_url)
    base = ["alerts", "check", "--database", database_url]
    code, _, err = _cli(*base, "--community", community_id, "--at", "2025-06-15T12:00")
    assert code == 2 and "offset" in err and "Traceback" not in err
    code, _, err = _cli(*base, "--community", community_id, "--at", "tomorrow")
    assert code == 2 and "ISO 8601" in err
    code, _, err = _cli(*base, "--community", "nessuna", "--at", AT.isoformat())
    assert code == 2 and "no community 'nessuna'" in err
    code, _, _ = _cli(*base)
    assert code == 2
    code, out, _ = _cli(*base, "--community", community_id, "--at", AT.isoformat())
    assert code == 0 and "0 alerts in force" in out


def test_incomplete_runs_become_run_incomplete_and_resolve(database_url: str) -> None:
    community_id = build(database_url)

    async def record(engine: Any) -> None:
        async with engine.begin() as connection:
            for _ in range(2):  # a second incomplete run of the period: still one alert
                await record_run_incomplete(
                    connection, community_id, "2025-05", "run1", 3, 0, AT.astimezone(UTC)
                )

    _run(database_url, record)
    alerts = _run(database_url, lambda e: list_alerts(e, community_id, "open"))
    assert [(a["kind"], a["cause"]) for a in alerts] == [
        ("run_incomplete", "run_incomplete:2025-05")
    ]
    # no such run in settlement_runs: the evaluation finds no incomplete run and resolves it
    answer = check(database_url, community_id, AT + timedelta(minutes=5))
    assert [r["cause"] for r in answer["resolved"]] == ["run_incomplete:2025-05"]


GSE_TABLE = """
CREATE TABLE gse_figures (
    figure_id INTEGER PRIMARY KEY, community_id VARCHAR(64) NOT NULL,
    configuration VARCHAR(64) NOT NULL, period VARCHAR(16) NOT NULL, kind VARCHAR(16) NOT NULL,
    shared_wh BIGINT, incentivised_wh BIGINT, tip_eur VARCHAR(32), valorisation_eur VARCHAR(32),
    amount_eur VARCHAR(32), paid_on DATE, source VARCHAR(200), imported_at TIMESTAMP
)
"""


def test_gse_rules_run_on_the_figures_of_issue_10_and_are_skipped_without_them(
    database_url: str,
) -> None:
    later = datetime(2025, 7, 16, 12, tzinfo=UTC)
    community_id = build(database_url, until=later)
    assert check(database_url, community_id)["alerts"] == []  # no table: skipped cleanly

    async def figures(engine: Any) -> None:
        async with engine.begin() as connection:
            exists = await connection.run_sync(lambda c: c.dialect.has_table(c, "gse_figures"))
            if not exists:
                await connection.execute(text(GSE_TABLE))
            rows = [
                ("2025-03", "acconto", "2025-05-31"),
                ("2025-05", "acconto", "2025-07-31"),
            ]
            for i, (period, kind, paid) in enumerate(rows, start=1):
                await connection.execute(
                    text(
                        "INSERT INTO gse_figures (figure_id, community_id, configuration, "
                        "period, kind, amount_eur, paid_on, imported_at) VALUES (:i, :c, "
                        "'AC001E01725', :p, :k, '100.00', :d, CURRENT_TIMESTAMP)"
                    ),
                    {"i": i, "c": community_id, "p": period, "k": kind, "d": paid},
                )

    _run(database_url, figures)
    # March and May recorded; April's advance was due by 30 June (+15 days of grace)
    assert causes(check(database_url, community_id)) == set()
    answer = check(database_url, community_id, later)
    assert causes(answer) == {"gse_payment_late:AC001E01725:2025-04"}

    # the GSE's yearly figure of May against our run of May: 10 % more shared energy
    async def run_and_conguaglio(engine: Any) -> int:
        shared = 1_234_567
        async with engine.begin() as connection:
            await connection.execute(
                insert(SettlementRun).values(
                    run_id="run-may",
                    community_id=community_id,
                    period="2025-05",
                    status="final",
                    period_start=datetime(2025, 4, 30, 22, tzinfo=UTC),
                    period_end=datetime(2025, 5, 31, 22, tzinfo=UTC),
                    created_at=AT.astimezone(UTC),
                    community_document={},
                    result={"shared_wh": shared, "tip_eur": "150.00"},
                    hourly_profile={},
                    shared_wh=shared,
                    tip_eur="150.00",
                    valorisation_eur="10.00",
                    missing_readings=0,
                    missing_prices=0,
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO gse_figures (figure_id, community_id, configuration, period, "
                    "kind, shared_wh, tip_eur, imported_at) VALUES (9, :c, 'AC001E01725', "
                    "'2025-05', 'conguaglio', :wh, '150.40', CURRENT_TIMESTAMP)"
                ),
                {"c": community_id, "wh": shared * 11 // 10},
            )
        return shared

    ours = _run(database_url, run_and_conguaglio)
    answer = check(database_url, community_id, later)
    assert causes(answer) == {
        "gse_payment_late:AC001E01725:2025-04",
        "gse_discrepancy:AC001E01725:2025-05:energy",  # the TIP is within 1 €
    }
    discrepancy = next(a for a in answer["alerts"] if a["kind"] == "gse_discrepancy")
    assert discrepancy["details"]["ours"] == f"{ours / 1000:.3f} kWh"


def test_home_masked_and_lighting_labelled_in_messages(database_url: str) -> None:
    community_id = build(database_url, _lights_on_today)
    message = check(database_url, community_id)["alerts"][0]["message"]
    assert LIGHTS not in message and HOME not in message
