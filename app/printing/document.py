"""A printable document: something that paints pages, and becomes a PDF when asked.

Renderers paint onto a ReportLab canvas. The same painting can target any object with the
few canvas methods they use, which is how the desk prints through Qt with vector bars and
no PDF rasteriser (`ui.printing`), while "save as PDF" and the CLI use ReportLab itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PrintDocument:
    title: str
    page_size: tuple[float, float]  # points
    paint: Callable[[Any], None]  # draws every page, calling showPage() after each
    pages: int

    def pdf(self) -> bytes:
        # ReportLab loads with the first PDF, not with the desk window.
        from reportlab import rl_config
        from reportlab.pdfgen.canvas import Canvas

        # Compressed streams stay binary: ASCII85 only makes them bigger, and without
        # ReportLab's optional C accelerator encoding it costs more than drawing a strap.
        rl_config.useA85 = 0
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=self.page_size, pageCompression=1, invariant=1)
        canvas.setTitle(self.title)
        canvas.setAuthor("ILL Desk")
        self.paint(canvas)
        canvas.save()
        return buffer.getvalue()
