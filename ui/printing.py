"""Printing straps and slips through Qt, or saving them as PDF, never on the GUI thread.

Qt allows painting on a QPrinter from a worker thread (QPainter supports QImage, QPrinter
and QPicture off the GUI thread); only the print dialog, a widget, stays on the GUI thread.
Jobs run on a printing runner of their own (the same `Operations` as database work, one
more thread), so a slow printer never holds up the desk's scans, and pages never interleave.

The renderers in `app.printing` paint on a canvas. Here a small adapter (`QtCanvas`) gives
them the same canvas calls on a QPainter, so a strap reaches the printer as vectors: the
barcode's bars land on whole printer dots at the printer's own resolution, with no
rasterised PDF in between. "Save as PDF" uses ReportLab's own output.

Whether printing asks for a printer or goes silently to the workstation's printer is the
workstation setting `silent_print` (with `printer`, a printer name; blank is the default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import QWidget

from app.library.errors import ServiceError
from app.printing import scripts
from app.printing.document import PrintDocument
from app.workstation.config import WorkstationSettings
from app.workstation.private_files import write_owner_only
from ui.operations import Operations

log = logging.getLogger(__name__)
_REFERENCE_PX = 100  # glyph outlines are taken at this size, then scaled to the exact width
_LEFT_TO_RIGHT, _POP = "\u202d", "\u202c"  # text arrives in visual order: Qt must not reorder


def _qt_font(name: str) -> QFont:
    shipped = scripts.font_file(name)
    if shipped is not None:  # the same file the PDF embeds, so the same letters
        font_id = QFontDatabase.addApplicationFont(str(shipped))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if families:
            font = QFont(families[0])
            font.setBold(name.endswith("-Bold"))
            font.setPixelSize(_REFERENCE_PX)
            return font
    family, _, style = name.partition("-")
    font = QFont("Courier New" if family == "Courier" else "Arial")
    font.setStyleHint(
        QFont.StyleHint.TypeWriter if family == "Courier" else QFont.StyleHint.SansSerif
    )
    font.setBold("Bold" in style)
    font.setPixelSize(_REFERENCE_PX)
    return font


class _Path:
    def __init__(self) -> None:
        self.path = QPainterPath()

    def rect(self, x: float, y: float, width: float, height: float) -> None:
        self.path.addRect(QRectF(x, y, width, height))


class QtCanvas:
    """The ReportLab canvas calls our renderers make, painted with a QPainter.

    Units are PDF points with y upwards, mapped onto the device at its own resolution.
    Text is drawn as glyph outlines stretched to the exact width ReportLab measured, so a
    line that fits its box in the PDF fits it on paper too, whatever font the PC has.
    """

    def __init__(self, painter: QPainter, page_height: float, dots_per_point: float,
                 new_page: Callable[[], object]) -> None:  # fmt: skip
        self._painter = painter
        self._new_page = new_page
        self._page_pending = False
        self._transform = QTransform(
            dots_per_point, 0, 0, -dots_per_point, 0, page_height * dots_per_point
        )
        self._fill = QColor("black")
        self._stroke = QColor("black")
        self._line_width = 1.0
        self._dash: tuple[float, ...] = ()
        self._font_name = "Helvetica"
        self._font_size = 12.0
        self._fonts: dict[str, QFont] = {}
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setTransform(self._transform)
        self.pages = 0

    def _ready(self) -> QPainter:
        if self._page_pending:
            self._new_page()
            self._painter.setTransform(self._transform)
            self._page_pending = False
        return self._painter

    def setTitle(self, title: str) -> None:  # ReportLab's method names, kept as they are
        pass

    def setAuthor(self, author: str) -> None:
        pass

    def setFont(self, name: str, size: float) -> None:
        self._font_name, self._font_size = name, size

    def setFillColor(self, colour: Any) -> None:
        self._fill = QColor.fromRgbF(colour.red, colour.green, colour.blue)

    def setStrokeColor(self, colour: Any) -> None:
        self._stroke = QColor.fromRgbF(colour.red, colour.green, colour.blue)

    def setLineWidth(self, width: float) -> None:
        self._line_width = width

    def setDash(self, *pattern: float) -> None:
        self._dash = tuple(pattern)

    def _pen(self) -> QPen:
        pen = QPen(self._stroke)
        pen.setWidthF(self._line_width)
        if self._dash:
            pen.setDashPattern([max(v / max(self._line_width, 0.01), 0.1) for v in self._dash])
        return pen

    def _draw(self, path: QPainterPath, stroke: int, fill: int) -> None:
        painter = self._ready()
        painter.setPen(self._pen() if stroke else QPen(QColor(0, 0, 0, 0)))
        painter.setBrush(QBrush(self._fill) if fill else QBrush())
        painter.drawPath(path)

    def rect(self, x: float, y: float, width: float, height: float, stroke: int = 1,
             fill: int = 0) -> None:  # fmt: skip
        path = QPainterPath()
        path.addRect(QRectF(x, y, width, height))
        self._draw(path, stroke, fill)

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        path = QPainterPath()
        path.moveTo(x1, y1)
        path.lineTo(x2, y2)
        self._draw(path, 1, 0)

    def beginPath(self) -> _Path:
        return _Path()

    def drawPath(self, path: _Path, stroke: int = 1, fill: int = 0) -> None:
        self._draw(path.path, stroke, fill)

    def drawString(self, x: float, y: float, text: str) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        if not text:
            return
        font = self._fonts.get(self._font_name)
        if font is None:
            font = self._fonts[self._font_name] = _qt_font(self._font_name)
        shown = text if scripts.standard_only(text) else f"{_LEFT_TO_RIGHT}{text}{_POP}"
        outline = QPainterPath()
        outline.addText(0, 0, font, shown)
        advance = QFontMetricsF(font).horizontalAdvance(shown) or 1.0
        width = stringWidth(text, self._font_name, self._font_size)
        painter = self._ready()
        painter.save()
        painter.translate(x, y)
        painter.scale(width / advance, -self._font_size / _REFERENCE_PX)
        painter.setPen(QPen(QColor(0, 0, 0, 0)))
        painter.setBrush(QBrush(self._fill))
        painter.drawPath(outline)
        painter.restore()

    def drawCentredString(self, x: float, y: float, text: str) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.drawString(x - stringWidth(text, self._font_name, self._font_size) / 2, y, text)

    def showPage(self) -> None:
        self.pages += 1
        self._page_pending = True


def paint_on_printer(document: PrintDocument, printer: QPrinter) -> int:
    """Paint every page of `document` on `printer`; returns the number of pages."""
    printer.setFullPage(True)
    printer.setDocName(document.title)
    painter = QPainter()
    if not painter.begin(printer):
        raise ServiceError(
            "The printer did not accept the job. Check that it is on and has paper, or save "
            "as PDF instead."
        )
    try:
        canvas = QtCanvas(painter, document.page_size[1], printer.resolution() / 72.0,
                          printer.newPage)  # fmt: skip
        document.paint(canvas)
        return canvas.pages
    finally:
        painter.end()


PRINTING_FAILED = "Printing failed. Try again, or save as PDF; the details are in the log."


class DocumentPrinter(QObject):
    """Prints or saves documents on a worker thread and reports back in words."""

    done = Signal(str)  # what happened, for the screen's status line
    failed = Signal(str)  # why it did not happen, and what to do

    def __init__(self, settings: WorkstationSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._ops = Operations(self, name="printing")  # one job at a time
        self._printers: list[QPrinter] = []

    def _printer(self, choose: bool, parent: QWidget | None) -> QPrinter | None:
        names = QPrinterInfo.availablePrinterNames()
        if not names:
            self.failed.emit(
                "No printer is set up on this PC. Save as PDF instead, or ask IT to add one."
            )
            return None
        info = QPrinterInfo.printerInfo(self.settings.printer) if self.settings.printer else None
        if info is None or info.isNull():
            info = QPrinterInfo.defaultPrinter()
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        if choose or not self.settings.silent_print:
            dialog = QPrintDialog(printer, parent)
            dialog.setObjectName("printDialog")
            if dialog.exec() != QPrintDialog.DialogCode.Accepted:
                return None
        return printer

    def print_document(
        self, make: Callable[[], PrintDocument], *, choose: bool = False,
        parent: QWidget | None = None, then: Callable[[], object] | None = None,
    ) -> bool:  # fmt: skip
        """Print what `make` renders; False when there is no printer or staff cancelled.

        `then` runs on the GUI thread once the pages reached the printer (never when the
        job failed): the straps' print queue is told only of prints that happened.
        """
        printer = self._printer(choose, parent)
        if printer is None:
            return False
        self.print_to(make, printer, then=then)
        return True

    def print_to(
        self, make: Callable[[], PrintDocument], printer: QPrinter,
        then: Callable[[], object] | None = None,
    ) -> None:  # fmt: skip
        """Render and paint on `printer` off the GUI thread (a PDF-file printer in tests)."""
        self._printers.append(printer)

        def work() -> str:
            try:
                document = make()
                pages = paint_on_printer(document, printer)
            finally:
                self._printers.remove(printer)
            name = printer.printerName() or printer.outputFileName() or "the printer"
            return f"Sent {document.title} ({pages} page{'s' * (pages != 1)}) to {name}."

        self._start(work, "printing", then)

    def save_pdf(
        self, make: Callable[[], PrintDocument], path: Path,
        then: Callable[[], object] | None = None,
    ) -> None:  # fmt: skip
        """Render to a PDF file (owner-only: it names a patron) off the GUI thread; `then`
        runs on the GUI thread once the file is written."""

        def work() -> str:
            document = make()
            try:
                write_owner_only(path, document.pdf())  # slips and straps name patrons
            except OSError as exc:
                raise ServiceError(
                    f"The file could not be written: {exc.strerror or exc}."
                ) from exc
            return f"Saved {document.title} to {path}."

        self._start(work, "saving a PDF", then)

    def _start(
        self, work: Callable[[], str], name: str, then: Callable[[], object] | None = None
    ) -> None:
        def finished(text: str) -> None:
            self.done.emit(text)
            if then is not None:
                then()

        self._ops.run(work, on_done=finished, on_error=self._refused, name=name)

    def _refused(self, error: ServiceError) -> None:
        # A printing problem never takes the desk down; the runner logged anything unforeseen.
        self.failed.emit(PRINTING_FAILED if error.code == "unexpected" else error.message)

    @property
    def busy(self) -> bool:
        return self._ops.busy

    def wait(self, milliseconds: int = 30000) -> bool:
        """Block until queued jobs end (closing the screen); their answers follow as events."""
        return self._ops.wait(milliseconds)
