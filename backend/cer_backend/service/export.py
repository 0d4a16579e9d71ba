"""The accountant's export of a run (XLSX and CSV): who receives what, and the totals.

One row per member (tax code from the registry's ``tax_code``, name, type, amount and its
parts), then the management share and each fund on rows of their own, the members' total
(equal to the report's), and the grand total, equal to TIP + valorisation. Every row names
the period, the run and its status. Amounts are numbers (XLSX) or plain decimals in the
language's notation (CSV: ``;`` and a decimal comma in Italian).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Font

from ..i18n import N_, Language
from .community_report import member_type_label, status_label
from .report_model import RunFacts, reconciliation
from .statements import csv_options

#: the parts of a member's amount, as columns
PART_COLUMNS: Final = (
    ("consumers_eur", N_("consumers' quota")),
    ("producers_eur", N_("producers' quota")),
    ("valorisation_eur", N_("valorisation")),
    ("surplus_eur", N_("surplus earmark")),
)
FORMATS: Final = ("xlsx", "csv")


class ExportError(ValueError):
    """An export format that does not exist."""


@dataclass(frozen=True)
class ExportRow:
    """One row of the export."""

    kind: str  # member | management | fund | members_total | grand_total
    tax_code: str
    name: str
    type: str
    amount: Decimal
    parts: tuple[Decimal | None, ...]


def export_rows(facts: RunFacts, lang: Language) -> Iterator[ExportRow]:
    """The rows: members, management, funds, members' total, grand total."""
    _ = lang.gettext
    money = reconciliation(facts.result)
    none: tuple[Decimal | None, ...] = (None,) * len(PART_COLUMNS)
    part_totals = [Decimal(0)] * len(PART_COLUMNS)
    for member in facts.result.get("members") or []:
        info = facts.members.get(member["id"])
        parts = member.get("parts") or {}
        values = tuple(Decimal(parts.get(key) or "0") for key, _label in PART_COLUMNS)
        part_totals = [a + b for a, b in zip(part_totals, values, strict=True)]
        yield ExportRow(
            "member",
            (info.tax_code if info else None) or "",
            facts.member_name(member["id"]),
            member_type_label(lang, info.type if info else ""),
            Decimal(member["amount_eur"]),
            values,
        )
    yield ExportRow("management", "", _("management and running costs"), "", money.management, none)
    yield ExportRow("fund", "", _("social fund"), "", money.social_fund, none)
    yield ExportRow("fund", "", _("investment fund"), "", money.investment_fund, none)
    yield ExportRow(
        "members_total", "", _("members' total"), "", money.members_total, tuple(part_totals)
    )
    yield ExportRow(
        "grand_total", "", _("grand total (TIP + valorisation)"), "", money.distributed, none
    )


def _header(lang: Language) -> list[str]:
    _ = lang.gettext
    return [
        _("row"),
        _("tax code"),
        _("name"),
        _("type"),
        _("amount euro"),
        *(_(label) for _key, label in PART_COLUMNS),
        _("period"),
        _("run"),
        _("status"),
    ]


ROW_KINDS: Final = {
    "member": N_("member"),
    "management": N_("management"),
    "fund": N_("fund"),
    "members_total": N_("members' total"),
    "grand_total": N_("grand total"),
}


def export_csv(facts: RunFacts, lang: Language) -> str:
    """The export as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, **csv_options(lang))  # type: ignore[arg-type]
    writer.writerow(_header(lang))
    status = status_label(lang, facts.status)
    for row in export_rows(facts, lang):
        writer.writerow(
            [
                lang.gettext(ROW_KINDS[row.kind]),
                row.tax_code,
                row.name,
                row.type,
                lang.plain_number(row.amount),
                *("" if p is None else lang.plain_number(p) for p in row.parts),
                facts.period,
                facts.id,
                status,
            ]
        )
    return out.getvalue()


def export_xlsx(facts: RunFacts, lang: Language) -> bytes:
    """The export as an Excel workbook (amounts are numbers with two decimals)."""
    _ = lang.gettext
    book = Workbook()
    sheet: Any = book.active
    sheet.title = _("distribution")[:31]
    sheet.append(_header(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    status = status_label(lang, facts.status)
    for row in export_rows(facts, lang):
        sheet.append(
            [
                _(ROW_KINDS[row.kind]),
                row.tax_code,
                row.name,
                row.type,
                row.amount,
                *row.parts,
                facts.period,
                facts.id,
                status,
            ]
        )
        if row.kind in ("members_total", "grand_total"):
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for column in "EFGHI":
        for cell in sheet[column][1:]:
            cell.number_format = "#,##0.00"
    widths = {"A": 16, "B": 18, "C": 36, "D": 18, "E": 14, "J": 10, "K": 34, "L": 14}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(facts: RunFacts, lang: Language, fmt: str) -> bytes:
    """The export in ``fmt`` (``xlsx`` or ``csv``) as bytes."""
    if fmt == "xlsx":
        return export_xlsx(facts, lang)
    if fmt == "csv":
        return export_csv(facts, lang).encode("utf-8")
    raise ExportError(f"unknown export format {fmt!r}: use xlsx or csv")
