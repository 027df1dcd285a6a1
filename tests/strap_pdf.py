"""Reading printed PDFs back for tests: text runs with their fonts, and Code 128 bars.

The decoder is our own, from the Code 128 specification's bar patterns (taken from
python-barcode's table) and its mod-103 check character, so a wrong bar anywhere fails.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from barcode.charsets import code128
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.pdfbase.pdfmetrics import stringWidth

_PATTERNS = {pattern: value for value, pattern in enumerate(code128.CODES)}
_STOP = code128.STOP + "11"


@dataclass(frozen=True)
class Run:
    text: str
    x: float
    y: float
    font: str
    size: float

    @property
    def width(self) -> float:
        return float(stringWidth(self.text, registered_name(self.font), self.size))


def registered_name(base_font: str) -> str:
    """The ReportLab name of a PDF font: an embedded subset "AAAAAA+DejaVuSans" is DejaVuSans."""
    name = base_font.rpartition("+")[2]
    head, _, tail = name.rpartition("-")
    if tail.isdigit():  # a face of a font collection: "WenQuanYiMicroHei-0"
        name = head
    return name


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use, by PDF name, and whether its glyphs are inside the file."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        for font in (resources.get_object().get("/Font") or {}).values():  # type: ignore[union-attr]
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[str(font["/BaseFont"]).lstrip("/")] = embedded
    return fonts


def pages(pdf: bytes) -> list[object]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def text_runs(pdf: bytes, page_index: int = 0) -> list[Run]:
    page = PdfReader(io.BytesIO(pdf)).pages[page_index]
    runs: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        text = text.strip("\n")
        if not text.strip() or not font:
            return
        base = str(font.get("/BaseFont", "")).lstrip("/")  # type: ignore[attr-defined]
        x = tm[4] * cm[0] + cm[4]
        y = tm[5] * cm[3] + cm[5]
        runs.append(Run(text, x, y, base, size * tm[0]))

    page.extract_text(visitor_text=visit)
    return runs


def all_text(pdf: bytes, page_index: int = 0) -> str:
    """Every run on the page joined by single spaces (wrapped lines rejoined)."""
    return " ".join(" ".join(r.text.split()) for r in text_runs(pdf, page_index))


def rectangles(pdf: bytes, page_index: int = 0) -> list[tuple[float, float, float, float]]:
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[page_index]
    stream = ContentStream(page.get_contents(), reader)
    return [
        tuple(float(v) for v in operands)  # type: ignore[misc]
        for operands, operator in stream.operations
        if operator == b"re"
    ]


def barcode_bars(
    pdf: bytes, page_index: int = 0, bar_height: float | None = None
) -> list[list[tuple[float, float]]]:
    """Bars of each barcode on the page as (left, width), one list per symbol, left to right.

    Bars of one symbol share their bottom and height; symbols are told apart by that and
    by gaps wider than any quiet zone.
    """
    groups: dict[tuple[float, float], list[tuple[float, float]]] = {}
    for x, y, w, h in rectangles(pdf, page_index):
        if w < 5 and h > 20 and (bar_height is None or abs(h - bar_height) < 0.1):
            groups.setdefault((round(y, 2), round(h, 2)), []).append((x, w))
    symbols: list[list[tuple[float, float]]] = []
    for bars in groups.values():
        bars.sort()
        current = [bars[0]]
        for bar in bars[1:]:
            if bar[0] - (current[-1][0] + current[-1][1]) > 20:
                symbols.append(current)
                current = []
            current.append(bar)
        symbols.append(current)
    return sorted(symbols, key=lambda s: s[0][0])


def _modules(edges: list[tuple[float, float]], module: float) -> str:
    """Bars and spaces as a string of 1s and 0s, each run rounded to whole modules."""
    out = []
    for index, (left, width) in enumerate(edges):
        out.append("1" * round(width / module))
        if index + 1 < len(edges):
            gap = edges[index + 1][0] - (left + width)
            out.append("0" * round(gap / module))
    return "".join(out)


def decode_code128(bars: list[tuple[float, float]]) -> str:
    """Decode one Code 128 symbol from its bars; raises ValueError on any misread."""
    total = bars[-1][0] + bars[-1][1] - bars[0][0]
    elements = 2 * len(bars) - 1
    if (elements - 7) % 6:
        raise ValueError(f"{len(bars)} bars cannot be Code 128")
    count = 11 * ((elements - 7) // 6) + 13
    modules = _modules(bars, total / count)
    if len(modules) != count or not modules.endswith(_STOP):
        raise ValueError(f"bad width or stop pattern: {modules}")
    values = []
    for start in range(0, count - 13, 11):
        pattern = modules[start : start + 11]
        if pattern not in _PATTERNS:
            raise ValueError(f"unknown pattern {pattern}")
        values.append(_PATTERNS[pattern])
    *data, check = values
    if sum([data[0]] + [i * v for i, v in enumerate(data[1:], start=1)]) % 103 != check:
        raise ValueError("check character does not match")
    charset = {103: "A", 104: "B", 105: "C"}[data[0]]
    switches = {
        "A": {99: "C", 100: "B"},
        "B": {99: "C", 101: "A"},
        "C": {100: "B", 101: "A"},
    }
    text = []
    for value in data[1:]:
        if value in switches[charset]:
            charset = switches[charset][value]
        elif charset == "C":
            text.append(f"{value:02d}")
        else:
            text.append(chr(value + 32))
    return "".join(text)


def printed_at(bars: list[tuple[float, float]], dpi: int) -> list[tuple[float, float]]:
    """The bars as a printer of `dpi` lays them down: every edge snapped to a whole dot."""
    dots = []
    for left, width in bars:
        start = round(left * dpi / 72)
        end = round((left + width) * dpi / 72)
        dots.append((float(start), float(end - start)))
    return dots
