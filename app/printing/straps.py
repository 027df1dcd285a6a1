"""Book straps: the paper band around a borrowed ILL item, and the yellow return strap.

A strap is a tall strip. Its barcode sits at the very TOP (the part that shows above the
book) because that is the barcode desk staff scan. Below it, in reading order: the pickup
branch and the lender's due date in large type, who it is for, the title (shortened to
fit), the lender, "do not remove", the return rules, and for in-library-use-only items a
flap with instructions for patron and staff. The back (page 2, for duplex printing)
carries the library's standing messages.

Two layouts: `letter3` cuts a letter sheet into three strips; `strip` is one long strip
per page for a strip or label printer. The library's name, colours and messages come from
library settings (`StrapStyle.from_settings`), never from this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.printing import scripts, text_fit
from app.printing.barcode_vectors import draw_code128
from app.printing.document import PrintDocument

REGULAR = scripts.REGULAR
BOLD = scripts.BOLD
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Cell:
    """One strap's rectangle on a page, in points from the bottom-left."""

    x: float
    y: float
    width: float
    height: float
    inset: float  # blank margin kept inside the cell (printers cannot print to the edge)

    @property
    def content_left(self) -> float:
        return self.x + self.inset

    @property
    def content_right(self) -> float:
        return self.x + self.width - self.inset

    @property
    def content_width(self) -> float:
        return self.width - 2 * self.inset


@dataclass(frozen=True)
class Layout:
    name: str
    page_size: tuple[float, float]
    cells: tuple[Cell, ...]  # front-side positions, left to right

    def back_cell(self, index: int) -> Cell:
        """The back of strap `index`: mirrored left-right for a long-edge duplex flip."""
        front = self.cells[index]
        return Cell(
            self.page_size[0] - front.x - front.width, front.y, front.width, front.height,
            front.inset,
        )  # fmt: skip


def _letter3() -> Layout:
    page_width, page_height = letter
    strip = page_width / 3
    cells = tuple(Cell(i * strip, 0, strip, page_height, 0.25 * inch) for i in range(3))
    return Layout("letter3", letter, cells)


LAYOUTS: dict[str, Layout] = {  # keep in step with app.printing.LAYOUT_NAMES
    "letter3": _letter3(),
    "strip": Layout("strip", (3 * inch, 11 * inch), (Cell(0, 0, 3 * inch, 11 * inch, 14),)),
}


