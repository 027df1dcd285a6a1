"""Every writing system prints: names and titles read back from the PDF as they were written."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date

import pytest

from app.library.library_settings import LibrarySettings
from app.printing import scripts, text_fit
from app.printing.office_list_pdf import render_office_list
from app.printing.slips import Slip, SlipKind, render_slip
from app.printing.straps import LAYOUTS, StrapContent, StrapStyle, render_straps
from tests.strap_pdf import Run, all_text, embedded_fonts, registered_name, text_runs

STYLE = StrapStyle.from_settings(LibrarySettings())
STANDARD = {"Helvetica", "Helvetica-Bold", "Courier", "Courier-Bold"}

# (writing system, patron label, title, the font the name needs, reads right to left)
WRITING = [
    ("Greek", "ΠΑΠΑΔΟΠΟΥΛΟΣ, Γ.", "Η Ιστορία της Βυζαντινής Αυτοκρατορίας", "DejaVuSans", False),
    ("Cyrillic", "ДОСТОЕВСКИЙ, Ф.", "Преступление и наказание", "DejaVuSans", False),
    ("Hebrew", "כהן, ד.", "תולדות הספרות העברית", "DejaVuSans", True),
    ("Arabic", "عبد الرحمن, م.", "مقدمة ابن خلدون", "DejaVuSans", True),
    ("Chinese", "王, 小明", "红楼梦 第一卷", "WenQuanYiMicroHei", False),
    ("Japanese", "山田, 太郎", "日本の図書館の歴史", "WenQuanYiMicroHei", False),
    ("Korean", "김, 민준", "한국 도서관의 역사", "WenQuanYiMicroHei", False),
    ("Vietnamese", "NGUYỄN, T.", "Ḥadīth studies", "DejaVuSans", False),
]
IDS = [row[0] for row in WRITING]


def strap(**changes: object) -> StrapContent:
    base = StrapContent(
        strap_barcode="ILL00000017",
        request_number="20261004",
        title="The Structure of Scientific Revolutions",
        patron_label="MÜLLER, R.",
        pickup_code="METRO",
        pickup_name="Metro Campus Library",
        due_date=date(2027, 1, 4),
        lender_symbol="OKT",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def hold_slip(patron: str, title: str) -> bytes:
    return render_slip(
        Slip(SlipKind.HOLD, title, "ILL00000017", date(2027, 1, 4), patron_label=patron,
             pickup_by=date(2027, 1, 14))
    )  # fmt: skip


def letters(text: str) -> str:
    """The letters and digits of `text`, joined forms unjoined (NFKC), nothing else."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


def printed(expected: str, pdf_text: str, rtl: bool) -> bool:
    """True when every letter of `expected` is on the page, in order.

    A PDF holds right-to-left text in visual order; text extraction may or may not turn
    it back (pypdf does for Hebrew letters, not for Arabic joined forms), so both
    directions count there. The order on paper is tested apart (`scripts.visual`).
    """
    wanted, found = letters(expected), letters(pdf_text)
    return wanted in found or (rtl and wanted[::-1] in found)


@pytest.mark.parametrize(("script", "patron", "title", "font", "rtl"), WRITING, ids=IDS)
def test_strap_prints_names_and_titles_in_every_writing_system(
    script: str, patron: str, title: str, font: str, rtl: bool
) -> None:
    pdf = render_straps([strap(patron_label=patron, title=title)], STYLE, "letter3")
    text = all_text(pdf)
    assert "?" not in text
    assert printed(patron, text, rtl)
    assert printed(title, text, rtl)
    fonts = embedded_fonts(pdf)
    assert any(registered_name(name) == f"{font}-Bold" or registered_name(name) == font
               for name, inside in fonts.items() if inside), fonts  # fmt: skip
    assert all(inside or name in STANDARD for name, inside in fonts.items()), fonts
    assert_inside_the_strap(pdf)


def assert_inside_the_strap(pdf: bytes) -> None:
    cell = LAYOUTS["letter3"].cells[0]
    for run in text_runs(pdf):
        assert cell.content_left - 0.01 <= run.x, run
        assert run.x + run.width <= cell.content_right + 0.01, run


@pytest.mark.parametrize(("script", "patron", "title", "font", "rtl"), WRITING, ids=IDS)
def test_hold_slip_prints_the_patron_in_every_writing_system(
    script: str, patron: str, title: str, font: str, rtl: bool
) -> None:
    pdf = hold_slip(patron, title)
    text = all_text(pdf)
    assert "HOLD FOR" in text
    assert "?" not in text
    assert printed(patron, text, rtl)
    assert printed(title, text, rtl)
    assert any(inside for inside in embedded_fonts(pdf).values())


def test_latin_straps_embed_nothing_and_keep_the_built_in_fonts() -> None:
    pdf = render_straps([strap()], STYLE, "letter3")
    assert set(embedded_fonts(pdf)) <= STANDARD


def test_arabic_letters_are_joined_and_right_to_left_lines_keep_to_the_right_edge() -> None:
    pdf = render_straps([strap(title="مقدمة ابن خلدون")], STYLE, "letter3")
    (run,) = [r for r in text_runs(pdf) if "\ufe70" <= r.text.strip()[0] <= "\ufeff"]
    assert all(not "\u0600" <= ch <= "\u06ff" for ch in run.text)  # joined forms only
    cell = LAYOUTS["letter3"].cells[0]
    assert run.x + run.width == pytest.approx(cell.content_right, abs=0.05)


