"""Reports of a settlement run: CSV exports and PDFs (reportlab: tables and bar charts).

reportlab is maintained, pure Python with no system libraries, and draws its own charts
(``reportlab.graphics``), so one dependency gives both the PDF and the charts.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

GREEN = colors.HexColor("#2e7d32")


def run_csv(run: dict[str, Any]) -> str:
    """Plants and members of a run as one CSV (a ``section`` column tells them apart)."""
    result = run["result"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "section",
            "id",
            "shared_wh",
            "allocated_wh",
            "incentivised_wh",
            "tip_eur",
            "valorisation_eur",
            "amount_eur",
        ]
    )
    writer.writerow(
        [
            "community",
            run["community"],
            result["shared_wh"],
            "",
            result["incentivised_wh"],
            result["tip_eur"],
            result["valorisation_eur"],
            "",
        ]
    )
    for plant in result["plants"]:
        writer.writerow(
            [
                "plant",
                plant["id"],
                "",
                plant["allocated_wh"],
                plant["incentivised_wh"],
                plant["tip_eur"],
                plant.get("valorisation_eur", ""),
                "",
            ]
        )
    for member in result["members"]:
        writer.writerow(
            ["member", member["id"], member["shared_wh"], "", "", "", "", member["amount_eur"]]
        )
    for row in _cycle_rows(run):
        writer.writerow(row)
    return out.getvalue()


def _cycle_rows(run: dict[str, Any]) -> list[list[Any]]:
    """Rows of the operating cycle (#10): a forced finalisation's reason, a year run's
    balance per member (year − final months), a correction's difference per member."""
    rows: list[list[Any]] = []
    if run.get("forced_reason"):
        rows.append(["forced", run["forced_reason"], "", "", "", "", "", ""])
    result = run["result"]
    for member in (result.get("balances") or {}).get("members", []):
        rows.append(["balance", member["id"], "", "", "", "", "", member["balance_eur"]])
    for member in (result.get("differences") or {}).get("members", []):
        rows.append(["difference", member["id"], "", "", "", "", "", member["difference_eur"]])
    gse = run.get("gse")
    if gse:
        for payment in gse["payments"]:
            label = f"{payment['tipo']} {payment['period']} {payment['date'] or ''}".strip()
            rows.append(["gse_payment", label, "", "", "", "", "", payment["amount_eur"]])
        rows.append(["gse_received", run["period"], "", "", "", "", "", gse["received_eur"]])
        rows.append(["gse_balance_due", run["period"], "", "", "", "", "", gse["balance_due_eur"]])
    return rows


def member_csv(run: dict[str, Any], member_id: str) -> str:
    """One member's statement as CSV."""
    member = member_of(run, member_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "community",
            "period",
            "run",
            "status",
            "member",
            "withdrawn_wh",
            "shared_wh",
            "amount_eur",
        ]
    )
    writer.writerow(
        [
            run["community"],
            run["period"],
            run["id"],
            run["status"],
            member["id"],
            member.get("withdrawn_wh", ""),
            member["shared_wh"],
            member["amount_eur"],
        ]
    )
    return out.getvalue()


def member_of(run: dict[str, Any], member_id: str) -> dict[str, Any]:
    """A member's entry of a run (KeyError when absent)."""
    for member in run["result"]["members"]:
        if member["id"] == member_id:
            return dict(member)
    raise KeyError(member_id)


def _kwh(wh: Any) -> str:
    return f"{int(wh) / 1000:,.1f}".replace(",", " ")


def _bar_chart(title: str, labels: list[str], values_kwh: list[float]) -> Drawing:
    drawing = Drawing(17 * cm, 6 * cm)
    chart = VerticalBarChart()
    chart.x, chart.y = 1.5 * cm, 1.0 * cm
    chart.width, chart.height = 15 * cm, 4.2 * cm
    chart.data = [values_kwh or [0.0]]
    chart.categoryAxis.categoryNames = labels or [""]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    chart.barSpacing = 1
    drawing.add(chart)
    drawing.add(String(1.5 * cm, 5.5 * cm, title, fontSize=9))
    return drawing


