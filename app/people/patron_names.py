"""How a patron is named on hold shelves, straps, slips, banners and office lists.

One function, by the library's `patron_display` privacy setting, so a shelf, the strap on
the item and the check-in banner always name a patron the same way.
"""

from __future__ import annotations

import re

from app.library.errors import InvalidInput

PATRON_DISPLAYS = ("surname_initial", "surname_last4", "full_name")
_RUN_OF_STOPS = re.compile(r"\.(\s*\.)+")


def _tidy(text: str) -> str:
    """Spaces collapsed and a run of full stops made one (a typed "G.." stays "G.")."""
    spaced = " ".join(text.split())
    # Most names have at most one full stop: an office list names thousands of patrons.
    return _RUN_OF_STOPS.sub(".", spaced) if spaced.count(".") > 1 else spaced


def _initial(first: str) -> str:
    """The first letter of the first name, as the shelf shows it ("G." for "G." or "Gail")."""
    if first[:1].isalnum():
        return f"{first[0]}."
    letter = next((ch for ch in first if ch.isalnum()), "")
    return f"{letter}." if letter else ""


def patron_label(first_name: str, last_name: str, campus_id: str, display: str) -> str:
    """How shelves, straps and slips name a patron, per the library's privacy setting.

    surname_initial: "MÜLLER, R."; surname_last4: "MÜLLER 3456" (last four digits of the
    campus ID); full_name: "MÜLLER, Renée". Surname first, because hold shelves file by it.
    A name typed with stray full stops never shows two in a row ("O'NEIL, G.", not "G..").
    """
    first_name, last_name = _tidy(first_name or ""), _tidy(last_name or "")
    surname = (last_name or first_name).upper()
    first = first_name if last_name else ""
    if display == "surname_initial":
        initial = _initial(first)
        return f"{surname}, {initial}" if initial else surname
    if display == "surname_last4":
        digits = "".join(ch for ch in campus_id if ch.isdigit())
        return f"{surname} {digits[-4:]}" if digits else surname
    if display == "full_name":
        return f"{surname}, {first}" if first else surname
    raise InvalidInput(
        f"The library setting patron_display is '{display}'; use one of "
        f"{', '.join(PATRON_DISPLAYS)}."
    )


def ends_sentence(text: str) -> str:
    """`text` closed with a full stop, unless a name already ends with one."""
    return text if text.endswith(".") else f"{text}."
