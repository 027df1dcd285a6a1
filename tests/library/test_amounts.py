"""One amount reader for every place money is typed: strict, explained, capped."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.library import library_settings
from app.library.amounts import HARD_MAXIMUM, parse_amount
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.money import charge_views, charges
from tests.money.test_charges import ActorAt, checked_out_barcode

NO_DEADLINE = settings(deadline=None, max_examples=300)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("$85", "85.00"),
        (" 85.5 ", "85.50"),
        ("12,345,678.90", "12345678.90"),
        ("30.00 USD", "30.00"),
    ],
)
def test_plain_and_grouped_amounts_are_read(typed: str, value: str) -> None:
    assert parse_amount(typed) == Decimal(value)


@pytest.mark.parametrize(
    "typed",
    [
        "85,00",  # a decimal comma: a lax reader makes it $8,500.00
        "1,0,0,0",
        "1_000",
        "1E+3",
        "1e3",
        "１２３",  # full-width digits
        "١٢٣",  # Arabic-Indic digits
        "NaN",
        "Infinity",
        "12,34.00",
        "1234,567",
        ",123",
        "123.",
        ".5",
        "1 000",
        "0x10",
    ],
)
def test_everything_else_is_refused_with_the_expected_format(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed)
    assert "1234.56 or 1,234.56" in refused.value.message


def test_the_configured_maximum_caps_every_amount() -> None:
    assert parse_amount("500.00", maximum=Decimal("500.00")) == Decimal("500.00")
    with pytest.raises(InvalidInput, match=r"largest amount, \$500\.00"):
        parse_amount("500.01", maximum=Decimal("500.00"))
    with pytest.raises(InvalidInput, match="largest amount"):
        parse_amount("9" * 40)


def test_zero_only_where_a_setting_allows_it() -> None:
    with pytest.raises(InvalidInput, match=r"more than 0\.00"):
        parse_amount("0")
    assert parse_amount("0.00", allow_zero=True) == Decimal("0.00")


@NO_DEADLINE
@given(st.integers(0, 9_999_999_999))
def test_every_amount_in_cents_reads_back_in_both_forms(cents: int) -> None:
    value = Decimal(cents) / 100
    for typed in (f"{value:.2f}", f"{value:,.2f}", f"${value:,.2f}"):
        try:
            got = parse_amount(typed, allow_zero=True)
        except InvalidInput as exc:
            assert value > HARD_MAXIMUM and "largest amount" in exc.message
        else:
            assert got == value


@NO_DEADLINE
@given(st.text(max_size=24))
def test_any_text_is_an_exact_amount_or_a_refusal_that_shows_the_format(raw: str) -> None:
    try:
        value = parse_amount(raw)
    except InvalidInput as exc:
        assert "1234.56" in exc.message or "more than" in exc.message, exc.message
        return
    assert 0 < value <= HARD_MAXIMUM and value == value.quantize(Decimal("0.01"))
    digits = raw.strip().removeprefix("$").strip().removesuffix("USD").removesuffix("usd")
    assert set(digits.strip()) <= set("0123456789,.")
    assert Decimal(digits.strip().replace(",", "")) == value


def test_services_cap_amounts_at_the_library_setting(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, amount_maximum="500.00")
    office = actor_at("office", "WS-ILL")
    barcode = checked_out_barcode(demo_rt, "T00123456")
    with pytest.raises(InvalidInput, match=r"largest amount, \$500\.00"):
        charges.declare_lost(demo_rt, office, barcode, replacement_cost="600")
    with pytest.raises(InvalidInput, match=r"1234\.56"):
        charges.declare_lost(demo_rt, office, barcode, replacement_cost="85,00")
    assert not charge_views.list_charges(demo_rt, office, patron_id="T00123456")
    charges.declare_lost(demo_rt, office, barcode, replacement_cost="100.00")
    assert len(charge_views.list_charges(demo_rt, office, patron_id="T00123456")) == 2
