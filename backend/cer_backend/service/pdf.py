"""PDF building blocks of the reports (reportlab): pages, tables, boxes and charts.

Every page carries the community, the period and the page number in its footer; a run that
is not final says BOZZA/DRAFT across every page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from ..i18n import Language

GREEN = colors.HexColor("#2e7d32")
LIGHT_GREEN = colors.HexColor("#e8f5e9")
ORANGE = colors.HexColor("#ef6c00")
WARNING_BACKGROUND = colors.HexColor("#fff3e0")
GREY = colors.HexColor("#607d8b")


def styles() -> StyleSheet1:
    """The paragraph styles of the reports."""
    sheet = getSampleStyleSheet()
    sheet.add(ParagraphStyle("Small", parent=sheet["Normal"], fontSize=7.5, leading=9))
    sheet.add(ParagraphStyle("Cell", parent=sheet["Normal"], fontSize=8, leading=9.5))
    sheet.add(
        ParagraphStyle(
            "CellRight", parent=sheet["Normal"], fontSize=8, leading=9.5, alignment=TA_RIGHT
        )
    )
    sheet.add(
        ParagraphStyle(
            "Warning", parent=sheet["Normal"], fontSize=9.5, leading=12, textColor=colors.black
        )
    )
    sheet["Title"].fontSize = 17
    sheet["Title"].leading = 21
    sheet["Heading2"].fontSize = 12
    sheet["Heading2"].spaceBefore = 8
    sheet["Heading2"].spaceAfter = 4
    sheet["Heading2"].keepWithNext = True  # never a heading alone at the foot of a page
    return sheet


def text(value: Any) -> str:
    """Plain text made safe for a Paragraph's markup."""
    return escape(str(value))


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float] | None = None,
    *,
    total_rows: Sequence[int] = (),
    header: bool = True,
    text_columns: int = 1,
) -> Table:
    """A table with a green header row; the first ``text_columns`` left-aligned, the figures
    after them right-aligned; ``total_rows`` in bold."""
    result = Table(
        [list(r) for r in rows], colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT"
    )
    commands: list[tuple[Any, ...]] = [
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("ALIGN", (text_columns, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), LIGHT_GREEN),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ]
    for row in total_rows:
        commands += [
            ("FONTNAME", (0, row), (-1, row), "Helvetica-Bold"),
            ("LINEABOVE", (0, row), (-1, row), 0.8, colors.black),
        ]
    result.setStyle(TableStyle(commands))
    return result


def box(paragraphs: Sequence[Paragraph], colour: Any = ORANGE) -> Table:
    """Paragraphs in a coloured frame (warnings that must be seen)."""
    frame = Table([[p] for p in paragraphs], colWidths=[17 * cm], hAlign="LEFT")
    frame.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, colour),
                ("BACKGROUND", (0, 0), (-1, -1), WARNING_BACKGROUND),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return frame


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Sequence[float]],
    names: Sequence[str] = (),
    fills: Sequence[Any] = (GREEN, ORANGE),
) -> Drawing:
    """Vertical bars (one or more series) with a title and, for several series, a legend."""
    drawing = Drawing(17 * cm, 6.2 * cm)
    chart = VerticalBarChart()
    chart.x, chart.y = 1.6 * cm, 1.0 * cm
    chart.width, chart.height = 15 * cm, 4.2 * cm
    data = [list(s) or [0.0] for s in series] or [[0.0]]
    chart.data = data
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.barSpacing = 0.5
    chart.groupSpacing = 3
    for i in range(len(data)):
        chart.bars[i].fillColor = fills[i % len(fills)]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    drawing.add(String(1.6 * cm, 5.7 * cm, title, fontSize=9, fontName="Helvetica-Bold"))
    if len(names) > 1:
        legend = Legend()
        legend.x, legend.y = 12 * cm, 6.0 * cm
        legend.fontSize = 7
        legend.columnMaximum = 1
        legend.alignment = "right"
        legend.colorNamePairs = [(fills[i % len(fills)], n) for i, n in enumerate(names)]
        drawing.add(legend)
    return drawing


def horizontal_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Drawing:
    """Horizontal bars, one per label (members' shares)."""
    height = max(3.0, 0.45 * len(labels) + 1.4)
    drawing = Drawing(17 * cm, height * cm)
    chart = HorizontalBarChart()
    chart.x, chart.y = 5.6 * cm, 0.6 * cm
    chart.width, chart.height = 10.8 * cm, (height - 1.4) * cm
    chart.data = [list(values) or [0.0]]
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.reverseDirection = True
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = GREEN
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    drawing.add(String(0, (height - 0.4) * cm, title, fontSize=9, fontName="Helvetica-Bold"))
    return drawing


def build(
    story: list[Any],
    *,
    lang: Language,
    title: str,
    footer: str,
    draft: bool,
) -> bytes:
    """The PDF of ``story``: footer with page numbers; BOZZA/DRAFT on every page of a draft."""
    _ = lang.gettext
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.8 * cm,
        title=title,
        author="cer_community",
    )
    draft_word = _("DRAFT")
    page_word = _("page {number}")

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(GREY)
        canvas.drawString(2 * cm, 1.0 * cm, footer)
        canvas.drawRightString(19 * cm, 1.0 * cm, page_word.format(number=doc.page))
        if draft:
            canvas.setFont("Helvetica-Bold", 11)
            canvas.setFillColor(ORANGE)
            canvas.drawRightString(19 * cm, 28.5 * cm, draft_word)
            canvas.setFont("Helvetica-Bold", 90)
            canvas.setFillColor(colors.Color(0.94, 0.42, 0.0, alpha=0.12))
            canvas.translate(10.5 * cm, 14 * cm)
            canvas.rotate(45)
            canvas.drawCentredString(0, 0, draft_word)
        canvas.restoreState()

    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
