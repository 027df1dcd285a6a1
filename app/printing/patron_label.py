"""How printed paper names a patron, per the library's privacy setting."""

from __future__ import annotations

from app.library.errors import InvalidInput

PATRON_DISPLAYS = ("surname_initial", "surname_last4", "full_name")


def patron_label(first_name: str, last_name: str, campus_id: str, display: str) -> str:
    """How a strap names its patron, per the library's privacy setting.

    surname_initial: "MÜLLER, R."; surname_last4: "MÜLLER 3456" (last four digits of the
    campus ID); full_name: "MÜLLER, Renée". Surname first, because hold shelves file by it.
    """
    surname = (last_name or first_name).strip().upper()
    first = first_name.strip() if last_name else ""
    if display == "surname_initial":
        return f"{surname}, {first[0]}." if first else surname
    if display == "surname_last4":
        digits = "".join(ch for ch in campus_id if ch.isdigit())
        return f"{surname} {digits[-4:]}" if digits else surname
    if display == "full_name":
        return f"{surname}, {first}" if first else surname
    raise InvalidInput(
        f"The library setting patron_display is '{display}'; use one of "
        f"{', '.join(PATRON_DISPLAYS)}."
    )
