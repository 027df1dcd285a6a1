"""A patron card barcode never equals an item barcode: refused whichever comes second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from app.borrowing.imports import import_patrons
from app.borrowing.receiving import ReceiveForm, receive_item
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]

HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"
OWN_ITEM = "31234000000001"
STRAP = "ILL00000018"


@pytest.mark.parametrize("barcode", [OWN_ITEM, STRAP])
def test_a_patron_card_cannot_take_an_items_barcode(demo_rt: Runtime, barcode: str) -> None:
    text = HEADER + f"T01000001,{barcode},Ana,Ruiz,ana.ruiz@example.edu,student,METRO\n"
    report = import_patrons(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 0
    [error] = report.errors
    assert f"barcode {barcode} is already an item's barcode" in error.message


def test_an_item_cannot_take_a_patron_cards_barcode(demo_rt: Runtime, actor_at: ActorAt) -> None:
    card = "21001000009"
    text = HEADER + f"T01000009,{card},Bo,Li,bo.li@example.edu,student,METRO\n"
    assert import_patrons(demo_rt, as_office(demo_rt), text).inserted == 1
    form = ReceiveForm(
        request_number="20261001",
        lender_symbol="OKT",
        lender_due_date=date(2026, 11, 2) + timedelta(days=28),
        lender_barcode=card,
    )
    with pytest.raises(InvalidInput, match="card barcode of patron T01000009"):
        receive_item(demo_rt, actor_at("office", "WS-ILL"), form)
