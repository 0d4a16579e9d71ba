"""Render the README's pictures of a community report and a member statement.

The example community (``examples/comune``) is loaded into a throw-away SQLite database, the
year is settled and finalised, and the first page of the community report and of the
statement of the household with the meter gap are rendered to PNG with ``pdftoppm``
(poppler-utils). Run it with ``scripts/report-pictures``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cer_backend.database import create_engine
from cer_backend.files import load_community, load_prices, load_readings
from cer_backend.files.community import load_yaml
from cer_backend.i18n import language
from cer_backend.migrate import upgrade
from cer_backend.service.bulk import store_energy
from cer_backend.service.community_report import community_report_pdf
from cer_backend.service.prices import store_prices
from cer_backend.service.registry import import_community
from cer_backend.service.report_model import load_facts
from cer_backend.service.settlements import SettlementError, create_run, finalise_run
from cer_backend.service.statements import statement_pdf

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "comune"
IMAGES = ROOT / "docs" / "images"
RESOLUTION_DPI = "70"


async def render(workdir: Path) -> dict[str, bytes]:
    """The PDFs of the example's year: the community report and the gap household's statement."""
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'example.sqlite3'}")
    try:
        await upgrade(engine)
        path = EXAMPLE / "community.yaml"
        community_id, _ = await import_community(
            engine, load_yaml(path.read_text(encoding="utf-8"), str(path))
        )
        community = load_community(path)
        await store_energy(engine, community_id, load_readings(EXAMPLE / "readings.csv", community))
        prices = list(load_prices(EXAMPLE / "prices.csv").rows())
        await store_prices(engine, prices, [community_id], "example")
        run = await create_run(engine, community_id, "2025")
        try:
            await finalise_run(engine, run["id"], None)
        except SettlementError as err:  # a guarded finalise may refuse: show the draft
            print(f"the example run stays a draft: {err}", file=sys.stderr)
        facts = await load_facts(engine, run["id"], None)
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
        for name, data in asyncio.run(render(workdir)).items():
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
