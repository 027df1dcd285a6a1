"""Reading messages: lenient about how initiators spell them, strict about what is hostile."""

from __future__ import annotations

from datetime import date

import pytest

from app.ncip.messages import AcceptItem, CheckInItem, parse
from app.ncip.problems import NcipProblem
from tests.ncip import initiator as ini


@pytest.mark.parametrize(
    "shape", [ini.illiad, ini.tipasa, ini.no_namespace, ini.folio_pretty], ids=lambda f: f.__name__
)
def test_every_spelling_reads_the_same_and_digests_the_same(shape) -> None:  # type: ignore[no-untyped-def]
    plain = parse(ini.illiad(ini.accept_item("30001234", pickup="SE"), encoding="UTF-8"))
    other = parse(shape(ini.accept_item("30001234", pickup="SE")))
    assert other == plain
    assert other.digest == plain.digest
    body = other.body
    assert isinstance(body, AcceptItem)
    assert body.title == "Gödel, Escher, Bach"
    assert body.date_for_return == date(2026, 12, 20)
    assert other.header.from_agency == "ILLIAD" and other.header.to_agency == "EXC"


@pytest.mark.parametrize(
    "text",
    ["2026-12-20", "2026-12-20T23:59:00", "2026-12-20T23:59:00Z", "2026-12-20T23:59:00-06:00"],
)
def test_dates_with_or_without_a_zone(text: str) -> None:
    body = parse(ini.illiad(ini.accept_item("30001234", due=text))).body
    assert isinstance(body, AcceptItem) and body.date_for_return == date(2026, 12, 20)


def test_elements_out_of_the_schemas_order_are_read() -> None:
    request = parse(ini.illiad(ini.check_in_item("ILL00000017", "30001234", "T00123456")))
    assert request.body == CheckInItem("ILL00000017", "30001234", "T00123456")


def test_the_secret_never_shows_in_the_message_or_its_digest() -> None:
    request = parse(ini.illiad(ini.lookup_user("T00123456", head=ini.header())))
    assert request.header.authentication == ini.SECRET
    assert ini.SECRET not in repr(request)


def test_a_problem_names_the_element_and_shows_at_most_100_characters() -> None:
    with pytest.raises(NcipProblem) as caught:
        parse(ini.illiad(ini.lookup_user("x" * 10_000)))
    assert caught.value.element == "UserIdentifierValue"
    assert len(caught.value.value) == 100
