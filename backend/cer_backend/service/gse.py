"""What the GSE announced or paid (FORMATS.md "GSE figures"), set against our figures.

The file is CSV with ``;`` and decimal commas, one row per configuration and period; an
import is all or nothing (every error listed as ``file:line: message``). Reconciliation sets,
per configuration and month, the acconto we expect (GSE-RULES §5: TIP part plus valorisation
part, one rounded amount per configuration and month) against what was paid, and per year
our shared, incentivised and money figures against the conguaglio. A difference larger than
both 1 % and 5 € is flagged, with its likely causes from our data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ..domain.advance import monthly_advance
from ..domain.errors import InvalidInput, Problem
from ..domain.period import Period
from ..models import GseFigure, SettlementRun, table, utcnow
from .registry import check_community_file, community_document
from .registry_changes import document_in_force

HEADER = (
    "configurazione",
    "periodo",
    "tipo",
    "energia_condivisa_kwh",
    "energia_incentivata_kwh",
    "tip_eur",
    "valorizzazione_eur",
    "importo_eur",
    "data",
)
#: FORMATS.md: acconto (monthly advance), conguaglio (yearly true-up), rettifica
#: (correction), corrispettivo (fees withheld, a negative amount)
KINDS = ("acconto", "conguaglio", "rettifica", "corrispettivo")
#: a divergence is flagged when larger than both (GSE-RULES §5 reconciliation, issue #10)
FLAG_RELATIVE = Decimal("0.01")
FLAG_ABSOLUTE_EUR = Decimal(5)
_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2]))?")


class GseError(Exception):
    """A GSE file or request that cannot be used; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class GseRow:
    """One row of the GSE figures file."""

    line: int
    configuration: str
    period: str
    kind: str
    shared_wh: int | None
    incentivised_wh: int | None
    tip_eur: Decimal | None
    valorisation_eur: Decimal | None
    amount_eur: Decimal | None
    paid_on: date | None


def _decimal(text: str) -> Decimal | None:
    """A decimal-comma number (``1.234,56`` or ``1234,56``); None when empty."""
    text = text.strip()
    if not text:
        return None
    cleaned = text.replace(".", "").replace(",", ".") if "," in text else text
    number = Decimal(cleaned)
    if not number.is_finite():
        raise InvalidOperation
    return number


