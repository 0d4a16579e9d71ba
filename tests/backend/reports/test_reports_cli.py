"""``cer-backend reports …`` from the shell: files written, languages, exit codes."""

from __future__ import annotations

import asyncio
import csv
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.support.cli import run_cli

from .conftest import Settled, pdf_pages

pytestmark = pytest.mark.database


async def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_cli, "reports", *args, "--database", database_url)


async def test_reports_commands_write_their_files(
    settled: Settled, database_url: str, tmp_path: Path
) -> None:
    run = settled.run["id"]
    result = settled.run["result"]
    report = tmp_path / "report.pdf"
    done = await cli(database_url, "community", "--run", run, "--out", str(report))
    assert done.returncode == 0, done.stderr
    assert "Rendiconto energetico della comunità" in pdf_pages(report.read_bytes())[0]
    done = await cli(database_url, "community", "--run", run, "--lang", "en", "--out", str(report))
    assert done.returncode == 0 and "Community energy report" in pdf_pages(report.read_bytes())[0]
    statement = tmp_path / "rossi.csv"
    done = await cli(
        database_url, "statement", "--run", run, "--member", "rossi", "--format", "csv",
        "--out", str(statement),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert statement.read_text(encoding="utf-8").startswith("comunità;periodo")
    export = tmp_path / "export.csv"
    done = await cli(database_url, "export", "--run", run, "--format", "csv", "--out", str(export))
    assert done.returncode == 0, done.stderr
    with export.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    grand = next(r for r in rows if r[0] == "totale generale")
    assert Decimal(grand[4].replace(",", ".")) == Decimal(result["tip_eur"]) + Decimal(
        result["valorisation_eur"]
    )
    xlsx = tmp_path / "export.xlsx"
    done = await cli(database_url, "export", "--run", run, "--format", "xlsx", "--out", str(xlsx))
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(xlsx).active.cell(1, 1).value == "riga"


async def test_reports_commands_say_what_is_wrong_in_one_line(
    settled: Settled, database_url: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "x.pdf")
    for args, message in (
        (("community", "--run", "nope", "--out", out), "no settlement run 'nope'"),
        (
            ("statement", "--run", settled.run["id"], "--member", "nobody", "--out", out),
            "member 'nobody' is not in run",
        ),
        (("council", "--run", settled.run["id"], "--out", out), "made from a year run"),
        (
            ("community", "--run", settled.run["id"], "--out", str(tmp_path / "no" / "x.pdf")),
            "cannot write",
        ),
    ):
        done = await cli(database_url, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
    done = await cli(
        database_url, "community", "--run", settled.run["id"], "--lang", "fr", "--out", out
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr
