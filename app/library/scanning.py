"""What a scanner (or a tired hand) typed, made into a barcode we can look up, or refused.

A keyboard-wedge scanner sends characters then Enter. We trim whitespace and control
characters, refuse what cannot be a barcode, and check the check digit of our own straps
so a mistyped strap barcode is caught before any lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BARCODE_LENGTH = 64
STRAP_PREFIX = "ILL"
STRAP_DIGITS = 8  # 7-digit serial + 1 Luhn check digit
_ALLOWED = re.compile(r"^[A-Za-z0-9\-\.\$/\+%]+$")
_STRAP = re.compile(rf"^{STRAP_PREFIX}\d{{{STRAP_DIGITS}}}$")


@dataclass(frozen=True)
class Scan:
    barcode: str


@dataclass(frozen=True)
class InvalidScan:
    reason: str  # says what to do, in one sentence
    shown: str  # a short, printable rendering of what arrived


def luhn_check_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def strap_barcode(serial: int) -> str:
    """The strap barcode for the n-th temporary item: 'ILL' + 7 digits + check digit."""
    if not 0 < serial < 10 ** (STRAP_DIGITS - 1):
        raise ValueError(f"strap serial out of range: {serial}")
    body = f"{serial:0{STRAP_DIGITS - 1}d}"
    return f"{STRAP_PREFIX}{body}{luhn_check_digit(body)}"


def is_strap_barcode(barcode: str) -> bool:
    return bool(_STRAP.match(barcode))


def strap_check_digit_ok(barcode: str) -> bool:
    body, check = barcode[len(STRAP_PREFIX) : -1], barcode[-1]
    return luhn_check_digit(body) == int(check)


def _shown(raw: str) -> str:
    printable = "".join(ch if ch.isprintable() else "�" for ch in raw)
    return printable if len(printable) <= 40 else printable[:37] + "..."


_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def normalize_scan(raw: str) -> Scan | InvalidScan:
    """Clean one scan; every refusal says why and what to do next.

    A line break inside the scan means two scans arrived as one (a paste, a CLI argument):
    refused, never glued into one barcode that is then "not found".
    """
    if _LINE_BREAK.search(raw.strip()):
        return InvalidScan(
            "Two scans arrived as one (there is a line break inside). Scan or enter the "
            "barcodes one at a time.",
            _shown(raw.strip()),
        )
    cleaned = "".join(ch for ch in raw if ch.isprintable()).strip()
    if not cleaned:
        return InvalidScan("Nothing was scanned. Scan the barcode at the TOP of the strap.", "")
    if len(cleaned) > MAX_BARCODE_LENGTH:
        return InvalidScan(
            f"That scan is {len(cleaned)} characters long, too long for a barcode. "
            "Clear the field and scan again.",
            _shown(cleaned),
        )
    if " " in cleaned or not _ALLOWED.match(cleaned):
        return InvalidScan(
            "That is not a barcode (it has characters a barcode never has). Scan again, "
            "or type the digits under the barcode.",
            _shown(cleaned),
        )
    upper = cleaned.upper()
    if upper.startswith(STRAP_PREFIX) and upper[len(STRAP_PREFIX) :].isdigit():
        if not is_strap_barcode(upper):
            return InvalidScan(
                f"{upper} has the wrong number of digits for a strap barcode "
                f"({STRAP_PREFIX} and {STRAP_DIGITS} digits). Scan it again.",
                _shown(cleaned),
            )
        if not strap_check_digit_ok(upper):
            return InvalidScan(
                f"{upper} fails its check digit: it was misread or mistyped. Scan it again.",
                _shown(cleaned),
            )
        return Scan(upper)
    return Scan(cleaned)
