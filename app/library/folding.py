"""Accent- and case-insensitive keys for searching names and titles."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """'Renée  Müller' -> 'renee muller': what a desk worker types without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def name_key(first_name: str, last_name: str) -> str:
    return fold(f"{last_name} {first_name}")
