"""Making text fit a printed box: shorten, wrap, shrink. Nothing ever runs past its box.

The straps use ReportLab's built-in Helvetica and Courier (no font file to ship or embed,
which keeps one strap PDF within a few milliseconds). Those fonts cover Western European
letters; anything else is spelled with the nearest plain letter rather than a blank box.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "…"
_NEAREST = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "Ŧ": "T",
        "ŧ": "t",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "\u00a0": " ",
    }
)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=8192)
def printable(text: str) -> str:
    """`text` with every character the standard PDF fonts can draw (WinAnsi)."""
    text = " ".join(text.translate(_NEAREST).split())
    if all(_encodable(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if _encodable(ch):
            out.append(ch)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(_encodable(c) for c in plain) else "?")
    return "".join(out)


@lru_cache(maxsize=8192)
def width(text: str, font: str, size: float) -> float:
    return float(stringWidth(text, font, size))


@lru_cache(maxsize=4096)
def shorten(text: str, font: str, size: float, max_width: float) -> str:
    """`text` itself when it fits, else its longest prefix that fits with an ellipsis."""
    text = printable(text)
    if width(text, font, size) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:  # longest prefix whose shortened form still fits
        middle = (low + high + 1) // 2
        if width(text[:middle].rstrip() + ELLIPSIS, font, size) <= max_width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip(" ,;:-") + ELLIPSIS if low else ""


def shorten_keeping_digits(text: str, font: str, size: float, max_width: float) -> str:
    """Like `shorten`, but a trailing number (the last four of a campus ID) always stays."""
    head, _, tail = printable(text).rpartition(" ")
    if not head or not tail.isdigit() or width(text, font, size) <= max_width:
        return shorten(text, font, size, max_width)
    room = max_width - width(" " + tail, font, size)
    return f"{shorten(head, font, size, room)} {tail}"


@lru_cache(maxsize=4096)
def wrap(text: str, font: str, size: float, max_width: float, max_lines: int) -> tuple[str, ...]:
    """Word-wrap into at most `max_lines`; the last line is shortened when text is left over."""
    words = printable(text).split()
    lines: list[str] = []
    current = ""
    index = 0
    while index < len(words):
        word = words[index]
        candidate = f"{current} {word}" if current else word
        if width(candidate, font, size) <= max_width:
            current = candidate
            index += 1
            continue
        if not current:  # a single word wider than the box: cut it
            current = shorten(word, font, size, max_width)
            index += 1
        lines.append(current)
        current = ""
        if len(lines) == max_lines:
            break
    if current and len(lines) < max_lines:
        lines.append(current)
    if index < len(words) and lines:
        rest = " ".join([lines[-1], *words[index:]])
        lines[-1] = shorten(rest, font, size, max_width)
        if not lines[-1].endswith(ELLIPSIS):
            lines[-1] = shorten(lines[-1] + " " + ELLIPSIS, font, size, max_width)
    return tuple(lines)


@lru_cache(maxsize=4096)
def largest_size(text: str, font: str, max_size: float, min_size: float, max_width: float) -> float:
    """The largest size from `max_size` down to `min_size` (half points) at which text fits."""
    size = max_size
    text = printable(text)
    while size > min_size and width(text, font, size) > max_width:
        size -= 0.5
    return size
