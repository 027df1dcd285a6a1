"""Items that come in several pieces (a book with a CD, a two-volume set).

The count is recorded at receipt and said wherever the item changes hands, so a piece left
behind is noticed at the desk rather than by the lender.
"""

from __future__ import annotations


def pieces_line(pieces: int) -> str:
    """What a desk is told about a multi-piece item ("" for a single piece)."""
    if pieces <= 1:
        return ""
    every = "both" if pieces == 2 else f"all {pieces}"
    return f"{pieces} pieces: check that {every} are here."


def pieces_label(pieces: int) -> str:
    """The strap's big words for a multi-piece item ("" for a single piece)."""
    return f"{pieces} PIECES" if pieces > 1 else ""


def pieces_count(pieces: int) -> str:
    """A list's words for a multi-piece item ("2 pieces"; "" for a single piece)."""
    return f"{pieces} pieces" if pieces > 1 else ""


def pieces_to_pull(pieces: int) -> str:
    """What a campus pulling an item from its hold shelf is told ("" for a single piece)."""
    return f"{pieces_count(pieces)}: pull them all" if pieces > 1 else ""


def pieces_suffix(pieces: int) -> str:
    """The count after a title or a barcode in a list (" (2 pieces)"; "" for a single piece)."""
    return f" ({pieces_count(pieces)})" if pieces > 1 else ""
