"""Recovering a strap barcode: by the patron's ID, or by title among temporary items."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.desk.barcode_recovery import items_with_patron, search_temporary_by_title
from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.runtime import Runtime
from db.models import AuditEvent, ItemStatus
from tests.signed_in import as_desk


@pytest.fixture
def desk(actor_at: Callable[[str, str], Actor]) -> Actor:
    return actor_at("desk", "METRO")


def test_patron_id_lists_the_ill_items_in_their_hands(demo_rt: Runtime, desk: Actor) -> None:
    found = items_with_patron(demo_rt, desk, " t00123456 ")
    assert found.patron_id == "T00123456"
    assert found.patron_name == "Renée Müller"
    assert [i.barcode for i in found.items] == ["ILL00000091"]
    only = found.items[0]
    assert only.status is ItemStatus.CHECKED_OUT and only.has_it
    assert only.title == "Invisible Cities"
    assert only.due_date is not None


def test_patron_barcode_works_too_and_in_library_use_counts(demo_rt: Runtime, desk: Actor) -> None:
    found = items_with_patron(demo_rt, desk, "21000567890")
    assert [(i.barcode, i.status_words) for i in found.items] == [("ILL00000083", "in library use")]


def test_patron_with_nothing_checked_out_gets_an_empty_list(demo_rt: Runtime, desk: Actor) -> None:
    assert items_with_patron(demo_rt, desk, "T00678901").items == ()


@pytest.mark.parametrize("text", ["", "   ", "T0012'; --", "x" * 200])
def test_bad_patron_text_is_refused_with_what_to_do(
    demo_rt: Runtime, desk: Actor, text: str
) -> None:
    with pytest.raises(InvalidInput, match="campus ID"):
        items_with_patron(demo_rt, desk, text)


def test_unknown_patron_says_so(demo_rt: Runtime, desk: Actor) -> None:
    with pytest.raises(NotFound, match="No patron"):
        items_with_patron(demo_rt, desk, "T09999999")


def test_title_search_ignores_case_and_accents_and_shows_who_has_it(demo_rt: Runtime) -> None:
    found = search_temporary_by_title(demo_rt, as_desk(demo_rt), "godel ESCHER")
    assert [i.barcode for i in found] == ["ILL00000018"]
    assert found[0].patron_id == "T00345678" and not found[0].has_it
    cities = search_temporary_by_title(demo_rt, as_desk(demo_rt), "invisible")
    assert [(i.barcode, i.patron_id, i.has_it) for i in cities] == [
        ("ILL00000091", "T00123456", True)
    ]


def test_title_search_leaves_out_closed_items_and_owned_ones(demo_rt: Runtime) -> None:
    assert (
        search_temporary_by_title(demo_rt, as_desk(demo_rt), "Texas Cattle") == ()
    )  # closed since
    assert search_temporary_by_title(demo_rt, as_desk(demo_rt), "Campbell Biology") == ()  # owned


def test_title_search_never_treats_wildcards_as_wildcards(demo_rt: Runtime) -> None:
    with pytest.raises(InvalidInput):
        search_temporary_by_title(demo_rt, as_desk(demo_rt), "%%%_")
    assert search_temporary_by_title(demo_rt, as_desk(demo_rt), "100% Escher_") == ()


def test_title_search_needs_a_few_letters(demo_rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="at least 3 letters"):
        search_temporary_by_title(demo_rt, as_desk(demo_rt), " a ")


def test_looking_a_patron_up_is_recorded_as_a_view_of_their_record(
    demo_rt: Runtime, desk: Actor
) -> None:
    items_with_patron(demo_rt, desk, "T00123456")
    with demo_rt.db.reading() as session:
        views = session.scalars(select(AuditEvent).where(AuditEvent.action == "patron.view")).all()
    assert [(v.username, v.branch_code, v.detail) for v in views] == [
        ("desk", "METRO", "barcode recovery")
    ]
