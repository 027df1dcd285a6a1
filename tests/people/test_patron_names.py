"""The one way a patron is named on shelves, straps, slips, banners and office lists."""

from __future__ import annotations

import pytest

from app.library.errors import InvalidInput
from app.people.patron_names import ends_sentence, patron_label


@pytest.mark.parametrize(
    ("first", "last", "display", "shown"),
    [
        ("Renée", "Müller", "surname_initial", "MÜLLER, R."),
        ("Renée", "Müller", "surname_last4", "MÜLLER 3456"),
        ("Renée", "Müller", "full_name", "MÜLLER, Renée"),
        ("", "ILL", "surname_last4", "ILL 3456"),
        ("Cher", "", "surname_initial", "CHER"),
        ("  Zoë ", " Fontaine  Ward ", "full_name", "FONTAINE WARD, Zoë"),
    ],
)
def test_the_setting_chooses_how_much_of_the_name_shows(
    first: str, last: str, display: str, shown: str
) -> None:
    assert patron_label(first, last, "T00123456", display) == shown


@pytest.mark.parametrize(
    ("first", "display", "shown"),
    [
        ("G.", "surname_initial", "O'NEIL, G."),
        ("G..", "surname_initial", "O'NEIL, G."),
        ("G..", "full_name", "O'NEIL, G."),
        ("G. . Mary", "full_name", "O'NEIL, G. Mary"),
        (".G", "surname_initial", "O'NEIL, G."),
        (".", "surname_initial", "O'NEIL"),
    ],
)
def test_a_name_never_shows_two_full_stops_in_a_row(first: str, display: str, shown: str) -> None:
    assert patron_label(first, "O'Neil", "T00123456", display) == shown


def test_a_sentence_ending_in_a_name_gets_one_full_stop() -> None:
    name = patron_label("G.", "O'Neil", "T00123456", "surname_initial")
    assert ends_sentence(f"It belongs on the hold shelf for {name}") == (
        "It belongs on the hold shelf for O'NEIL, G."
    )
    assert ends_sentence("Send it back to SE") == "Send it back to SE."


def test_an_unknown_setting_says_which_ones_exist() -> None:
    with pytest.raises(InvalidInput, match="surname_initial, surname_last4, full_name"):
        patron_label("Renée", "Müller", "T00123456", "everything")
