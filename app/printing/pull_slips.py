"""Pull slips for lending: one page per item a campus must pull, tucked into the book.

Pure rendering (data in, PDF out). Each page says what to pull (title, author, the item's
barcode and call number when the library records one), who borrows it (OCLC symbol and their
request number), the due date once the ILL office has set it, and carries the item's
barcode as Code 128 so the campus can scan the slip itself when checking out to ILL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from app.printing.barcode_vectors import draw_code128
from app.printing.document import PrintDocument

SLIP_SIZE = (4 * inch, 6 * inch)
BOLD, REGULAR = "Helvetica-Bold", "Helvetica"


@dataclass(frozen=True)
class PullSlip:
    campus: str
    request_number: str
    title: str
    author: str
    item_barcode: str
    borrower_symbol: str
    partner_request_number: str
    due_date: date | None
    call_number: str = ""
    kind: str = "loan"  # "copy": scan the pages instead of sending the item


def _wrapped(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if canvas.stringWidth(candidate, font, size) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _paint(canvas: Canvas, slip: PullSlip, printed_on: date) -> None:
    width, height = SLIP_SIZE
    left, text_width = 0.3 * inch, width - 0.6 * inch
    y = height - 0.45 * inch
    canvas.setFont(BOLD, 16)
    canvas.drawString(left, y, "PULL FOR LENDING" if slip.kind != "copy" else "SCAN FOR LENDING")
    y -= 18
    canvas.setFont(REGULAR, 9)
    canvas.drawString(left, y, f"Campus {slip.campus} - printed {printed_on.isoformat()}")
    y -= 22
    canvas.setFont(BOLD, 11)
    canvas.drawString(left, y, "Call number:")
    canvas.setFont(BOLD, 14)
    canvas.drawString(left + 78, y, slip.call_number or "not recorded")
    y -= 22
    for line in _wrapped(canvas, slip.title, BOLD, 12, text_width)[:4]:
        canvas.setFont(BOLD, 12)
        canvas.drawString(left, y, line)
        y -= 15
    if slip.author:
        canvas.setFont(REGULAR, 10)
        canvas.drawString(left, y, slip.author[:60])
        y -= 14
    y -= 6
    for label, value in (
        ("Borrower", slip.borrower_symbol),
        ("Their request", slip.partner_request_number or "-"),
        ("Our request", slip.request_number),
        ("Due date", slip.due_date.isoformat() if slip.due_date else "set when shipped"),
        ("Item barcode", slip.item_barcode or "-"),
    ):
        canvas.setFont(REGULAR, 10)
        canvas.drawString(left, y, f"{label}:")
        canvas.setFont(BOLD, 10)
        canvas.drawString(left + 82, y, value)
        y -= 14
    if slip.item_barcode:
        draw_code128(canvas, slip.item_barcode, centre_x=width / 2, top=1.35 * inch,
                     bar_height_mm=12)  # fmt: skip
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(
        width / 2, 0.3 * inch, "Yellow flag in, check out to ILL, send to the ILL office."
    )


def pull_slips_document(slips: list[PullSlip], printed_on: date) -> PrintDocument:
    def paint(canvas: Canvas) -> None:
        for slip in slips:
            _paint(canvas, slip, printed_on)
            canvas.showPage()

    campus = slips[0].campus if slips else ""
    return PrintDocument(f"Pull slips {campus} {printed_on}", SLIP_SIZE, paint, len(slips))


def render_pull_slips(slips: list[PullSlip], printed_on: date) -> bytes:
    return pull_slips_document(slips, printed_on).pdf()
