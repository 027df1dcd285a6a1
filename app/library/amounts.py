"""The one reader of money typed by people: charges, IFM, settings, the CLI and the screens.

Accepted: plain ``1234.56`` or grouped ``1,234.56`` (commas only between groups of three
digits), an optional ``$`` in front and ``USD`` after, at most two decimals, ASCII digits.
Everything else is refused with the expected format: ``85,00`` (a decimal comma, which a
lax reader turns into $8,500.00), ``1,0,0,0``, ``1_000``, ``1E+3``, full-width or
Arabic-Indic digits, ``NaN``. Every amount is capped by the library's `amount_maximum`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.library.errors import InvalidInput

CENT = Decimal("0.01")
HARD_MAXIMUM = Decimal("99999999.99")  # what the ledger's amount columns hold
DEFAULT_MAXIMUM = "100000.00"  # the `amount_maximum` setting's default
EXPECTED = "type it like 1234.56 or 1,234.56 (commas only between thousands, two decimals)"
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?")
_TOO_PRECISE = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)\.[0-9]{3,}")


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def parse_amount(
    text: str | Decimal,
    what: str = "The amount",
    *,
    maximum: Decimal | str = HARD_MAXIMUM,
    allow_zero: bool = False,
) -> Decimal:
    """A positive (or, with `allow_zero`, zero) amount in dollars and cents, at most `maximum`."""
    raw = str(text).strip()
    if isinstance(text, Decimal):
        raw = f"{text:f}" if text.is_finite() else str(text)
    if not raw:
        return _refuse(f"Enter {what[:1].lower()}{what[1:]} in US dollars: {EXPECTED}.")
    cleaned = raw.removeprefix("$").strip()
    for unit in ("USD", "usd"):
        cleaned = cleaned.removesuffix(unit).strip()
    if cleaned.startswith("-"):
        return _refuse(f"{what} {raw!r} is negative: enter a positive amount; {EXPECTED}.")
    if _TOO_PRECISE.fullmatch(cleaned):
        return _refuse(f"{what} {raw!r} has more than two decimals: {EXPECTED}.")
    if not (_PLAIN.fullmatch(cleaned) or _GROUPED.fullmatch(cleaned)):
        return _refuse(f"{what} {raw[:40]!r} is not an amount: {EXPECTED}.")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the patterns above admit only digits
        return _refuse(f"{what} {raw[:40]!r} is not an amount: {EXPECTED}.")
    if value == 0 and not allow_zero:
        return _refuse(f"{what} must be more than 0.00; {EXPECTED}.")
    cap = min(Decimal(str(maximum)), HARD_MAXIMUM)
    if value > cap:
        return _refuse(
            f"{what} {money(value) if value < 10**12 else raw[:20]} is more than the largest "
            f"amount, {money(cap)} (the amount_maximum setting); check it."
        )
    return value.quantize(CENT)


def amount_maximum(setting: str) -> Decimal:
    """The library's cap, read leniently: a broken stored value falls back to the default."""
    try:
        return parse_amount(setting, "The largest amount", maximum=HARD_MAXIMUM)
    except InvalidInput:
        return Decimal(DEFAULT_MAXIMUM)


def _refuse(message: str) -> Decimal:
    raise InvalidInput(message)