def layout_named(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise InvalidInput(
            f"'{name}' is not a strap layout. Use one of: {', '.join(LAYOUTS)}."
        ) from None


@dataclass(frozen=True)
class StrapContent:
    """Everything printed on one strap, already decided (the patron label included)."""

    strap_barcode: str
    request_number: str
    title: str
    patron_label: str
    pickup_code: str
    pickup_name: str
    due_date: date
    lender_symbol: str
    in_library_use_only: bool = False
    author: str = ""
    received_on: date | None = None
    pieces: int = 1  # more than one: printed large, so every desk counts them
    citation: str = ""  # volume, issue and pages, when the request gives them


@dataclass(frozen=True)
class ReturnFlag:
    """The yellow strap/flag on an item going back to the ILL office without its strap."""

    office_code: str  # "WS-ILL"
    office_place: str  # "ILL office at NEC"
    from_branch: str
    on_date: date
    title: str = ""
    barcode: str = ""  # strap barcode when known; blank for a book of another library
    request_number: str = ""
    reason: str = ""
    pieces: int = 1


@dataclass(frozen=True)
class StrapStyle:
    library_name: str
    colour: str
    return_colour: str
    keep_notice: str
    rules: tuple[str, ...]
    back_messages: tuple[str, ...]
    flap_patron: str
    flap_staff: str

    @classmethod
    def from_settings(cls, settings: LibrarySettings) -> StrapStyle:
        return cls(
            library_name=settings.library_name,
            colour=settings.strap_colour,
            return_colour=settings.return_strap_colour,
            keep_notice=settings.strap_keep_notice,
            rules=settings.strap_messages,
            back_messages=settings.strap_back_messages,
            flap_patron=settings.strap_flap_patron,
            flap_staff=settings.strap_flap_staff,
        )


@lru_cache(maxsize=64)
def _colour(hex_rgb: str) -> Color:
    try:
        return HexColor(hex_rgb)
    except (ValueError, TypeError):
        raise InvalidInput(
            f"The strap colour '{hex_rgb}' is not a colour: use hex RGB like #1F3A5F."
        ) from None


def _is_dark(colour: Color) -> bool:
    return bool(0.299 * colour.red + 0.587 * colour.green + 0.114 * colour.blue < 0.6)


def long_date(day: date) -> str:
    """'Dec 14, 2026': month spelled out so no reader confuses day and month."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


class Pen:
    """Draws top-down inside one cell, every line fitted to the cell's content width."""

    def __init__(self, canvas: Canvas, cell: Cell) -> None:
        self.c = canvas
        self.cell = cell
        self.y = cell.y + cell.height - cell.inset

    @property
    def left(self) -> float:
        return self.cell.content_left

    @property
    def width(self) -> float:
        return self.cell.content_width

    @property
    def centre(self) -> float:
        return self.cell.content_left + self.cell.content_width / 2

    def gap(self, points: float) -> None:
        self.y -= points

    def line(self, text: str, font: str, size: float, *, centred: bool = False) -> None:
        fitted = text_fit.shorten(text, font, size, self.width)
        self.y -= size
        self._write(fitted, font, size, centred=centred)
        self.y -= size * 0.25

    def _write(self, text: str, font: str, size: float, *, centred: bool = False,
               indent: float = 0, base: str | None = None) -> None:  # fmt: skip
        """One fitted line at the pen; a right-to-left line keeps to the right edge.

        `base` is the direction of the paragraph a wrapped line belongs to ("L" or "R"), so
        an English subtitle under a Hebrew title still reads as part of a right-to-left text.
        """
        rtl = base == "R" if base else scripts.right_to_left(text)
        if centred:
            scripts.draw(self.c, self.centre, self.y, text, font, size, align="centre")
        elif rtl:
            scripts.draw(self.c, self.cell.content_right, self.y, text, font, size,
                         align="right", base=base)  # fmt: skip
        else:
            scripts.draw(self.c, self.left + indent, self.y, text, font, size, base=base)

    def big(self, text: str, max_size: float, min_size: float) -> None:
        size = text_fit.largest_size(text, BOLD, max_size, min_size, self.width)
        self.line(text, BOLD, size, centred=True)

    def paragraph(
        self, text: str, font: str, size: float, max_lines: int, indent: float = 0
    ) -> None:
        font = scripts.paragraph_font(text, font)
        base = "R" if scripts.right_to_left(text) else "L"
        for row in text_fit.wrap(text, font, size, self.width - indent, max_lines):
            self.y -= size
            self._write(row, font, size, indent=indent, base=base)
            self.y -= size * 0.2

    def rule(self, weight: float = 0.6) -> None:
        self.y -= 4
        self.c.setLineWidth(weight)
        self.c.line(self.left, self.y, self.cell.content_right, self.y)
        self.y -= 5

    def label(self, text: str) -> None:
        self.line(text.upper(), BOLD, 7)

    def band(self, height: float, fill: Color) -> float:
        """A full-width coloured band starting at the pen; returns its top."""
        top = self.y
        self.c.setFillColor(fill)
        self.c.rect(self.left, top - height, self.width, height, stroke=0, fill=1)
        self.c.setFillColor(black)
        return top


def _draw_front(canvas: Canvas, cell: Cell, strap: StrapContent, style: StrapStyle) -> None:
    pen = Pen(canvas, cell)
    box = draw_code128(canvas, strap.strap_barcode, centre_x=pen.centre, top=pen.y)
    pen.y = box.text_baseline - 4
    pen.line(f"ILL request {strap.request_number}", REGULAR, 9, centred=True)
    pen.gap(4)

    accent = _colour(style.colour)
    band_top = pen.band(78, accent)
    canvas.setFillColor(white if _is_dark(accent) else black)
    pen.gap(3)
    pen.line("PICK UP AT", BOLD, 8, centred=True)
    pen.big(strap.pickup_code, 40, 14)
    pen.line(strap.pickup_name, REGULAR, 9, centred=True)
    canvas.setFillColor(black)
    pen.y = band_top - 78 - 6

    pen.line("DUE BACK (LENDER'S DATE)", BOLD, 8, centred=True)
    pen.big(long_date(strap.due_date).upper(), 26, 12)
    pen.line(_DAYS[strap.due_date.weekday()], REGULAR, 10, centred=True)
    if strap.pieces > 1:
        _draw_pieces(canvas, pen, strap.pieces)
    pen.rule()

    pen.label("For")
    size = text_fit.largest_size(strap.patron_label, BOLD, 15, 9, pen.width)
    pen.line(text_fit.shorten_keeping_digits(strap.patron_label, BOLD, size, pen.width), BOLD, size)
    pen.gap(2)
    pen.label("Title")
    pen.paragraph(strap.title, REGULAR, 10, 3)
    if strap.citation:
        pen.line(strap.citation, BOLD, 9.5)
    if strap.author:
        pen.line(strap.author, REGULAR, 8.5)
    pen.gap(2)
    pen.label("Lender")
    received = f"  ·  received {long_date(strap.received_on)}" if strap.received_on else ""
    pen.line(f"{strap.lender_symbol}{received}", REGULAR, 9)
    pen.rule()

    canvas.setFillColor(black)
    notice_top = pen.band(22, black)
    canvas.setFillColor(white)
    pen.gap(3)
    size = text_fit.largest_size(style.keep_notice, BOLD, 11, 6, pen.width - 8)
    pen.line(style.keep_notice, BOLD, size, centred=True)
    canvas.setFillColor(black)
    pen.y = notice_top - 22 - 6
    for rule in style.rules:
        canvas.setFont(BOLD, 9)
        pen.c.drawString(pen.left, pen.y - 9, "•")
        pen.paragraph(rule, REGULAR, 9, 3, indent=8)
        pen.gap(3)
    pen.gap(4)
    pen.line(style.library_name, REGULAR, 8, centred=True)

    if strap.in_library_use_only:
        _draw_flap(canvas, cell, strap, style)


PIECES_BOX = 50  # points: the multi-piece box under the due date


def _draw_pieces(canvas: Canvas, pen: Pen, pieces: int) -> None:
    """A heavy box, "2 PIECES" in large type: a CD or a second volume is not left behind."""
    pen.gap(4)
    top = pen.y
    canvas.setLineWidth(2.5)
    canvas.rect(pen.left + 1, top - PIECES_BOX, pen.width - 2, PIECES_BOX, stroke=1, fill=0)
    canvas.setLineWidth(0.6)
    pen.gap(3)
    pen.big(f"{pieces} PIECES", 28, 14)
    every = "both" if pieces == 2 else f"all {pieces}"
    pen.line(f"check that {every} are here", BOLD, 8.5, centred=True)
    pen.y = top - PIECES_BOX - 2


FLAP_HEIGHT = 2.7 * inch


def _draw_flap(canvas: Canvas, cell: Cell, strap: StrapContent, style: StrapStyle) -> None:
    """The in-library-use-only flap: the strap's lower part, folded over the cover."""
    fold_y = cell.y + cell.inset + FLAP_HEIGHT
    canvas.setDash(4, 3)
    canvas.setLineWidth(0.7)
    canvas.line(cell.content_left, fold_y, cell.content_right, fold_y)
    canvas.setDash()
    flap = Cell(cell.x, cell.y, cell.width, cell.inset + FLAP_HEIGHT, cell.inset)
    pen = Pen(canvas, flap)
    pen.y = fold_y - 2
    pen.line("fold here", REGULAR, 6, centred=True)
    top = pen.band(46, black)
    canvas.setFillColor(white)
    pen.gap(4)
    pen.big("LIBRARY USE ONLY", 18, 9)
    pen.line("do not take out of the library", BOLD, 8, centred=True)
    canvas.setFillColor(black)
    pen.y = top - 46 - 8
    pen.paragraph(style.flap_patron, BOLD, 9, 5)
    pen.gap(6)
    pen.paragraph(style.flap_staff, REGULAR, 8.5, 5)
    pen.gap(4)
    pen.line(f"{strap.strap_barcode}  ·  request {strap.request_number}", REGULAR, 7)


def _draw_back(canvas: Canvas, cell: Cell, strap: StrapContent, style: StrapStyle) -> None:
    pen = Pen(canvas, cell)
    pen.gap(40)  # the top stays clear: it shows above the book behind the barcode
    pen.line(style.library_name, BOLD, 11, centred=True)
    pen.line("Interlibrary loan", REGULAR, 9, centred=True)
    pen.rule()
    for message in style.back_messages:
        pen.paragraph(message, REGULAR, 9.5, 6)
        pen.gap(8)
    pen.rule()
    pen.line(f"Request {strap.request_number}  ·  strap {strap.strap_barcode}", REGULAR, 7.5)


def _cut_marks(canvas: Canvas, layout: Layout, used: int) -> None:
    if len(layout.cells) < 2:
        return
    canvas.setDash(2, 4)
    canvas.setLineWidth(0.3)
    canvas.setStrokeColor(HexColor("#999999"))
    for cell in layout.cells[1 : used + 1]:  # the right edge of every strap printed
        canvas.line(cell.x, 0, cell.x, layout.page_size[1])
    canvas.setStrokeColor(black)
    canvas.setDash()


def strap_document(
    straps: Sequence[StrapContent],
    style: StrapStyle,
    layout: str = "letter3",
    *,
    back_side: bool = True,
) -> PrintDocument:
    """A front page per sheet of straps, each followed by its back for duplex printing."""
    if not straps:
        raise InvalidInput("There are no straps to print.")
    chosen = layout_named(layout)
    _colour(style.colour)  # a bad colour setting is refused before any page is drawn
    per_page = len(chosen.cells)
    sheets = [list(straps[i : i + per_page]) for i in range(0, len(straps), per_page)]

    def paint(canvas: Canvas) -> None:
        for sheet in sheets:
            for index, strap in enumerate(sheet):
                _draw_front(canvas, chosen.cells[index], strap, style)
            _cut_marks(canvas, chosen, len(sheet))
            canvas.showPage()
            if back_side:
                for index, strap in enumerate(sheet):
                    _draw_back(canvas, chosen.back_cell(index), strap, style)
                canvas.showPage()

    title = f"Book strap {straps[0].strap_barcode}" if len(straps) == 1 else f"{len(straps)} straps"
    return PrintDocument(title, chosen.page_size, paint, len(sheets) * (2 if back_side else 1))


def render_straps(
    straps: Sequence[StrapContent],
    style: StrapStyle,
    layout: str = "letter3",
    *,
    back_side: bool = True,
) -> bytes:
    """The straps as one PDF (see `strap_document`)."""
    return strap_document(straps, style, layout, back_side=back_side).pdf()


def _draw_return_flag(canvas: Canvas, cell: Cell, flag: ReturnFlag, style: StrapStyle) -> None:
    canvas.setFillColor(_colour(style.return_colour))
    canvas.rect(cell.x, cell.y, cell.width, cell.height, stroke=0, fill=1)
    canvas.setFillColor(black)
    pen = Pen(canvas, cell)
    if flag.barcode:  # on white: a scanner wants full contrast behind the bars
        canvas.setFillColor(white)
        canvas.rect(cell.content_left, pen.y - 58, cell.content_width, 60, stroke=0, fill=1)
        canvas.setFillColor(black)
        box = draw_code128(canvas, flag.barcode, centre_x=pen.centre, top=pen.y)
        pen.y = box.text_baseline - 10
    pen.big("RETURN TO", 22, 10)
    pen.big(flag.office_code, 44, 14)
    pen.line(flag.office_place, BOLD, 11, centred=True)
    pen.line("Send by inter-campus mail", REGULAR, 10, centred=True)
    pen.rule(1.2)
    pen.label("Title")
    pen.paragraph(flag.title or "(not known: not one of our ILL items?)", REGULAR, 10, 3)
    if flag.request_number:
        pen.label("ILL request")
        pen.line(flag.request_number, REGULAR, 10)
    if flag.pieces > 1:
        pen.big(f"{flag.pieces} PIECES", 20, 10)
        every = "both" if flag.pieces == 2 else f"all {flag.pieces}"
        pen.line(f"send {every} together", BOLD, 9, centred=True)
    pen.label("From")
    pen.line(f"{flag.from_branch}  on {long_date(flag.on_date)}", REGULAR, 10)
    if flag.reason:
        pen.label("Why")
        pen.paragraph(flag.reason, REGULAR, 9.5, 4)
    pen.rule(1.2)
    pen.paragraph(
        "ILL office: ship back to the lender, or find where this item belongs.", BOLD, 9, 3
    )
    pen.gap(6)
    pen.line(style.library_name, REGULAR, 8, centred=True)


def return_flag_document(
    flags: Sequence[ReturnFlag], style: StrapStyle, layout: str = "letter3"
) -> PrintDocument:
    """Yellow return straps, one per item going back to the ILL office."""
    if not flags:
        raise InvalidInput("There are no return straps to print.")
    chosen = layout_named(layout)
    _colour(style.return_colour)
    per_page = len(chosen.cells)
    sheets = [list(flags[i : i + per_page]) for i in range(0, len(flags), per_page)]

    def paint(canvas: Canvas) -> None:
        for sheet in sheets:
            for index, flag in enumerate(sheet):
                _draw_return_flag(canvas, chosen.cells[index], flag, style)
            _cut_marks(canvas, chosen, len(sheet))
            canvas.showPage()

    return PrintDocument("Return to the ILL office", chosen.page_size, paint, len(sheets))


def render_return_flags(
    flags: Sequence[ReturnFlag], style: StrapStyle, layout: str = "letter3"
) -> bytes:
    return return_flag_document(flags, style, layout).pdf()
