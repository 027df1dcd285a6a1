"""Making text fit a printed box: shorten, wrap, shrink. Nothing ever runs past its box.

Widths are measured as the line will print (`app.printing.scripts`): Western European
lines in ReportLab's built-in Helvetica, any other writing system in the shipped fonts,
right-to-left lines in visual order. Text stays in logical order here, so a shortened
Hebrew or Arabic title loses its end, not its beginning. Chinese and Japanese titles wrap
between any two characters, as they have no spaces between words; Korean, which has
them, wraps between words like Latin.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from app.printing import scripts

ELLIPSIS = "…"
_NEAREST = str.maketrans(
    {
        "‐": "-",
        "‑": "-",
        "−": "-",
        "\u00a0": " ",
    }
)
# A wrap token: one Chinese or Japanese character (lines may break between any two), or a
# run of anything else that is not a space (Korean hangul included: it spaces its words).
_CJK = "\u2e80-\u2fdf\u3000-\u312f\u3190-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


@lru_cache(maxsize=8192)
def printable(text: str) -> str:
    """`text` on one line, with every character some shipped font can draw.

    A character no font has (a rare symbol, a private-use code) is spelled with its plain
    letter when it has one, else "?".
    """
    text = " ".join(text.translate(_NEAREST).split())
    if all(scripts.covered(ch) for ch in text):
        return text
    out = []
    for ch in text:
        if scripts.covered(ch):
            out.append(ch)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(scripts.covered(c) for c in plain) else "?")
    return "".join(out)


def width(text: str, font: str, size: float) -> float:
    return scripts.width(text, font, size)


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
    text = printable(text)
    words: list[tuple[str, str]] = []  # (what joins it to the word before, the word)
    end = 0
    for match in _TOKEN.finditer(text):
        words.append((" " if match.start() > end else "", match.group()))
        end = match.end()
    lines: list[str] = []
    current = ""
    index = 0
    while index < len(words):
        joiner, word = words[index]
        candidate = f"{current}{joiner}{word}" if current else word
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
        rest = lines[-1] + "".join(joiner + word for joiner, word in words[index:])
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
