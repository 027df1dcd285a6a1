"""Slips for check-in results: hold, transit and the yellow return slip.

The PDF comes from `app.printing.slips` (loaded on first use: ReportLab is heavy); this
module only turns a result into a `Slip` and hands the PDF on, never blocking a scan.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtCore import QObject

from app import config
from app.checkin import CheckInResult
from app.routing import SlipKind
from ui.desk_session import DeskSession

log = logging.getLogger(__name__)


def slip_directory() -> Path:
    return config.data_dir() / "slips"


class SlipPrinter(QObject):
    """Makes a result's slip and sends it to the printer, or saves it as a PDF."""

    def __init__(self, session: DeskSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.last_pdf: bytes | None = None
        self.last_path: Path | None = None

    def render(self, result: CheckInResult) -> bytes:
        from app.printing import slips  # ReportLab: loaded when the first slip is made

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
        return slips.render_slip(slip)

    def print_for(self, result: CheckInResult) -> str:
        """Print (or save) the slip; returns one line for the screen saying what happened."""
        if result.slip_kind is None:
            return "This scan has no slip to print."
        try:
            pdf = self.render(result)
        except Exception as exc:  # a slip must never stop the scanning
            log.exception("slip for %s could not be made", result.barcode)
            return f"The slip could not be made ({exc}). Write the destination on a slip by hand."
        self.last_pdf = pdf
        return self._save(pdf, result)

    def _save(self, pdf: bytes, result: CheckInResult) -> str:
        safe = re.sub(r"[^A-Za-z0-9-]", "_", result.item_barcode or result.barcode)[:64]
        kind = result.slip_kind.value if result.slip_kind else "slip"
        stamp = result.at.strftime("%Y%m%d-%H%M%S")
        path = slip_directory() / f"{stamp}-{safe}-{kind}.pdf"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pdf)
        except OSError as exc:
            log.warning("slip could not be saved to %s: %s", path, exc)
            return f"The slip could not be saved ({exc}). Write it by hand."
        self.last_path = path
        return f"{kind.capitalize()} slip saved as {path}"
