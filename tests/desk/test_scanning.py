"""Scan normalisation: what a scanner or a hand typed becomes a barcode, or a clear refusal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.library.scanning import InvalidScan, Scan, luhn_check_digit, normalize_scan, strap_barcode


def test_strap_barcodes_carry_a_luhn_check_digit() -> None:
    assert strap_barcode(1) == "ILL00000018"
    assert normalize_scan("ILL00000018") == Scan("ILL00000018")
    assert luhn_check_digit("0000001") == 8


def test_whitespace_control_characters_and_case_are_cleaned() -> None:
    assert normalize_scan("  ill00000018\r\n") == Scan("ILL00000018")
    assert normalize_scan("\x02ILL00000018\x03") == Scan("ILL00000018")
    assert normalize_scan("31234000000001\t") == Scan("31234000000001")


def test_wrong_check_digit_is_caught_before_lookup() -> None:
    result = normalize_scan("ILL00000019")
    assert isinstance(result, InvalidScan) and "check digit" in result.reason


def test_empty_long_and_garbage_scans_say_what_to_do() -> None:
    cases = {
        "": "Nothing was scanned",
        "   ": "Nothing was scanned",
        "9" * 10_000: "too long",
        "'; DROP TABLE items;--": "not a barcode",
        "ILL123": "wrong number of digits",
    }
    for raw, expected in cases.items():
        result = normalize_scan(raw)
        assert isinstance(result, InvalidScan), raw
        assert expected in result.reason
        assert len(result.shown) <= 40


@given(st.text())
def test_any_input_gives_a_scan_or_an_explained_refusal(raw: str) -> None:
    result = normalize_scan(raw)
    if isinstance(result, Scan):
        assert result.barcode and result.barcode.isprintable() and len(result.barcode) <= 64
        assert result.barcode == result.barcode.strip()
    else:
        assert result.reason.endswith(".")


@given(st.integers(min_value=1, max_value=9_999_999))
def test_every_strap_barcode_round_trips(serial: int) -> None:
    barcode = strap_barcode(serial)
    assert normalize_scan(barcode) == Scan(barcode)
    flipped = barcode[:-1] + str((int(barcode[-1]) + 1) % 10)
    assert isinstance(normalize_scan(flipped), InvalidScan)
