"""Render the README's pictures of a community report and a member statement.

The example community (``examples/comune``) is loaded into a throw-away SQLite database as
``cer-backend demo`` loads it, its year run is finalised, and the first page of the community
report and of the statement of the household with the meter gap are rendered to PNG with
``pdftoppm`` (poppler-utils). Run it with ``scripts/report-pictures``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from cer_backend.database import create_engine
from cer_backend.i18n import language
from cer_backend.models import SettlementRun
from cer_backend.service.community_report import community_report_pdf
from cer_backend.service.report_model import load_facts
from cer_backend.service.settlements import SettlementError, finalise_run
from cer_backend.service.statements import statement_pdf

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "comune"
IMAGES = ROOT / "docs" / "images"
RESOLUTION_DPI = "70"


def load_example(url: str) -> None:
    """The example loaded as ``cer-backend demo`` loads it (prices, metered data, a year run)."""
    subprocess.run(
        [sys.executable, "-m", "cer_backend", "demo", "--example", str(EXAMPLE), "--database", url],
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def render(url: str) -> dict[str, bytes]:
    """The PDFs of the example's year: the community report and the gap household's statement."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            run_id = await connection.scalar(
                select(SettlementRun.run_id).order_by(SettlementRun.created_at.desc()).limit(1)
            )
        try:
            await finalise_run(engine, str(run_id), None)
        except SettlementError as err:  # a guarded finalise may refuse: show the draft
            print(f"the example run stays a draft: {err}", file=sys.stderr)
        facts = await load_facts(engine, str(run_id), None)
    finally:
        await engine.dispose()
    missing = {item["pod"] for item in facts.result.get("missing_readings") or []}
    household = next(
        (m.id for m in facts.members.values() if m.type == "person" and set(m.pods) & missing),
        next(m.id for m in facts.members.values() if m.type == "person"),
    )
    it = language("it")
    return {
        "report-first-page": community_report_pdf(facts, it),
        "statement-first-page": statement_pdf(facts, household, it),
    }


def main() -> int:
    """Write ``docs/images/report-first-page.png`` and ``statement-first-page.png``."""
    if shutil.which("pdftoppm") is None:
        print("pdftoppm is missing: apt-get install -y poppler-utils", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite+aiosqlite:///{workdir / 'example.sqlite3'}"
        load_example(url)
        for name, data in asyncio.run(render(url)).items():
            pdf = workdir / f"{name}.pdf"
            pdf.write_bytes(data)
            subprocess.run(
                ["pdftoppm", "-png", "-r", RESOLUTION_DPI, "-f", "1", "-l", "1", "-singlefile",
                 str(pdf), str(IMAGES / name)],
                check=True,
            )  # fmt: skip
            print(IMAGES / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
