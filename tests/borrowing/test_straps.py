"""Book straps, return straps and slips, read back from the PDF as a printer would see them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.library.errors import InvalidInput
from app.library.library_settings import LibrarySettings
from app.people.patron_names import patron_label
from app.printing.barcode_vectors import BAR_HEIGHT_MM
from app.printing.slips import Slip, SlipKind, render_slip
from app.printing.straps import (
    LAYOUTS,
    ReturnFlag,
    StrapContent,
    StrapStyle,
    render_return_flags,
    render_straps,
)
from tests.strap_pdf import (
    all_text,
    barcode_bars,
    decode_code128,
    pages,
    printed_at,
    rectangles,
    text_runs,
)

MM = 72 / 25.4
STYLE = StrapStyle.from_settings(LibrarySettings())
LONG_TITLE = (
    "Braiding Sweetgrass: Indigenous Wisdom, Scientific Knowledge and the Teachings of "
    "Plants, with a Foreword, Three Appendices, an Index and a Subtitle That Never Ends "
    "Because Catalogue Records Sometimes Do Not"
)


def strap(**changes: object) -> StrapContent:
    base = StrapContent(
        strap_barcode="ILL00000017",
        request_number="20261004",
        title="The Structure of Scientific Revolutions",
        patron_label="MÜLLER, R.",
        pickup_code="METRO",
        pickup_name="Metro Campus Library",
        due_date=date(2026, 12, 14),
        lender_symbol="OKT",
        received_on=date(2026, 11, 2),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def assert_inside_cells(pdf: bytes, layout: str, page_index: int = 0) -> None:
    """Every text run starts and ends inside the content box of the strap it is on."""
    cells = LAYOUTS[layout].cells
    runs = text_runs(pdf, page_index)
    assert runs
    for run in runs:
        cell = next(c for c in cells if c.x <= run.x < c.x + c.width)
        assert run.x >= cell.content_left - 0.01, run
        assert run.x + run.width <= cell.content_right + 0.01, (run, run.width)
        assert cell.y + cell.inset - 0.01 <= run.y <= cell.y + cell.height - cell.inset, run


def test_front_carries_every_field_and_the_barcode_reads_back() -> None:
    pdf = render_straps([strap()], STYLE, "strip")
    text = all_text(pdf)
    for expected in (
        "ILL00000017",
        "ILL request 20261004",
        "PICK UP AT",
        "METRO",
        "Metro Campus Library",
        "DEC 14, 2026",
        "Monday",
        "MÜLLER, R.",
        "The Structure of Scientific Revolutions",
        "OKT",
        "received Nov 2, 2026",
        "DO NOT REMOVE THIS STRAP",
        "Return in person to any campus library desk during open hours.",
        "Renew through your ILL account, not at the desk: only the lender grants renewals.",
        "Example College Library",
    ):
        assert expected in text, expected
    assert "LIBRARY USE ONLY" not in text
    (symbol,) = barcode_bars(pdf)
    assert decode_code128(symbol) == "ILL00000017"


def test_barcode_is_at_the_top_and_printer_sized() -> None:
    pdf = render_straps([strap()], STYLE, "strip")
    (symbol,) = barcode_bars(pdf)
    runs = text_runs(pdf)
    top_of_bars = max(y + h for x, y, w, h in rectangles(pdf) if h > 30 and w < 5)
    assert top_of_bars >= max(r.y for r in runs)  # nothing printed above the bars
    narrowest = min(width for _, width in symbol)
    assert narrowest == pytest.approx(0.254 * MM, abs=0.01)  # 2 dots at 203 dpi, 3 at 300
    assert {round(h / MM, 1) for *_, h in rectangles(pdf) if h > 30 and h < 40} == {BAR_HEIGHT_MM}


@pytest.mark.parametrize("dpi", [203, 300])
def test_barcode_survives_printing_at_label_printer_resolutions(dpi: int) -> None:
    pdf = render_straps(
        [strap(strap_barcode=b) for b in ("ILL00000017", "ILL00000025", "ILL09999998")],
        STYLE,
        "letter3",
    )
    symbols = barcode_bars(pdf)
    assert [decode_code128(printed_at(s, dpi)) for s in symbols] == [
        "ILL00000017",
        "ILL00000025",
        "ILL09999998",
    ]


def test_a_changed_bar_is_caught_by_the_check_character() -> None:
    (symbol,) = barcode_bars(render_straps([strap()], STYLE, "strip"))
    damaged = list(symbol)
    left, width = damaged[5]
    damaged[5] = (left, width * 2)
    with pytest.raises(ValueError):
        decode_code128(damaged)


def test_long_title_is_shortened_and_nothing_overflows() -> None:
    long_one = strap(
        title=LONG_TITLE,
        patron_label="WOLFESCHLEGELSTEINHAUSENBERGERDORFF-MONTGOMERY 3456",
        pickup_code="WS-ILL-ANNEX",
        pickup_name="WorldShare ILL (ILL office at the Northeast Campus Library, room 1.204)",
        author="Kimmerer, Robin Wall, and many many other contributors to this volume",
    )
    for layout in LAYOUTS:
        pdf = render_straps([long_one, strap(in_library_use_only=True)], STYLE, layout)
        assert_inside_cells(pdf, layout)
        assert_inside_cells(pdf, layout, 1)  # the back
        text = all_text(pdf)
        assert "Braiding Sweetgrass" in text
        assert "…" in text
        assert "Never Ends" not in text


def test_surname_last4_keeps_the_digits_when_the_name_is_long() -> None:
    label = patron_label("Zoë", "Fontaine-Łukasiewicz-Montgomery", "T00890123", "surname_last4")
    pdf = render_straps([strap(patron_label=label)], STYLE, "letter3")
    text = all_text(pdf)
    assert "FONTAINE-ŁUKASIEWICZ" in text
    assert "… 0123" in text
    assert_inside_cells(pdf, "letter3")


@pytest.mark.parametrize(
    ("display", "expected", "absent"),
    [
        ("surname_initial", "MÜLLER, R.", "Renée"),
        ("surname_last4", "MÜLLER 3456", "Renée"),
        ("full_name", "MÜLLER, Renée", None),
    ],
)
def test_patron_privacy_setting(display: str, expected: str, absent: str | None) -> None:
    label = patron_label("Renée", "Müller", "T00123456", display)
    assert label == expected
    text = all_text(render_straps([strap(patron_label=label)], STYLE, "strip"))
    assert expected in text
    if absent:
        assert absent not in text


def test_unknown_privacy_setting_is_refused() -> None:
    with pytest.raises(InvalidInput, match="surname_initial"):
        patron_label("Renée", "Müller", "T00123456", "everything")


def test_in_library_use_only_gets_the_flap_with_patron_and_staff_instructions() -> None:
    pdf = render_straps([strap(in_library_use_only=True)], STYLE, "letter3")
    text = all_text(pdf)
    assert "LIBRARY USE ONLY" in text
    assert " ".join(STYLE.flap_patron.split()) in text
    assert " ".join(STYLE.flap_staff.split()) in text
    assert_inside_cells(pdf, "letter3")


def test_back_side_has_the_standing_messages_mirrored_for_duplex() -> None:
    straps = [strap(strap_barcode="ILL00000017", request_number="20261004"), strap(
        strap_barcode="ILL00000025", request_number="20261005")]  # fmt: skip
    pdf = render_straps(straps, STYLE, "letter3")
    assert len(pages(pdf)) == 2
    back = all_text(pdf, 1)
    for message in STYLE.back_messages:
        assert " ".join(message.split()) in back
    runs = text_runs(pdf, 1)
    first = next(r for r in runs if "ILL00000017" in r.text)
    second = next(r for r in runs if "ILL00000025" in r.text)
    cells = LAYOUTS["letter3"].cells
    assert first.x >= cells[2].x  # strap 1's back lies behind it after a long-edge flip
    assert cells[1].x <= second.x < cells[2].x


def test_letter3_puts_three_straps_on_a_sheet() -> None:
    straps = [
        strap(strap_barcode=f"ILL0000{n:03d}0", request_number=f"2026{n:04d}") for n in range(4)
    ]
    pdf = render_straps(straps, STYLE, "letter3")
    assert len(pages(pdf)) == 4  # two sheets, front and back
    assert len(barcode_bars(pdf, 0)) == 3
    assert len(barcode_bars(pdf, 2)) == 1


def test_library_name_colours_and_messages_come_from_settings() -> None:
    settings = replace(
        LibrarySettings(),
        library_name="Lone Star College Libraries",
        strap_colour="#7A0019",
        strap_messages=("Bring it back to any Lone Star desk.",),
        strap_keep_notice="KEEP THIS BAND ON",
    )
    pdf = render_straps([strap()], StrapStyle.from_settings(settings), "strip")
    text = all_text(pdf)
    assert "Lone Star College Libraries" in text
    assert "Bring it back to any Lone Star desk." in text
    assert "KEEP THIS BAND ON" in text
    assert "Example College Library" not in text


def test_bad_inputs_are_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="letter3"):
        render_straps([strap()], STYLE, "a4")
    with pytest.raises(InvalidInput, match="no straps"):
        render_straps([], STYLE)
    with pytest.raises(InvalidInput, match="hex RGB"):
        render_straps([strap()], replace(STYLE, colour="sky blue"), "strip")


def test_names_outside_the_standard_fonts_print_in_their_own_letters() -> None:
    pdf = render_straps([strap(patron_label="NGUYỄN, T.", title="Ḥadīth studies 東京")], STYLE)
    text = all_text(pdf)
    assert "NGUYỄN, T." in text
    assert "Ḥadīth studies" in text and "東京" in text
    assert "?" not in text


def test_return_strap_is_yellow_with_destination_and_barcode() -> None:
    flag = ReturnFlag(
        office_code="WS-ILL",
        office_place="ILL office at NEC",
        from_branch="METRO",
        on_date=date(2026, 11, 2),
        title="Silent Spring",
        barcode="ILL00000025",
        request_number="20261005",
        reason="Returned without its strap",
    )
    pdf = render_return_flags([flag], STYLE, "letter3")
    text = all_text(pdf)
    for expected in ("RETURN TO", "WS-ILL", "ILL office at NEC", "Silent Spring", "METRO"):
        assert expected in text
    (symbol,) = barcode_bars(pdf)
    assert decode_code128(symbol) == "ILL00000025"
    page = pages(pdf)[0]
    assert b"1 .882353 .301961 rg" in page.get_contents().get_data()  # type: ignore[attr-defined]
    assert_inside_cells(pdf, "letter3")


def test_slips_for_the_check_in_screen() -> None:
    today = date(2026, 11, 2)
    hold = render_slip(
        Slip(SlipKind.HOLD, "Invisible Cities", "ILL00000017", today,
             patron_label="MÜLLER, R.", pickup_by=date(2026, 11, 12))
    )  # fmt: skip
    assert "HOLD FOR" in all_text(hold)
    assert "MÜLLER, R." in all_text(hold)
    assert "Pick up by Nov 12, 2026" in all_text(hold)
    transit = render_slip(
        Slip(SlipKind.TRANSIT, "Invisible Cities", "ILL00000017", today,
             destination_code="WEST", destination_name="West Campus Library", from_branch="METRO")
    )  # fmt: skip
    runs = text_runs(transit)
    west = next(r for r in runs if r.text == "WEST")
    assert west.size >= 40  # destination in large type
    assert "ROUTE TO" in all_text(transit)
    (symbol,) = barcode_bars(transit)
    assert decode_code128(symbol) == "ILL00000017"
    back = render_slip(
        Slip(SlipKind.RETURN, "Invisible Cities", "", today, destination_code="WS-ILL",
             destination_name="ILL office at NEC", note="Returned without its strap")
    )  # fmt: skip
    assert "RETURN TO WS-ILL" in all_text(back)
    assert "Returned without its strap" in all_text(back)


def test_incomplete_slips_are_refused() -> None:
    with pytest.raises(InvalidInput, match="pickup-by"):
        render_slip(Slip(SlipKind.HOLD, "X", "ILL00000017", date(2026, 11, 2)))
    with pytest.raises(InvalidInput, match="destination"):
        render_slip(Slip(SlipKind.TRANSIT, "X", "ILL00000017", date(2026, 11, 2)))


def test_cut_lines_mark_the_right_edge_of_every_strap_on_the_sheet() -> None:
    import io

    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    def cut_lines(count: int) -> list[float]:
        pdf = render_straps(
            [strap(strap_barcode=f"ILL0000{n:03d}0") for n in range(count)], STYLE, "letter3"
        )
        reader = PdfReader(io.BytesIO(pdf))
        operations = ContentStream(reader.pages[0].get_contents(), reader).operations
        return sorted(
            round(float(operands[0]))
            for operands, operator in operations
            if operator == b"m" and float(operands[1]) == 0
        )

    assert cut_lines(1) == [204]
    assert cut_lines(2) == [204, 408]
    assert cut_lines(3) == [204, 408]
