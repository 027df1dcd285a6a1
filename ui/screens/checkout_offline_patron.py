"""Check Out without the database: the patron as staff typed them, checked for form only.

Names cannot be searched offline, so only what names one patron on its own is taken: a
campus ID, or the barcode on the patron's card.
"""

from __future__ import annotations

import re

from app.library.errors import InvalidInput
from app.people.patron_ids import parse_patron_id

_CARD_BARCODE = re.compile(r"^(?=.*\d)[A-Za-z0-9-]{5,32}$")  # a name has no digits


def offline_patron_reference(text: str) -> str:
    """The patron as typed, when the database cannot look them up: campus ID or card barcode."""
    try:
        return parse_patron_id(text)
    except InvalidInput:
        value = text.strip()
        if _CARD_BARCODE.match(value):
            return value
        raise InvalidInput(
            "The database cannot be reached, so patrons cannot be searched by name. Type the "
            "campus ID (like T00123456) or scan the barcode on the patron's card."
        ) from None
