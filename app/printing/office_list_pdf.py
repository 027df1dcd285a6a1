"""Printable office lists (in transit too long, hold shelf past pickup-by, due-date
discrepancies): a titled table on letter paper, the header repeated on every page.

Pure rendering: the rows come in as text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def render_office_list(
    title: str,
    subtitle: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    printed_on: date,
) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.6 * inch,
        title=title,
        author="ILL Desk",
        invariant=1,
    )
    styles = getSampleStyleSheet()
    cell = ParagraphStyle("cell", parent=styles["Normal"], fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold")
    data = [[Paragraph(h, head) for h in headers]]
    data += [[Paragraph(_escape(c), cell) for c in row] for row in rows]
    if not rows:
        data.append([Paragraph("Nothing on this list.", cell)] + [""] * (len(headers) - 1))
    table = Table(
        data, repeatRows=1, hAlign="LEFT", colWidths=[7.3 * inch / len(headers)] * len(headers)
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [
        Paragraph(title, styles["Title"]),
        Paragraph(
            f"{subtitle} Printed {printed_on.isoformat()}; {len(rows)} rows.", styles["Normal"]
        ),
        Spacer(1, 8),
        table,
    ]
    doc.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