def test_an_english_subtitle_under_a_hebrew_title_stays_in_the_right_to_left_paragraph() -> None:
    title = "תולדות הספרות העברית: A History of Modern Hebrew Literature, 1880-1980"
    pdf = render_straps([strap(title=title)], STYLE, "letter3")
    runs = text_runs(pdf)
    top = next(r.y for r in runs if r.text.strip() == "TITLE")
    bottom = next(r.y for r in runs if r.text.strip() == "LENDER")
    lines: dict[int, list[Run]] = {}
    for run in runs:
        if bottom < run.y < top and run.text.strip():
            lines.setdefault(round(run.y), []).append(run)
    assert len(lines) >= 2
    right = LAYOUTS["letter3"].cells[0].content_right
    for line in lines.values():  # every line keeps to the right edge
        # (text extraction splits a right-to-left line into pieces that share its start)
        end = min(r.x for r in line) + sum(r.width for r in line)
        assert end == pytest.approx(right, abs=0.05)
    assert scripts.visual("of Modern Hebrew Literature,", "R") == ",of Modern Hebrew Literature"


def test_right_to_left_text_is_laid_out_in_visual_order_with_brackets_facing_right() -> None:
    assert scripts.visual("כהן, ד.") == ".ד ,ןהכ"
    assert scripts.visual("ספר (שני)") == "(ינש) רפס"
    assert scripts.visual("MÜLLER, R.") == "MÜLLER, R."


def test_a_line_mixing_chinese_and_latin_uses_each_font_for_its_letters() -> None:
    pdf = render_straps([strap(title="红楼梦 (Dream)")], STYLE, "letter3")
    fonts_by_text = {r.text.strip(): registered_name(r.font) for r in text_runs(pdf)}
    assert fonts_by_text.get("红楼梦") == "WenQuanYiMicroHei"
    assert fonts_by_text.get("(Dream)") == "DejaVuSans"


def test_every_line_of_a_wrapped_mixed_title_prints_in_the_same_font() -> None:
    title = "红楼梦 (Dream of the Red Chamber), with a commentary and notes"
    pdf = render_straps([strap(title=title)], STYLE, "letter3")
    runs = text_runs(pdf)
    top = next(r.y for r in runs if r.text.strip() == "TITLE")
    bottom = next(r.y for r in runs if r.text.strip() == "LENDER")
    title_runs = [r for r in runs if bottom < r.y < top and r.text.strip()]
    latin = [r for r in title_runs if r.text.strip() != "红楼梦"]
    assert len({round(r.y) for r in latin}) >= 2  # the title took more than one line
    assert {registered_name(r.font) for r in latin} == {"DejaVuSans"}
    assert_inside_the_strap(pdf)


def test_a_long_chinese_title_wraps_between_characters_and_is_shortened_on_the_last_line() -> None:
    title = "中华人民共和国国家图书馆藏古籍善本书目" * 4
    lines = text_fit.wrap(title, "Helvetica", 10, 170, 3)
    assert len(lines) == 3
    assert lines[0] and title.startswith(lines[0] + lines[1])
    assert lines[-1].endswith("…")
    assert all(text_fit.width(line, "Helvetica", 10) <= 170 for line in lines)


def test_a_korean_title_wraps_between_words_not_inside_them() -> None:
    words = ["한국", "도서관의", "역사", "한국", "도서관의", "역사"]
    lines = text_fit.wrap(" ".join(words), "Helvetica", 10, 100, 4)
    assert len(lines) >= 2
    assert [word for line in lines for word in line.split()] == words


def test_a_character_no_font_has_prints_as_a_question_mark_not_a_blank_box() -> None:
    assert text_fit.printable("Title \ue000 here") == "Title ? here"


def test_every_shipped_font_and_its_licence_is_present() -> None:
    assert scripts.missing_files() == []


@pytest.mark.parametrize(("script", "patron", "title", "font", "rtl"), WRITING, ids=IDS)
def test_office_lists_print_names_and_titles_in_every_writing_system(
    script: str, patron: str, title: str, font: str, rtl: bool
) -> None:
    pdf = render_office_list(
        "On the hold shelf", "All branches.", ["For", "Title"], [[patron, title]], date(2026, 12, 7)
    )
    text = all_text(pdf)
    assert "?" not in text
    assert printed(patron, text, rtl) and printed(title, text, rtl)
    fonts = embedded_fonts(pdf)
    assert any(registered_name(name) == font for name, inside in fonts.items() if inside), fonts


def test_a_right_to_left_title_wrapped_in_a_narrow_column_reads_from_its_first_line() -> None:
    title = "תולדות הספרות העברית בימי הביניים ובעת החדשה"
    pdf = render_office_list(
        "In transit",
        "",
        [f"Column {n}" for n in range(7)],
        [["x"] * 6 + [title]],
        date(2026, 12, 7),
    )
    lines = sorted(
        (run for run in text_runs(pdf) if not scripts.standard_only(run.text)),
        key=lambda run: -run.y,
    )
    assert len(lines) > 1
    first, last = letters(lines[0].text), letters(lines[-1].text)
    assert letters("תולדות") in (first + first[::-1])  # the title's first word, on top
    assert letters("החדשה") in (last + last[::-1])
