"""Every parser of what staff type or scan: never a crash, every refusal explained.

Hypothesis throws arbitrary text (control characters, huge strings, other scripts) and
near-valid values at each parser. A parser either returns a value that round-trips, or
refuses with an `InvalidInput` / `InvalidScan` whose message tells staff what to do.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.borrowing import request_numbers
from app.borrowing.imports import PATRON_COLUMNS, import_patrons
from app.cli.checkout_commands import iso_date
from app.lending import ifm
from app.library.amounts import parse_amount
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.library.scanning import InvalidScan, Scan, normalize_scan, strap_barcode
from app.money.charges import MAX_AMOUNT
from app.people.patron_ids import parse_oclc_symbol, parse_patron_id
from tests.signed_in import as_office

ANY_TEXT = st.text(max_size=200)
# Scanner-ish text: barcode characters with whitespace, controls and stray symbols mixed in.
SCANNERISH = st.text(
    alphabet=st.sampled_from(list("ILL0123456789abcXYZ-.$/+% \t\r\n\x00\x1b\u200béü;'\"")),
    max_size=80,
)
MIN_MESSAGE = 15  # a refusal is a sentence, not a code
# Correctness, not speed: a loaded CI machine must not turn a slow example into a failure.
NO_DEADLINE = settings(deadline=None)


def explained(message: str) -> bool:
    return len(message.strip()) >= MIN_MESSAGE and message.strip()[-1] in ".)!"


@NO_DEADLINE
@given(st.one_of(ANY_TEXT, SCANNERISH, st.text(min_size=60, max_size=5000)))
def test_scan_normalisation_never_crashes_and_explains_refusals(raw: str) -> None:
    result = normalize_scan(raw)
    if isinstance(result, InvalidScan):
        assert explained(result.reason), result
        assert len(result.shown) <= 40 and result.shown.isprintable()
    else:
        assert isinstance(result, Scan)
        assert result.barcode and result.barcode == result.barcode.strip()
        assert result.barcode.isprintable() and len(result.barcode) <= 64
        assert normalize_scan(result.barcode) == result  # cleaning twice changes nothing


@NO_DEADLINE
@given(st.integers(min_value=1, max_value=9_999_999), st.text(alphabet=" \t\r\n", max_size=3))
def test_every_strap_barcode_survives_a_scanner_burst(serial: int, noise: str) -> None:
    barcode = strap_barcode(serial)
    assert normalize_scan(f"{noise}{barcode.lower()}{noise}\r\n") == Scan(barcode)


@NO_DEADLINE
@given(st.integers(min_value=1, max_value=9_999_999), st.integers(0, 7), st.integers(1, 9))
def test_one_mistyped_digit_of_a_strap_is_caught(serial: int, position: int, delta: int) -> None:
    barcode = strap_barcode(serial)
    digits = list(barcode[3:])
    digits[position] = str((int(digits[position]) + delta) % 10)
    typo = "ILL" + "".join(digits)
    result = normalize_scan(typo)
    assert isinstance(result, InvalidScan) and "check digit" in result.reason


def charge_amount(text: str) -> Decimal:
    """An amount as the charge screens read it (the default cap of the amount_maximum setting)."""
    return parse_amount(text, maximum=MAX_AMOUNT)


PARSERS: dict[str, Callable[[str], object]] = {
    "patron_id": parse_patron_id,
    "request_number": request_numbers.clean_borrowing,
    "any_request_number": request_numbers.clean,
    "oclc_symbol": parse_oclc_symbol,
    "ifm_amount": ifm.parse_amount,
    "charge_amount": charge_amount,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@NO_DEADLINE
@given(raw=st.one_of(ANY_TEXT, SCANNERISH, st.from_regex(r"\$?-?[0-9,]{0,12}(\.[0-9]{0,4})?")))
def test_identifier_and_money_parsers_refuse_with_a_reason(name: str, raw: str) -> None:
    parse = PARSERS[name]
    try:
        value = parse(raw)
    except InvalidInput as exc:
        assert explained(exc.message), exc.message
        return
    if isinstance(value, Decimal):
        assert value > 0 and value == value.quantize(Decimal("0.01"))
        assert parse(str(value)) == value  # what we store parses back to itself
    else:
        assert isinstance(value, str) and value == value.strip() and value
        assert parse(value) == value


@NO_DEADLINE
@given(st.integers(1, 9_999_999), st.integers(0, 99))
def test_money_as_staff_type_it_is_read_exactly(dollars: int, cents: int) -> None:
    typed = f"${dollars:,}.{cents:02d}"
    expected = Decimal(f"{dollars}.{cents:02d}")
    for parse in (ifm.parse_amount, charge_amount):
        try:
            assert parse(typed) == expected
        except InvalidInput as exc:  # over the largest amount recorded: said plainly
            assert "more than" in exc.message


@NO_DEADLINE
@given(st.one_of(ANY_TEXT, st.dates().map(date.isoformat)))
def test_dates_are_read_or_refused_with_the_expected_format(raw: str) -> None:
    try:
        value = iso_date(raw)
    except argparse.ArgumentTypeError as exc:
        assert "YYYY-MM-DD" in str(exc)
    else:
        assert iso_date(value.isoformat()) == value


CELL = st.text(max_size=30)


def csv_text(rows: list[list[str]], header: tuple[str, ...] = PATRON_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.one_of(
            st.lists(CELL, min_size=len(PATRON_COLUMNS), max_size=len(PATRON_COLUMNS)),
            st.lists(CELL, max_size=10),  # wrong number of fields
            st.tuples(
                st.from_regex(r"T\d{8}", fullmatch=True),
                st.from_regex(r"\d{0,11}", fullmatch=True),
                st.text(max_size=20),
                st.text(max_size=20),
                st.emails(),
                st.sampled_from(["student", "faculty", "staff", "alien", ""]),
                st.sampled_from(["METRO", "NEC", "NOPE", ""]),
            ).map(list),
        ),
        max_size=6,
    )
)
def test_csv_rows_are_imported_or_each_refused_with_its_line(
    demo_rt: Runtime, rows: list[list[str]]
) -> None:
    try:
        report = import_patrons(demo_rt, as_office(demo_rt), csv_text(rows))
    except InvalidInput as exc:  # the file as a whole (a NUL byte): refused, said why
        assert explained(exc.message), exc.message
        return
    lines = [error.line for error in report.errors]
    assert lines == sorted(lines)
    for error in report.errors:
        assert error.line >= 2, error  # line 1 is the header
        assert len(error.message) >= 10, error
    rows_with_data = sum(1 for row in rows if any(v.strip() for v in row))
    handled = report.inserted + report.updated + report.unchanged + len(report.errors)
    assert handled == rows_with_data  # every row is imported or refused, none lost