def parse_gse_file(text: str, name: str) -> tuple[list[GseRow], list[str]]:
    """The rows of a GSE figures file and its warnings; InvalidInput lists every error."""
    errors: list[str] = []
    warnings: list[str] = []
    rows: list[GseRow] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise InvalidInput.single(f"{name}:1", f"the header must be: {';'.join(HEADER)}")
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        where = f"{name}:{number}"
        if len(cells) != len(HEADER):
            errors.append(f"{where}: {len(cells)} cells, expected {len(HEADER)}")
            continue
        values = dict(zip(HEADER, (c.strip() for c in cells), strict=True))
        before = len(errors)
        if not values["configurazione"]:
            errors.append(f"{where}: configurazione is empty")
        if not _PERIOD.fullmatch(values["periodo"]):
            errors.append(f"{where}: periodo {values['periodo']!r} is not YYYY or YYYY-MM")
        if values["tipo"].lower() not in KINDS:
            errors.append(f"{where}: tipo {values['tipo']!r} is not one of {', '.join(KINDS)}")
        numbers: dict[str, Decimal | None] = {}
        for column in HEADER[3:8]:
            try:
                numbers[column] = _decimal(values[column])
            except InvalidOperation:
                errors.append(f"{where}: {column} {values[column]!r} is not a number")
                numbers[column] = None
        for column in ("energia_condivisa_kwh", "energia_incentivata_kwh"):
            value = numbers[column]
            if value is not None and value < 0:
                errors.append(f"{where}: {column} must be ≥ 0")
        kind = values["tipo"].lower()
        amount = numbers["importo_eur"]
        if kind == "corrispettivo" and amount is not None and amount > 0:
            errors.append(f"{where}: a corrispettivo (fees withheld) is a negative amount")
        paid_on = None
        if values["data"]:
            try:
                paid_on = date.fromisoformat(values["data"])
            except ValueError:
                errors.append(f"{where}: data {values['data']!r} is not a date YYYY-MM-DD")
        if len(errors) > before:
            continue
        energies: list[int | None] = []
        for column in ("energia_condivisa_kwh", "energia_incentivata_kwh"):
            value = numbers[column]
            if value is None:
                energies.append(None)
                continue
            wh = (value * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            if wh != value * 1000:
                warnings.append(f"{where}: {column} rounded half-up to the Wh")
            energies.append(int(wh))
        rows.append(
            GseRow(
                line=number,
                configuration=values["configurazione"],
                period=values["periodo"],
                kind=kind,
                shared_wh=energies[0],
                incentivised_wh=energies[1],
                tip_eur=numbers["tip_eur"],
                valorisation_eur=numbers["valorizzazione_eur"],
                amount_eur=amount,
                paid_on=paid_on,
            )
        )
    if errors:
        raise InvalidInput([_problem(text) for text in errors])
    return rows, warnings


def _problem(text: str) -> Problem:
    """``file:line: message`` as a problem of that path."""
    where, _, message = text.partition(": ")
    return Problem(where, message)


def configurations(document: Mapping[str, Any]) -> list[str]:
    """The community's configurations: one per cabina primaria (GSE-RULES §1)."""
    return list(check_community_file(document).configurations)


async def import_gse_figures(
    engine: AsyncEngine, community_id: str, text: str, name: str
) -> dict[str, Any]:
    """Record a GSE figures file (all or nothing); a row already known (configuration,
    period, tipo, data) is updated. Returns ``{"file", "rows", "new", "updated", "warnings"}``.
    """
    rows, warnings = parse_gse_file(text, name)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        document = await community_document(session, community_id)
        known = set(configurations(document))
        unknown = [
            f"{name}:{r.line}: configurazione {r.configuration} is not a configuration of the"
            f" community (expected one of: {', '.join(sorted(known))})"
            for r in rows
            if r.configuration not in known
        ]
        if unknown:
            raise InvalidInput([_problem(text) for text in unknown])
        new = updated = 0
        now = utcnow()
        for row in rows:
            statement = select(GseFigure).where(
                GseFigure.community_id == community_id,
                GseFigure.configuration == row.configuration,
                GseFigure.period == row.period,
                GseFigure.kind == row.kind,
                GseFigure.paid_on.is_(None)
                if row.paid_on is None
                else GseFigure.paid_on == row.paid_on,
            )
            figure = await session.scalar(statement)
            if figure is None:
                figure = GseFigure(
                    community_id=community_id,
                    configuration=row.configuration,
                    period=row.period,
                    kind=row.kind,
                    paid_on=row.paid_on,
                )
                session.add(figure)
                new += 1
            else:
                updated += 1
            figure.shared_wh = row.shared_wh
            figure.incentivised_wh = row.incentivised_wh
            figure.tip_eur = _text(row.tip_eur)
            figure.valorisation_eur = _text(row.valorisation_eur)
            figure.amount_eur = _text(row.amount_eur)
            figure.source = name[:200]
            figure.imported_at = now
    return {"file": name, "rows": len(rows), "new": new, "updated": updated, "warnings": warnings}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def diverges(ours: Decimal, theirs: Decimal) -> bool:
    """A difference larger than both 1 % (of our figure) and 5 €."""
    difference = abs(ours - theirs)
    return difference > FLAG_ABSOLUTE_EUR and difference > abs(ours) * FLAG_RELATIVE


def _energy_diverges(ours: int, theirs: int) -> bool:
    """An energy difference larger than 1 % of ours."""
    return abs(ours - theirs) > abs(ours) * FLAG_RELATIVE


async def _run_for(engine: AsyncEngine, community_id: str, period: str) -> Any:
    """The current final run of a period, else its newest draft (None when neither)."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(table(SettlementRun))
                .where(
                    SettlementRun.community_id == community_id,
                    SettlementRun.period == period,
                    SettlementRun.superseded_by.is_(None),
                )
                .order_by(SettlementRun.created_at.desc())
            )
        ).all()
    finals = [r for r in rows if r.status == "final"]
    return finals[0] if finals else rows[0] if rows else None


def likely_causes(run: Any, document: Mapping[str, Any], period: Period) -> list[str]:
    """Why our figures may differ from the GSE's, from our data."""
    if run is None:
        return ["no settlement run of this period: run one"]
    causes = []
    result = run.result or {}
    if run.missing_readings:
        causes.append(f"{run.missing_readings} POD-hours missing in our data")
    whole = [m["pod"] for m in result.get("missing_readings", []) if m["hours"] >= period.hours]
    if whole:
        causes.append(f"PODs without any reading: {', '.join(sorted(whole))}")
    if run.missing_prices:
        causes.append(f"{run.missing_prices} hours without a zonal price (price differences)")
    for plant in document.get("plants", []):
        commissioned = date.fromisoformat(str(plant["commissioned"]))
        if commissioned > period.first_day:
            causes.append(f"plant {plant['id']} was not active before {commissioned.isoformat()}")
    if run.status != "final":
        causes.append("our figures are a draft run")
    return causes


async def reconciliation(
    engine: AsyncEngine, community_id: str, period_text: str
) -> dict[str, Any]:
    """Per configuration and month the acconto expected against paid; per year our figures
    against the conguaglio, with the payments received and the balance still due."""
    async with engine.connect() as connection:
        current = await community_document(connection, community_id)
        timezone = current["community"].get("timezone") or "Europe/Rome"
        try:
            period = Period.parse(period_text, timezone)
        except InvalidInput as err:
            raise GseError(422, str(err)) from err
        if period.kind not in ("month", "year"):
            raise GseError(422, "period is a year YYYY or a month YYYY-MM")
        figures = (
            await connection.execute(
                select(table(GseFigure)).where(
                    GseFigure.community_id == community_id,
                    (GseFigure.period == str(period)) | GseFigure.period.like(f"{period}-%"),
                )
            )
        ).all()
        month_documents = {}
        for month in period.months:
            month_period = Period.parse(month, timezone)
            month_documents[month] = await document_in_force(
                connection, community_id, month_period.first_day
            )
    months = []
    for month, document in month_documents.items():
        community = check_community_file(document)
        try:
            advance = monthly_advance(community, month)
        except InvalidInput:
            advance = None
        # the GSE pays each configuration one amount a month (GSE-RULES §5): its rounded parts
        paid_as = {
            c.cabina_primaria: Decimal(c.tip_cents + c.valorisation_cents) / 100
            for c in (advance.configurations if advance is not None else [])
        }
        for configuration in community.configurations:
            expected = None if advance is None else paid_as.get(configuration, Decimal(0))
            paid_rows = [
                f
                for f in figures
                if f.period == month and f.kind == "acconto" and f.configuration == configuration
            ]
            paid = sum((_money(f.amount_eur) or Decimal(0) for f in paid_rows), Decimal(0))
            entry: dict[str, Any] = {
                "configuration": configuration,
                "month": month,
                "expected_acconto_eur": None if expected is None else f"{expected:.2f}",
                "paid_eur": f"{paid:.2f}" if paid_rows else None,
                "difference_eur": None,
                "flagged": False,
                "causes": [],
            }
            if expected is not None and paid_rows:
                entry["difference_eur"] = f"{paid - expected:.2f}"
                if diverges(expected, paid):
                    entry["flagged"] = True
                    month_period = Period.parse(month, timezone)
                    run = await _run_for(engine, community_id, month)
                    entry["causes"] = likely_causes(run, document, month_period)
            months.append(entry)
    answer: dict[str, Any] = {"community": community_id, "period": str(period), "months": months}
    received = sum((_money(f.amount_eur) or Decimal(0) for f in figures), Decimal(0))
    answer["received_eur"] = f"{received:.2f}"
    answer["payments"] = [
        {
            "configuration": f.configuration,
            "period": f.period,
            "tipo": f.kind,
            "amount_eur": f.amount_eur,
            "date": f.paid_on.isoformat() if f.paid_on else None,
        }
        for f in sorted(figures, key=lambda f: (f.period, f.kind, f.paid_on or date.min))
    ]
    if period.kind == "year":
        answer["year"] = await _year(
            engine, community_id, period, document=current, figures=figures, received=received
        )
    return answer


async def _year(
    engine: AsyncEngine,
    community_id: str,
    period: Period,
    *,
    document: Mapping[str, Any],
    figures: Sequence[Any],
    received: Decimal,
) -> dict[str, Any]:
    """Our year against the conguaglio; the balance still due (ours − received)."""
    run = await _run_for(engine, community_id, str(period))
    ours: dict[str, Any] | None = None
    if run is not None:
        result = run.result
        money = Decimal(result["tip_eur"]) + Decimal(result["valorisation_eur"])
        ours = {
            "run": run.run_id,
            "status": run.status,
            "shared_wh": int(result["shared_wh"]),
            "incentivised_wh": int(result["incentivised_wh"]),
            "tip_eur": result["tip_eur"],
            "valorisation_eur": result["valorisation_eur"],
            "money_eur": f"{money:.2f}",
        }
    conguagli = [f for f in figures if f.period == str(period) and f.kind == "conguaglio"]
    comparisons = []
    for figure in conguagli:
        item: dict[str, Any] = {"configuration": figure.configuration, "differences": []}
        flagged = False
        if ours is not None:
            pairs = (
                ("shared_wh", ours["shared_wh"], figure.shared_wh, True),
                ("incentivised_wh", ours["incentivised_wh"], figure.incentivised_wh, True),
                ("tip_eur", Decimal(ours["tip_eur"]), _money(figure.tip_eur), False),
                (
                    "valorisation_eur",
                    Decimal(ours["valorisation_eur"]),
                    _money(figure.valorisation_eur),
                    False,
                ),
            )
            for name, mine, theirs, is_energy in pairs:
                if theirs is None:
                    continue
                off = (
                    _energy_diverges(int(mine), int(theirs))
                    if is_energy
                    else diverges(Decimal(mine), Decimal(theirs))
                )
                flagged = flagged or off
                item["differences"].append(
                    {
                        "figure": name,
                        "ours": str(mine),
                        "gse": str(theirs),
                        "difference": str(theirs - mine),
                        "flagged": off,
                    }
                )
        item["flagged"] = flagged
        if flagged:
            item["causes"] = likely_causes(run, document, period)
        comparisons.append(item)
    due = None
    if ours is not None:
        fees = Decimal(run.result.get("gse_fees_eur") or 0)
        expected = Decimal(ours["money_eur"]) - fees
        due = f"{expected - received:.2f}"
    return {
        "ours": ours,
        "conguaglio": comparisons,
        "received_eur": f"{received:.2f}",
        "balance_due_eur": due,
        "flagged": any(c["flagged"] for c in comparisons),
    }
