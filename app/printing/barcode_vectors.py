"""Code 128 drawn as vector bars on a ReportLab canvas, through a python-barcode writer.

Bars are filled rectangles in the PDF, never a bitmap, so they stay sharp on any printer.
The default module (narrowest bar) is 0.254 mm: exactly 2 dots on a 203 dpi label printer
and 3 dots on a 300 dpi one, so every bar prints at a whole number of dots and a normal
scanner reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from barcode.codex import Code128
from barcode.writer import BaseWriter
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

MODULE_MM = 0.254  # 10 mil
QUIET_MODULES = 10  # Code 128 needs at least 10 modules of white either side
BAR_HEIGHT_MM = 13.0
TEXT_FONT = "Courier-Bold"


@dataclass(frozen=True)
class BarcodeBox:
    """Where a symbol landed, in points: the quiet zones included, the text below excluded."""

    x: float
    y: float  # bottom of the bars
    width: float
    height: float
    bars: tuple[tuple[float, float], ...]  # (left, width) of each dark bar
    text_baseline: float


class ReportLabWriter(BaseWriter):  # type: ignore[misc]
    """Paints python-barcode's modules as one filled path on `canvas`.

    python-barcode measures in millimetres from the top-left of the symbol, y downwards;
    ReportLab measures in points from the bottom-left, y upwards. `left`/`top` place the
    symbol's top-left corner (quiet zone included) on the page.
    """

    def __init__(self, canvas: Any, left: float, top: float, font_size: float) -> None:
        super().__init__(self._start, self._paint_module, self._paint_text, self._finish)
        self._canvas = canvas
        self._left = left
        self._top = top
        self._text_size = font_size
        self._bars: list[tuple[float, float]] = []
        self._bar_bottom = top
        self._baseline = top

    def _start(self, code: list[str]) -> None:
        self._bars = []

    def _paint_module(self, xpos: float, ypos: float, width: float, color: str) -> None:
        if color == self.background:
            return
        left = self._left + xpos * mm
        self._bar_bottom = self._top - (ypos + self.module_height) * mm
        self._bars.append((left, width * mm))

    def _paint_text(self, xpos: float, ypos: float) -> None:
        text = self.human or self.text
        # ypos is the top of the text line; the baseline sits one cap height below it.
        self._baseline = self._top - ypos * mm - self._text_size * 0.62
        self._canvas.setFont(TEXT_FONT, self._text_size)
        self._canvas.drawCentredString(self._left + xpos * mm, self._baseline, text)

    def _finish(self) -> BarcodeBox:
        height = self._top - self._bar_bottom
        if isinstance(self._canvas, Canvas):
            # One literal fill of all bars: the same PDF operators ReportLab would write,
            # without formatting each number through its slow pure-Python float writer.
            rects = " ".join(
                f"{left:.3f} {self._bar_bottom:.3f} {width:.3f} {height:.3f} re"
                for left, width in self._bars
            )
            self._canvas.addLiteral(f"{rects} f")
        else:  # any other canvas (the Qt printer adapter): its own path calls
            path = self._canvas.beginPath()
            for left, width in self._bars:
                path.rect(left, self._bar_bottom, width, height)
            self._canvas.drawPath(path, stroke=0, fill=1)
        first_left = self._bars[0][0]
        last_right = self._bars[-1][0] + self._bars[-1][1]
        quiet = self.quiet_zone * mm
        return BarcodeBox(
            x=first_left - quiet,
            y=self._bar_bottom,
            width=last_right - first_left + 2 * quiet,
            height=self._top - self._bar_bottom,
            bars=tuple(self._bars),
            text_baseline=self._baseline,
        )


@lru_cache(maxsize=4096)
def module_count(value: str) -> int:
    """How many modules wide the symbol for `value` is, quiet zones excluded."""
    return len(Code128(value).build()[0])


def symbol_width(value: str, module_mm: float = MODULE_MM) -> float:
    """Width in points of the whole symbol, quiet zones included."""
    return float((module_count(value) + 2 * QUIET_MODULES) * module_mm * mm)


def draw_code128(
    canvas: Any,
    value: str,
    *,
    centre_x: float,
    top: float,
    module_mm: float = MODULE_MM,
    bar_height_mm: float = BAR_HEIGHT_MM,
    text_size: float = 11.0,
    show_text: bool = True,
) -> BarcodeBox:
    """Draw `value` as Code 128 (its mod-103 check character included) centred on `centre_x`.

    Returns where the bars went, so callers can lay out below it and tests can read it back.
    """
    width = symbol_width(value, module_mm)
    writer = ReportLabWriter(canvas, centre_x - width / 2, top, text_size)
    symbol = Code128(value, writer=writer)
    box: BarcodeBox = symbol.render(
        {
            "module_width": module_mm,
            "module_height": bar_height_mm,
            "quiet_zone": QUIET_MODULES * module_mm,
            "margin_top": 0.0,
            "margin_bottom": 0.0,
            "text_distance": 1.2,
            "font_size": text_size,
            "write_text": show_text,
            "background": "white",
            "foreground": "black",
        }
    )
    return box
