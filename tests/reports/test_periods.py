"""The period a report covers and the one it is compared with."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.library.errors import InvalidInput
from app.reports.periods import Period, parse_period


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        # a fiscal year gets the fiscal year before, leap day included
        (date(2024, 7, 1), date(2025, 6, 30), Period(date(2023, 7, 1), date(2024, 6, 30))),
        (date(2026, 1, 1), date(2026, 12, 31), Period(date(2025, 1, 1), date(2025, 12, 31))),
        (date(2024, 3, 1), date(2024, 3, 31), Period(date(2024, 2, 1), date(2024, 2, 29))),
        # not whole months: as many days, just before
        (date(2024, 3, 10), date(2024, 3, 19), Period(date(2024, 2, 29), date(2024, 3, 9))),
    ],
)
def test_previous_period(start: date, end: date, previous: Period) -> None:
    assert Period(start, end).previous() == previous


def test_bounds_and_months() -> None:
    period = Period(date(2024, 11, 15), date(2025, 2, 3))
    assert period.lower() == datetime(2024, 11, 15, tzinfo=UTC)
    assert period.upper() == datetime(2025, 2, 4, tzinfo=UTC)  # the last day is included
    assert period.months() == ("2024-11", "2024-12", "2025-01", "2025-02")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-13-01", "2024-12-31", "--from '2024-13-01' is not a date"),
        ("2024-01-01", "31/12/2024", "--to '31/12/2024' is not a date"),
        ("2024-05-01", "2024-04-01", "ends (2024-04-01) before it starts"),
        ("2020-01-01", "2024-12-31", "at most 1098"),
    ],
)
def test_bad_periods_are_refused_in_words(start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(start, end)
    assert message in refused.value.message
