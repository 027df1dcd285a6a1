"""Slips for check-in results: hold, transit and the yellow return slip.

The slip is drawn by `app.printing.slips` and printed through `ui.printing`, both off the
GUI thread. A slip printed automatically after a scan never opens a print dialog (a
scanner's Enter would answer it): without silent printing, or without a printer, the slip
is saved as a PDF instead and the screen says where.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import QWidget

from app.desk.checkin import CheckInResult
from app.desk.routing import SlipKind
from app.workstation import config
from ui.desk_session import DeskSession
from ui.printing import DocumentPrinter

if TYPE_CHECKING:
    from app.printing.document import PrintDocument


def slip_directory() -> Path:
    return config.data_dir() / "slips"


class SlipPrinter(QObject):
    """Prints a result's slip, or saves it as a PDF; reports back in words."""

    message = Signal(str)  # what happened to the last slip, or why it did not print

    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.printer = DocumentPrinter(session.settings, self)
        self.printer.done.connect(self.message)
        self.printer.failed.connect(self.message)
        self.last_path: Path | None = None

    def document(self, result: CheckInResult) -> PrintDocument:
        from app.printing import slips  # ReportLab: loaded with the first slip

        assert result.slip_kind is not None
        kind = {
            SlipKind.HOLD: slips.SlipKind.HOLD,
            SlipKind.TRANSIT: slips.SlipKind.TRANSIT,
            SlipKind.RETURN: slips.SlipKind.RETURN,
        }[result.slip_kind]
        slip = slips.Slip(
            kind=kind,
            title=result.title or "",
            barcode=result.item_barcode or result.barcode,
            printed_on=self.session.rt.clock.today(),
            patron_label=result.patron_name or "",
            pickup_by=result.pickup_by,
            destination_code=result.destination or "",
            destination_name=result.destination_name or "",
            from_branch=self.session.branch_code,
        )
        return slips.slip_document(slip)

    def print_for(
        self, result: CheckInResult, *, automatic: bool, parent: QWidget | None = None
    ) -> str:
        """Start printing (or saving) the slip; returns a line saying what is under way."""
        if result.slip_kind is None:
            return "This scan has no slip to print."

        def make() -> PrintDocument:
            return self.document(result)

        silent = self.session.settings.silent_print
        if not QPrinterInfo.availablePrinterNames() or (automatic and not silent):
            path = self._pdf_path(result)
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                return f"The slip could not be saved ({exc}). Write it by hand."
            self.last_path = path
            self.printer.save_pdf(make, path)
            why = (
                "no printer here"
                if not QPrinterInfo.availablePrinterNames()
                else ("automatic slips print only with silent printing on")
            )
            return f"Saving the slip as a PDF ({why})…"
        if self.printer.print_document(make, parent=parent):
            return "Printing the slip…"
        return "The slip was not printed."

    def _pdf_path(self, result: CheckInResult) -> Path:
        safe = re.sub(r"[^A-Za-z0-9-]", "_", result.item_barcode or result.barcode)[:64]
        kind = result.slip_kind.value if result.slip_kind else "slip"
        stamp = result.at.strftime("%Y%m%d-%H%M%S")
        return slip_directory() / f"{stamp}-{safe}-{kind}.pdf"
