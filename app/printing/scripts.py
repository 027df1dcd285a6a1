"""Which font prints which letters, and in what order: every writing system on paper.

Straps and slips name patrons and titles from anywhere: Greek, Cyrillic, Hebrew, Arabic,
Chinese, Japanese, Korean. A line written only in Western European letters keeps ReportLab's
built-in Helvetica (nothing to embed, which keeps a strap within a few milliseconds). Any
other line is printed with fonts shipped in `resources/fonts/` and embedded (as subsets) in
the PDF, chosen per run of text by the characters it contains:

- DejaVu Sans (regular and bold): Latin with every accent, Greek, Cyrillic, Hebrew, Arabic;
- WenQuanYi Micro Hei: Chinese (simplified and traditional), Japanese kana, Korean hangul.

Right-to-left text (Hebrew, Arabic) is put in visual order with the Unicode bidirectional
algorithm (brackets mirrored), and Arabic letters take their joined forms first, so the
PDF shows a word as a reader expects it. Callers keep text in its logical order: fitting
(`app.printing.text_fit`) cuts and wraps logically, and only drawing turns it visual.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parents[2] / "resources" / "fonts"
REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"


@dataclass(frozen=True)
class ShippedFont:
    """A font file in resources/fonts/, registered with ReportLab under `name` on first use."""

    name: str
    file: str
    subfont: int = 0  # the face inside a TrueType collection (.ttc)

    @property
    def path(self) -> Path:
        return FONT_DIR / self.file


WORLD_REGULAR = ShippedFont("DejaVuSans", "DejaVuSans.ttf")
WORLD_BOLD = ShippedFont("DejaVuSans-Bold", "DejaVuSans-Bold.ttf")
CJK = ShippedFont("WenQuanYiMicroHei", "wqy-microhei.ttc")
SHIPPED_FONTS = (WORLD_REGULAR, WORLD_BOLD, CJK)
LICENCE_FILES = ("LICENSE-DejaVu.txt", "LICENSE-WenQuanYi.txt")
_WORLD = {REGULAR: WORLD_REGULAR, BOLD: WORLD_BOLD}
_BY_NAME = {font.name: font for font in SHIPPED_FONTS}
_lock = threading.Lock()  # registration happens once, from whichever thread prints first

# Code-point ranges printed with the CJK font even when another font has a glyph there.
_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul jamo
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK punctuation, hiragana, katakana
    (0x3100, 0x31FF),  # bopomofo, Hangul compatibility jamo, kanbun, katakana extension
    (0x3200, 0x9FFF),  # enclosed CJK, CJK unified ideographs and extension A
    (0xA960, 0xA97F),  # Hangul jamo extended-A
    (0xAC00, 0xD7FF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width and half-width forms
    (0x20000, 0x3FFFF),  # CJK extensions B onwards
)


def missing_files() -> list[str]:
    """Font and licence files the printing needs but cannot find (the self-check asks)."""
    wanted = [font.file for font in SHIPPED_FONTS] + list(LICENCE_FILES)
    return [name for name in wanted if not (FONT_DIR / name).is_file()]


def font_file(name: str) -> Path | None:
    """The file behind a font name used on paper; None for ReportLab's built-in fonts."""
    font = _BY_NAME.get(name)
    return font.path if font else None


@cache
def _registered(font: ShippedFont) -> frozenset[int]:
    """Register `font` with ReportLab (once) and return the code points it has glyphs for."""
    with _lock:
        if font.name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(font.name, str(font.path), subfontIndex=font.subfont))
            # Its own family too, so that Paragraph markup (`<font name=...>`) may name it.
            name = font.name
            pdfmetrics.registerFontFamily(
                name, normal=name, bold=name, italic=name, boldItalic=name
            )
        face: Any = pdfmetrics.getFont(font.name).face
        return frozenset(face.charToGlyph)


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK_RANGES)


@lru_cache(maxsize=65536)
def _standard(ch: str) -> bool:
    """True when the built-in fonts (WinAnsi encoding) can draw `ch`."""
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=65536)
def covered(ch: str) -> bool:
    """True when some font we print with has a glyph for `ch`."""
    if _standard(ch):
        return True
    code = ord(ch)
    if _is_cjk(code):
        return code in _registered(CJK)
    return code in _registered(WORLD_REGULAR) or code in _registered(CJK)


def standard_only(text: str) -> bool:
    """True when every character of `text` prints with the built-in fonts."""
    return all(_standard(ch) for ch in text)


