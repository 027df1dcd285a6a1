"""Receiving at the ILL office's window: the strap built once, off the GUI thread, and a
picture of it for staff to check before it goes round the book."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtGui import QColor, QImage, QPainter

from app.borrowing.receiving import Received, ReceiveForm, receive_item
from app.library.errors import ServiceError
from app.printing.document import PrintDocument
from ui.desk_session import DeskSession
from ui.printing import QtCanvas

log = logging.getLogger(__name__)
PREVIEW_DOTS_PER_POINT = 2.0
PREVIEW_FAILED = "The strap preview could not be drawn; printing may still work."


@dataclass(frozen=True)
class StrapMade:
    """What one Receive hands back to the screen: the result, its strap, and the preview."""

    received: Received
    document: PrintDocument | None  # None when the strap cannot be made (`problem` says why)
    preview: QImage | None  # None when it could not be drawn (printing may still work)
    problem: str = ""


def receive_and_strap(session: DeskSession, form: ReceiveForm, layout: str) -> StrapMade:
    """Receive, then build the strap once and paint its preview (on the runner's thread)."""
    from app.printing.straps import LAYOUTS, strap_document  # ReportLab: off the GUI thread

    received = receive_item(session.rt, session.actor, form)
    assert received.strap is not None and received.strap_style is not None
    try:
        document = strap_document([received.strap], received.strap_style, layout)
    except ServiceError as exc:  # received all the same; a setting keeps the strap from printing
        return StrapMade(received, None, None, exc.message)
    try:
        preview = first_strap_image(document, LAYOUTS[layout].cells[0].width)
    except Exception:  # the item is received; only the picture is missing
        log.exception("strap preview failed")
        preview = None
    return StrapMade(received, document, preview, "" if preview is not None else PREVIEW_FAILED)


def first_strap_image(document: PrintDocument, crop_width: float) -> QImage:
    """The first strap of page one, painted into an image (works off the GUI thread)."""
    width, height = document.page_size
    image = QImage(
        int(width * PREVIEW_DOTS_PER_POINT),
        int(height * PREVIEW_DOTS_PER_POINT),
        QImage.Format.Format_RGB32,
    )
    image.fill(QColor("white"))
    painter = QPainter(image)
    canvas = QtCanvas(painter, height, PREVIEW_DOTS_PER_POINT, _stop_after_first_page)
    try:
        document.paint(canvas)
    except _FirstPageDone:
        pass
    finally:
        painter.end()
    # Just the first strap: the part staff check before it goes on the book.
    crop = int(min(crop_width, width) * PREVIEW_DOTS_PER_POINT)
    return image.copy(0, 0, crop, image.height())


class _FirstPageDone(Exception):
    """Raised by the preview canvas when page one is painted: the rest is not needed."""


def _stop_after_first_page() -> None:
    raise _FirstPageDone
