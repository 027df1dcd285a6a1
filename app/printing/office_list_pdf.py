"""Printable office lists (in transit too long, hold shelf past pickup-by, due-date
discrepancies): a titled table on letter paper, the header repeated on every page.

Pure rendering: the rows come in as text. Names and titles in any script print with the
fonts the straps use (`app.printing.scripts`): a cell of Western letters stays in
Helvetica, any other run of text gets its shipped font, embedded.
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

from app.printing import scripts, text_fit

CELL_FONT, CELL_SIZE = "Helvetica", 8
CELL_PADDING = 12  # points: the table's default padding, left and right
MAX_CELL_LINES = 12


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
    cell = ParagraphStyle("cell", parent=styles["Normal"], fontSize=CELL_SIZE, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold")
    data = [[Paragraph(h, head) for h in headers]]
    column = 7.3 * inch / len(headers)
    room = column - CELL_PADDING
    data += [[Paragraph(_in_its_fonts(c, room), cell) for c in row] for row in rows]
    if not rows:
        data.append([Paragraph("Nothing on this list.", cell)] + [""] * (len(headers) - 1))
    table = Table(data, repeatRows=1, hAlign="LEFT", colWidths=[column] * len(headers))
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


def _in_its_fonts(text: str, width: float) -> str:
    """A cell's text as Paragraph markup, each run of it in a font that has its letters.

    Text outside the built-in fonts is wrapped here, in its logical order, and each line
    then laid out as it reads (right to left for Hebrew and Arabic): wrapped by the table
    after that, a right-to-left title would read its last line first."""
    if scripts.standard_only(text):
        return _escape(text)
    base = "R" if scripts.right_to_left(text) else None
    lines = text_fit.wrap(text, CELL_FONT, CELL_SIZE, width, MAX_CELL_LINES)
    return "<br/>".join(
        "".join(
            f'<font name="{font}">{_escape(piece)}</font>'
            for piece, font in scripts.runs(line, CELL_FONT, base)
        )
        for line in lines
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