def _table(rows: list[list[Any]]) -> Table:
    table = Table(rows, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f5e9")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _charts(run: dict[str, Any]) -> list[Any]:
    profile = run.get("hourly_profile") or {}
    by_hour = [v / 1000 for v in profile.get("shared_wh_by_hour_of_day", [0] * 24)]
    by_month = profile.get("shared_wh_by_month", {})
    return [
        _bar_chart("Shared energy by hour of day (kWh)", [f"{h}" for h in range(24)], by_hour),
        _bar_chart(
            "Shared energy by month (kWh)",
            [m[5:] for m in by_month],
            [v / 1000 for v in by_month.values()],
        ),
    ]


def _header(run: dict[str, Any], title: str) -> list[Any]:
    styles = getSampleStyleSheet()
    result = run["result"]
    status = "FINAL" if run["status"] == "final" else "DRAFT (not final)"
    lines = [
        Paragraph(title, styles["Title"]),
        Paragraph(
            f"Community <b>{run['community']}</b> · period <b>{run['period']}</b> · "
            f"run {run['id']} · {status}",
            styles["Normal"],
        ),
        Spacer(1, 0.3 * cm),
        _table(
            [
                ["shared kWh", "incentivised kWh", "TIP €", "valorisation €", "missing"],
                [
                    _kwh(result["shared_wh"]),
                    _kwh(result["incentivised_wh"]),
                    result["tip_eur"],
                    result["valorisation_eur"],
                    f"{run['missing_readings']} POD-hours, {run['missing_prices']} price hours",
                ],
            ]
        ),
        Spacer(1, 0.3 * cm),
    ]
    return lines


def run_pdf(run: dict[str, Any]) -> bytes:
    """The community report of a run: figures, charts, money per plant and per member."""
    styles = getSampleStyleSheet()
    result = run["result"]
    story: list[Any] = _header(run, "CER settlement report")
    story += _charts(run)
    story.append(Paragraph("Plants", styles["Heading2"]))
    story.append(
        _table(
            [["plant", "allocated kWh", "incentivised kWh", "TIP €", "valorisation €"]]
            + [
                [
                    p["id"],
                    _kwh(p["allocated_wh"]),
                    _kwh(p["incentivised_wh"]),
                    p["tip_eur"],
                    p.get("valorisation_eur", ""),
                ]
                for p in result["plants"]
            ]
        )
    )
    story.append(Paragraph("Members", styles["Heading2"]))
    story.append(
        _table(
            [["member", "shared kWh", "amount €"]]
            + [[m["id"], _kwh(m["shared_wh"]), m["amount_eur"]] for m in result["members"]]
        )
    )
    if run.get("forced_reason"):
        story.append(Paragraph("Finalised by force", styles["Heading3"]))
        story.append(Paragraph(str(run["forced_reason"]), styles["Normal"]))
    balances = (result.get("balances") or {}).get("members")
    if balances:
        story.append(Paragraph("Year against final months", styles["Heading2"]))
        story.append(
            _table(
                [["member", "year €", "final months €", "balance €"]]
                + [
                    [m["id"], m["year_eur"], m["final_months_eur"], m["balance_eur"]]
                    for m in balances
                ]
            )
        )
    gse = run.get("gse")
    if gse:
        story.append(Paragraph("GSE payments", styles["Heading2"]))
        story.append(
            _table(
                [["period", "kind", "date", "amount €"]]
                + [
                    [p["period"], p["tipo"], p["date"] or "", p["amount_eur"] or ""]
                    for p in gse["payments"]
                ]
                + [["", "received", "", gse["received_eur"]]]
                + [["", "balance still due", "", gse["balance_due_eur"] or ""]]
            )
        )
    for title, key in (("Warnings", "warnings"), ("Errors", "errors")):
        if result.get(key):
            story.append(Paragraph(title, styles["Heading3"]))
            story += [Paragraph(str(text), styles["Normal"]) for text in result[key]]
    return _build(story)


def member_pdf(run: dict[str, Any], member_id: str) -> bytes:
    """One member's statement: the community figures, charts and the member's amount."""
    styles = getSampleStyleSheet()
    member = member_of(run, member_id)
    story: list[Any] = _header(run, f"Statement of {member_id}")
    story.append(
        _table(
            [
                ["member", "withdrawn kWh", "shared kWh", "amount €"],
                [
                    member["id"],
                    _kwh(member.get("withdrawn_wh", 0)),
                    _kwh(member["shared_wh"]),
                    member["amount_eur"],
                ],
            ]
        )
    )
    story.append(Spacer(1, 0.3 * cm))
    story += _charts(run)
    story.append(
        Paragraph(
            "Amounts follow the community statute applied by the GSE settlement engine.",
            styles["Italic"],
        )
    )
    return _build(story)


def _build(story: list[Any]) -> bytes:
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title="CER report",
    )
    document.build(story)
    return out.getvalue()