def _rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _arabic(text: str) -> bool:
    return any(0x0600 <= (code := ord(ch)) <= 0x08FF or 0xFB50 <= code <= 0xFEFF for ch in text)


def right_to_left(text: str) -> bool:
    """True when the line reads right to left (its first strong letter is Hebrew or Arabic)."""
    if standard_only(text):
        return False
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def paragraph_font(text: str, font: str) -> str:
    """The font for every line of a wrapped text: a title with any letter outside the
    built-in fonts prints all its Latin lines in the shipped font too, so its lines match."""
    if standard_only(text):
        return font
    world = _WORLD.get(font, WORLD_BOLD if "Bold" in font else WORLD_REGULAR)
    _registered(world)
    return world.name


@lru_cache(maxsize=4096)
def visual(text: str, base: str | None = None) -> str:
    """`text` as it is laid out left to right on paper: Arabic joined, right-to-left reversed.

    `base` is the direction of the paragraph the line belongs to ("L" or "R"); without it,
    the line's own first strong letter decides.
    """
    if base != "R" and (standard_only(text) or not _rtl(text)):
        return text
    from bidi.algorithm import get_display  # the algorithm that mirrors brackets

    shaped = str(_reshaper().reshape(text)) if _arabic(text) else text
    return str(get_display(shaped, base_dir=base))


@lru_cache(maxsize=1)
def _reshaper() -> Any:
    """Arabic joining, leaving out ligatures (ﷲ, ﷺ) the shipped fonts have no glyph for."""
    from arabic_reshaper import ArabicReshaper
    from arabic_reshaper.ligatures import LIGATURES

    glyphs = _registered(WORLD_REGULAR) & _registered(WORLD_BOLD)
    missing = {
        name: False
        for name, (_, forms) in LIGATURES
        if any(ord(ch) not in glyphs for form in forms for ch in form)
    }
    return ArabicReshaper(configuration=missing)


def _font_for(ch: str, world: ShippedFont) -> str | None:
    """The shipped font for one character; None for a neutral (space) that joins any run."""
    if ch == " ":
        return None
    code = ord(ch)
    if _is_cjk(code):
        _registered(CJK)  # a run's font is ready to draw with, whichever letters came first
        return CJK.name
    if code in _registered(world) or code not in _registered(CJK):
        return world.name
    return CJK.name


@lru_cache(maxsize=8192)
def runs(text: str, font: str, base: str | None = None) -> tuple[tuple[str, str], ...]:
    """One line as (text, font) pieces from left to right, ready for `drawString`.

    `font` is the style the layout asks for (Helvetica or Helvetica-Bold); a line outside
    the built-in fonts' letters prints in the shipped font of the same weight, its CJK
    characters in the CJK font. `base`: the paragraph's direction (see `visual`).
    """
    if standard_only(text):
        return ((visual(text, base), font),)
    world = _WORLD.get(font, WORLD_BOLD if "Bold" in font else WORLD_REGULAR)
    pieces: list[tuple[str, str]] = []
    current: list[str] = []
    current_font: str | None = None
    for ch in visual(text, base):
        chosen = _font_for(ch, world)
        if chosen is None or chosen == current_font or current_font is None:
            current.append(ch)
            current_font = current_font or chosen
            continue
        pieces.append(("".join(current), current_font))
        current, current_font = [ch], chosen
    if current:
        pieces.append(("".join(current), current_font or world.name))
    return tuple(pieces)


@lru_cache(maxsize=8192)
def width(text: str, font: str, size: float) -> float:
    """Printed width of one line in points, whichever fonts its runs need."""
    return float(sum(pdfmetrics.stringWidth(piece, name, size) for piece, name in runs(text, font)))


def draw(canvas: Any, x: float, y: float, text: str, font: str, size: float,
         *, align: str = "left", base: str | None = None) -> None:  # fmt: skip
    """Draw one line at baseline `y`: from `x` ("left"), centred on it, or ending at it.

    `base`: the direction of the paragraph the line is part of (see `visual`)."""
    pieces = runs(text, font, base)
    if align != "left":
        total = width(text, font, size)
        x -= total / 2 if align == "centre" else total
    for piece, name in pieces:
        canvas.setFont(name, size)
        canvas.drawString(x, y, piece)
        if len(pieces) > 1:
            x += pdfmetrics.stringWidth(piece, name, size)
