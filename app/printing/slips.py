"""Check-in slips: one small page tucked into the item, read at a glance.

The check-in screen builds a `Slip` from its result and calls `render_slip(slip)`, which
returns PDF bytes (3 x 5 inches, fits a receipt roll or a half-cut card):

- `SlipKind.HOLD`: hold slip, the patron as the privacy setting names them
  (`app.people.patron_names.patron_label`) and the pickup-by date.
- `SlipKind.TRANSIT`: "route to <branch>", the destination code in large type.
- `SlipKind.RETURN`: the yellow slip for an item going back to the ILL office.

Example::

    pdf = render_slip(Slip(SlipKind.TRANSIT, title="Silent Spring", barcode="ILL00000017",
                           printed_on=today, destination_code="WEST",
                           destination_name="West Campus Library", from_branch="METRO"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from app.library.errors import InvalidInput
from app.printing.barcode_vectors import draw_code128
from app.printing.document import PrintDocument
from app.printing.straps import BOLD, REGULAR, Cell, Pen, long_date

SLIP_SIZE = (3 * inch, 5 * inch)
RETURN_YELLOW = "#FFE14D"


class SlipKind(StrEnum):
    HOLD = "hold"
    TRANSIT = "transit"
    RETURN = "return_to_ill_office"


@dataclass(frozen=True)
class Slip:
    kind: SlipKind
    title: str
    barcode: str
    printed_on: date
    patron_label: str = ""  # HOLD: "MÜLLER, R."
    pickup_by: date | None = None  # HOLD
    destination_code: str = ""  # TRANSIT / RETURN: "WEST", "WS-ILL"
    destination_name: str = ""  # "West Campus Library", "ILL office at NEC"
    from_branch: str = ""
    note: str = ""  # one more line, e.g. "Returned without its strap"
    library_name: str = ""


def _check(slip: Slip) -> None:
    if slip.kind is SlipKind.HOLD and (not slip.patron_label or slip.pickup_by is None):
        raise InvalidInput("A hold slip needs the patron and the pickup-by date.")
    if slip.kind is not SlipKind.HOLD and not slip.destination_code:
        raise InvalidInput("A transit or return slip needs its destination branch.")


def slip_document(slip: Slip) -> PrintDocument:
    """The slip as a one-page printable document."""
    _check(slip)

    def paint(canvas: Canvas) -> None:
        _paint(canvas, slip)
        canvas.showPage()

    return PrintDocument(f"{slip.kind.value} slip {slip.barcode}", SLIP_SIZE, paint, 1)


def render_slip(slip: Slip) -> bytes:
    """The slip as a one-page PDF."""
    return slip_document(slip).pdf()


def _paint(canvas: Canvas, slip: Slip) -> None:
    cell = Cell(0, 0, SLIP_SIZE[0], SLIP_SIZE[1], 12)
    if slip.kind is SlipKind.RETURN:
        canvas.setFillColor(HexColor(RETURN_YELLOW))
        canvas.rect(0, 0, SLIP_SIZE[0], SLIP_SIZE[1], stroke=0, fill=1)
        canvas.setFillColor(black)
    pen = Pen(canvas, cell)
    if slip.kind is SlipKind.HOLD:
        pen.line("HOLD FOR", BOLD, 12, centred=True)
        pen.big(slip.patron_label, 26, 10)
        assert slip.pickup_by is not None
        pen.line(f"Pick up by {long_date(slip.pickup_by)}", BOLD, 12, centred=True)
    else:
        heading = "ROUTE TO" if slip.kind is SlipKind.TRANSIT else "RETURN TO"
        pen.line(heading, BOLD, 14, centred=True)
        pen.big(slip.destination_code, 52, 14)
        pen.line(slip.destination_name, BOLD, 11, centred=True)
        pen.line("Send by inter-campus mail", REGULAR, 9, centred=True)
    pen.rule(1.0)
    pen.paragraph(slip.title, REGULAR, 10, 3)
    if slip.from_branch:
        pen.line(f"From {slip.from_branch}, {long_date(slip.printed_on)}", REGULAR, 9)
    else:
        pen.line(long_date(slip.printed_on), REGULAR, 9)
    if slip.note:
        pen.paragraph(slip.note, BOLD, 9, 2)
    if slip.barcode:
        pen.gap(6)
        canvas.setFillColor(white)
        canvas.rect(cell.content_left, pen.y - 44, cell.content_width, 46, stroke=0, fill=1)
        canvas.setFillColor(black)
        draw_code128(canvas, slip.barcode, centre_x=pen.centre, top=pen.y, bar_height_mm=10)
    if slip.library_name:
        pen.y = cell.inset + 9
        pen.line(slip.library_name, REGULAR, 7, centred=True)
