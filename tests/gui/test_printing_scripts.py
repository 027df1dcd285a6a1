"""Straps sent to a printer through Qt use the same shipped fonts as the PDF, in every script."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter

from app.library.library_settings import LibrarySettings
from app.printing import scripts
from app.printing.slips import Slip, SlipKind, slip_document
from app.printing.straps import StrapContent, StrapStyle, strap_document
from app.workstation.config import WorkstationSettings
from ui.printing import DocumentPrinter, QtCanvas, _qt_font

pytestmark = pytest.mark.gui
DPI = 100


def test_shipped_fonts_load_into_qt_by_their_own_family(qapp: object) -> None:
    assert _qt_font("DejaVuSans").family() == "DejaVu Sans"
    assert _qt_font("DejaVuSans-Bold").bold()
    assert "WenQuanYi" in _qt_font("WenQuanYiMicroHei").family()


@pytest.mark.parametrize("text", ["عبد الرحمن, م.", "כהן, ד.", "王, 小明", "山田, 太郎", "김, 민준",
                                  "ΠΑΠΑΔΟΠΟΥΛΟΣ", "ДОСТОЕВСКИЙ", "NGUYỄN"])  # fmt: skip
def test_every_letter_sent_to_the_printer_has_a_glyph_in_its_qt_font(
    qapp: object, text: str
) -> None:
    for style in (scripts.REGULAR, scripts.BOLD):
        for piece, font_name in scripts.runs(text, style):
            metrics = QFontMetricsF(_qt_font(font_name))
            missing = [ch for ch in piece if ch != " " and not metrics.inFontUcs4(ord(ch))]
            assert missing == [], (font_name, missing)


@pytest.mark.parametrize("patron", ["عبد الرحمن, م.", "王, 小明", "ДОСТОЕВСКИЙ, Ф."])
def test_a_strap_in_another_script_paints_its_name_on_the_page(qapp: object, patron: str) -> None:
    strap = StrapContent("ILL00000017", "20261004", "Title", patron, "METRO", "Metro Campus",
                         date(2027, 1, 4), "OKT")  # fmt: skip
    document = strap_document([strap], StrapStyle.from_settings(LibrarySettings()), "letter3",
                              back_side=False)  # fmt: skip
    width, height = (round(v * DPI / 72) for v in document.page_size)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    canvas = QtCanvas(painter, document.page_size[1], DPI / 72, lambda: None)
    document.paint(canvas)
    painter.end()
    # The "For" line sits 3.2 to 3.55 inches from the top of the strap on letter3.
    top, bottom = round(3.2 * DPI), round(3.55 * DPI)
    dark = sum(
        1
        for y in range(top, bottom)
        for x in range(0, width // 3)
        if QColor(image.pixel(x, y)).lightness() < 100
    )
    assert dark > 150, dark


@pytest.mark.skipif(os.name != "posix", reason="Windows has no owner-only mode bits")
def test_a_slip_saved_as_pdf_is_readable_by_its_owner_only(qapp: object, tmp_path: Path) -> None:
    slip = Slip(SlipKind.HOLD, "Invisible Cities", "ILL00000017", date(2027, 1, 4),
                patron_label="כהן, ד.", pickup_by=date(2027, 1, 14))  # fmt: skip
    printer = DocumentPrinter(WorkstationSettings())
    done: list[str] = []
    printer.done.connect(done.append)
    path = tmp_path / "hold.pdf"
    printer.save_pdf(lambda: slip_document(slip), path)
    assert printer.wait()
    QCoreApplication.processEvents()
    assert done and str(path) in done[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"%PDF")
