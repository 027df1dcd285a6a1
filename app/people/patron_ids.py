"""Parsing of the identifiers people type or scan for patrons and requests."""

from __future__ import annotations

import re

from app.library.errors import InvalidInput

_PATRON_ID = re.compile(r"^[A-Za-z]?\d{4,12}$")
_OCLC_SYMBOL = re.compile(r"^[A-Z0-9]{3,5}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_patron_id(text: str) -> str:
    """A campus ID such as T00123456 (upper-cased)."""
    value = text.strip().upper()
    if not value:
        raise InvalidInput("Type or scan the patron's campus ID (like T00123456).")
    if not _PATRON_ID.match(value):
        raise InvalidInput(
            f"'{text.strip()[:40]}' is not a campus ID (a letter and digits, like T00123456)."
        )
    return value


def parse_oclc_symbol(text: str) -> str:
    value = text.strip().upper()
    if not value:
        raise InvalidInput("Type the lender's OCLC symbol (3 to 5 letters or digits, like OKT).")
    if not _OCLC_SYMBOL.match(value):
        raise InvalidInput(
            f"'{value[:40]}' is not an OCLC symbol (3 to 5 letters or digits, like OKT)."
        )
    return value


def parse_email(text: str) -> str:
    value = text.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInput(f"'{value[:60]}' is not an e-mail address.")
    return value.lower()
