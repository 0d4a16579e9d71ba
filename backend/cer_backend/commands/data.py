"""``cer-backend prices import`` and ``cer-backend demo``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..database import create_engine
from ..domain.errors import InvalidInput
from ..files import load_prices
from ..files.layouts import builtin_layout
from ..models import Reading, as_utc
from ..service.metered import ImportOutcome, import_file
from ..service.prices import store_prices
from ..service.settlements import create_run
from ..service.tokens import create_token
from ..settings import resolve_database_url
from .admin import import_community_file
from .database import add_database_option, migrate_database
from .errors import UsageError


def _import_prices(url: str, path: Path, community: str | None) -> dict[str, Any]:

    try:
        rows = list(load_prices(path).rows())
    except InvalidInput as err:
        raise UsageError(str(err).replace("\n", "; ")) from err
    migrate_database(url)

    async def run() -> dict[str, Any]:
        engine = create_engine(url)
        try:
            return await store_prices(
                engine, rows, None if community is None else [community], str(path)
            )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _prices_import(args: argparse.Namespace) -> int:
    url = resolve_database_url(args.database)
    answer = _import_prices(url, Path(args.file), args.community)
    if not answer["communities"]:
        raise UsageError("there is no community to import prices for: import a community first")
    print(
        f"{answer['rows']} hourly prices ({', '.join(answer['zones'])}) from "
        f"{answer['first_hour']} to {answer['last_hour']} for {', '.join(answer['communities'])}"
    )
    return 0


def find_example(root: Path) -> tuple[Path, list[Path], list[Path]]:
    """The community file, readings CSVs and price files of an example folder."""
    community, readings, prices, _ = find_example_files(root)
    return community, readings, prices


def find_example_files(root: Path) -> tuple[Path, list[Path], list[Path], list[Path]]:
    """The community file, readings CSVs, price files and dso-wide files of an example."""
    community = None
    readings: list[Path] = []
    prices: list[Path] = []
    metered: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml") and community is None:
            head = path.read_text(encoding="utf-8", errors="replace")
            if head.lstrip().startswith("community:") or "\ncommunity:" in head:
                community = path
        elif suffix == ".csv":
            with path.open(encoding="utf-8", errors="replace") as handle:
                header = handle.readline().lstrip("\ufeff").strip().replace(" ", "")
            if header.startswith("pod,"):
                readings.append(path)
            elif header.lower().startswith("pod;data;grandezza;"):
                metered.append(path)
            elif set(header.split(",")) == {"hour_start", "zone", "eur_mwh"}:
                prices.append(path)
        elif suffix in (".xml", ".xlsx"):
            prices.append(path)
    if community is None or not readings:
        raise UsageError(f"{root} has no example community (a community YAML and readings CSV)")
    return community, readings, prices, metered


def _default_examples() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (base / "examples").is_dir():
            return base / "examples"
    raise UsageError("no examples/ folder here: run from the repository or give --example DIR")


def _demo(args: argparse.Namespace) -> int:
    """Load the example through the import: the distributor's files, then Home Assistant's."""
    url = resolve_database_url(args.database)
    root = Path(args.example) if args.example else _default_examples()
    community_file, readings_files, price_files, metered_files = find_example_files(root)
    community_id, _ = import_community_file(url, community_file)
    print(f"community {community_id} from {community_file}")
    for path in price_files:
        answer = _import_prices(url, path, community_id)
        print(f"{answer['rows']} prices from {path}")
    wide, cer = builtin_layout("dso-wide"), builtin_layout("cer")

    async def load() -> tuple[list[ImportOutcome], str, str, str, dict[str, Any]]:
        engine = create_engine(url)
        try:
            outcomes = [
                await import_file(engine, community_id, path.read_bytes(), str(path), wide)
                for path in metered_files
            ]
            from_meter = {pod for outcome in outcomes for pod in outcome.pod_names}
            for path in readings_files:
                data = path.read_bytes()
                every = await import_file(
                    engine, community_id, data, str(path), cer, source="ha", dry_run=True
                )
                outcomes.append(
                    await import_file(
                        engine,
                        community_id,
                        data,
                        str(path),
                        cer,
                        source="ha",
                        only_pods=set(every.pod_names) - from_meter,
                    )
                )
            bad = [error for outcome in outcomes for error in outcome.errors]
            if bad:
                raise UsageError("; ".join(bad[:5]))
            year = await _first_year(engine)
            admin, _ = await create_token(engine, "admin", community_id, label="demo")
            viewer, _ = await create_token(engine, "viewer", community_id, label="demo")
            run = await create_run(engine, community_id, year)
            return outcomes, admin, viewer, run["period"], run
        finally:
            await engine.dispose()

    outcomes, admin, viewer, year, run = asyncio.run(load())
    for outcome in outcomes:
        print(f"{outcome.file}: {outcome.pods} PODs, {outcome.new} hours ({outcome.source})")
    written = sum(outcome.new for outcome in outcomes)
    result = run["result"]
    print(f"{written} hourly readings stored")
    used = ", ".join(f"{k} {v}" for k, v in result.get("readings_by_source", {}).items() if v)
    print(
        f"draft settlement {run['id']} of {year}: shared {result['shared_wh'] / 1e6:,.1f} MWh,"
        f" TIP {result['tip_eur']} €, valorisation {result['valorisation_eur']} €,"
        f" {len(result['members'])} members; POD-hours by source: {used}"
    )
    print(f"viewer token: {viewer}")
    print("try: cer-backend serve, then")
    print(
        f'  curl -s -H "Authorization: Bearer $ADMIN" '
        f"http://127.0.0.1:8080/api/v1/settlements/{run['id']}/report.pdf -o report.pdf"
    )
    print("admin token (ADMIN):")
    print(admin)
    return 0


async def _first_year(engine: Any) -> str:
    """The year of the example's readings (the first stored hour's, local time)."""
    async with engine.connect() as connection:
        first = await connection.scalar(select(func.min(Reading.hour_start)))
    if first is None:
        raise UsageError("the example has no readings")
    return str(as_utc(first).astimezone(ZoneInfo("Europe/Rome")).year)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``prices import`` and ``demo``."""
    prices = commands.add_parser("prices", help="hourly zonal prices in the backend")
    actions = prices.add_subparsers(dest="prices_command", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="import a GME XML/XLSX or CSV file (or a folder)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--community", metavar="ID", help="only this community (default: all)")
    add_database_option(imp)
    imp.set_defaults(handler=_prices_import)

    demo = commands.add_parser(
        "demo", help="load the example community with a year of readings and prices"
    )
    demo.add_argument("--example", metavar="DIR", help="example folder (default: examples/)")
    add_database_option(demo)
    demo.set_defaults(handler=_demo)
