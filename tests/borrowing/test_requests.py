"""The request form, cancellations and delivered copies, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.borrowing.requests import (
    RequestForm,
    cancel_reasons,
    cancel_request,
    edit_cancel_reason,
    find_request,
    list_requests,
    mark_copy_available,
    place_request,
    record_copy_view,
)
from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from db.models import IllRequest, Notice, Patron, PatronType, RequestKind, RequestStatus
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]
WAITING, COPY_AVAILABLE = "20261001", "20261020"


def staff_patron(rt: Runtime, staff_id: int, patron_id: str = "T00999001") -> None:
    """The staff member's own patron record (a staff patron linked to their account)."""
    with rt.db.transaction() as session:
        session.add(
            Patron(
                patron_id=patron_id,
                first_name="Olivia",
                last_name="Office",
                name_key="office olivia",
                email="olivia.office@example.edu",
                patron_type=PatronType.STAFF,
                staff_id=staff_id,
            )
        )


def notices(rt: Runtime, kind: str) -> list[Notice]:
    with rt.db.reading() as session:
        return list(session.scalars(select(Notice).where(Notice.kind == kind)))


def loan_form(patron: str = "T00123456", **changes: object) -> RequestForm:
    values: dict[str, object] = {
        "patron": patron,
        "kind": RequestKind.LOAN,
        "title": "  Invisible   Cities ",
        "pickup_branch": "west",
    }
    values.update(changes)
    return RequestForm(**values)  # type: ignore[arg-type]


def test_form_places_a_request_with_the_next_number_and_confirms(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    view = place_request(demo_rt, actor_at("office", "WS-ILL"), loan_form(lender="txa"))
    assert view.request_number == "20261027"  # after the demo's highest number
    assert view.status is RequestStatus.REQUESTED
    assert view.title == "Invisible Cities"
    assert view.pickup_branch == "WEST" and view.lender == "TXA"
    assert not view.requested_by_staff
    (notice,) = notices(demo_rt, "request_received")
    assert notice.recipient == "renee.muller@example.edu"
    assert json.loads(notice.context)["request_number"] == "20261027"


def test_staff_may_request_for_themselves_free(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    staff_patron(demo_rt, office.staff_id)
    view = place_request(demo_rt, office, loan_form("T00999001", request_number="20269000"))
    assert view.requested_by_staff
    assert view.patron_id == "T00999001"


def test_staff_account_standing_in_for_a_patron_is_refused(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    staff_patron(demo_rt, office.staff_id)
    with pytest.raises(InvalidInput, match=r"your own patron record.*Renée Müller's account"):
        place_request(demo_rt, office, loan_form("T00999001", for_patron="T00123456"))
    with demo_rt.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(IllRequest)) == 26
    assert notices(demo_rt, "request_received") == []


def test_a_patron_account_serving_another_patron_is_refused(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    with pytest.raises(InvalidInput, match="belongs to the patron it serves"):
        place_request(demo_rt, actor_at("office", "WS-ILL"), loan_form(for_patron="T00234567"))


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"title": "   "}, InvalidInput, "Enter the title"),
        ({"patron": "T00000000"}, NotFound, "No patron"),
        ({"patron": ""}, InvalidInput, "campus ID or barcode"),
        ({"patron": "777110346"}, InvalidInput, "dummy account"),
        ({"pickup_branch": "MARS"}, NotFound, "no branch .MARS."),
        ({"pickup_branch": "WS-ILL"}, InvalidInput, "not a campus"),
        ({"lender": "T!"}, InvalidInput, "OCLC symbol"),
        ({"request_number": "20261001"}, Conflict, "already a request 20261001"),
        ({"request_number": "12ab"}, InvalidInput, "not an ILL request number"),
        ({"kind": RequestKind.COPY}, InvalidInput, "article or chapter title"),
        ({"title": "x" * 501}, InvalidInput, "keep it under"),
    ],
)
def test_bad_request_forms_are_refused(
    demo_rt: Runtime,
    actor_at: ActorAt,
    changes: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        place_request(demo_rt, actor_at("office", "WS-ILL"), loan_form(**changes))


def test_desk_staff_cannot_enter_requests(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with pytest.raises(PermissionDenied):
        place_request(demo_rt, actor_at("desk", "METRO"), loan_form())


def test_cancel_needs_a_reason_and_tells_the_patron(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    with pytest.raises(InvalidInput, match="needs a reason"):
        cancel_request(demo_rt, office, WAITING, "   ")
    assert find_request(demo_rt, office, WAITING).status is RequestStatus.REQUESTED
    listed = cancel_reasons(demo_rt, as_office(demo_rt))
    assert "Duplicate request." in listed
    view = cancel_request(demo_rt, office, WAITING, "duplicate REQUEST.")
    assert view.status is RequestStatus.CANCELLED
    assert view.cancel_reason == "Duplicate request."  # the library's own wording
    (notice,) = notices(demo_rt, "request_cancelled")
    assert json.loads(notice.context)["reason"] == "Duplicate request."
    assert notice.recipient == "renee.muller@example.edu"
    with pytest.raises(Conflict, match="already cancelled"):
        cancel_request(demo_rt, office, WAITING, "again")


def test_free_text_reason_and_refusals(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    view = cancel_request(demo_rt, office, "20261002", "Lender says the copy is missing.")
    assert view.cancel_reason == "Lender says the copy is missing."
    with pytest.raises(Conflict, match="received"):
        cancel_request(demo_rt, office, "20261004", "Too late")
    with pytest.raises(InvalidInput, match="lending request"):
        cancel_request(demo_rt, office, "20261022", "Not ours")
    with pytest.raises(NotFound):
        cancel_request(demo_rt, office, "20269999", "Nothing")


def test_copy_available_for_30_days_or_5_views(
    demo_rt: Runtime, actor_at: ActorAt, clock: object
) -> None:
    office = actor_at("office", "WS-ILL")
    view = place_request(
        demo_rt,
        office,
        loan_form(kind=RequestKind.COPY, title="Journal of ILL", article_title="On straps"),
    )
    with pytest.raises(InvalidInput, match="loan of a physical item"):
        mark_copy_available(demo_rt, office, WAITING)
    available = mark_copy_available(demo_rt, office, view.request_number)
    assert available.status is RequestStatus.AVAILABLE
    assert available.copy is not None
    assert (available.copy.days_left, available.copy.views_left) == (30, 5)
    (notice,) = notices(demo_rt, "article_available")
    assert json.loads(notice.context)["max_views"] == 5
    with pytest.raises(Conflict, match="already available"):
        mark_copy_available(demo_rt, office, view.request_number)
    for left in (4, 3, 2, 1):
        assert record_copy_view(demo_rt, office, view.request_number).views_left == left
    last = record_copy_view(demo_rt, office, view.request_number)
    assert last.views_left == 0 and last.expired
    with pytest.raises(Conflict, match="all its views are used"):
        record_copy_view(demo_rt, office, view.request_number)


def test_copy_expires_after_its_days(demo_rt: Runtime, actor_at: ActorAt, clock: object) -> None:
    office = actor_at("office", "WS-ILL")
    demo_copy = find_request(demo_rt, office, COPY_AVAILABLE)
    assert demo_copy.copy is not None
    assert (demo_copy.copy.days_left, demo_copy.copy.views_left) == (27, 3)
    clock.advance(days=28)  # type: ignore[attr-defined]
    expired = find_request(demo_rt, office, COPY_AVAILABLE).copy
    assert expired is not None and expired.expired and expired.days_left == 0
    with pytest.raises(Conflict, match="30 days are over"):
        record_copy_view(demo_rt, office, COPY_AVAILABLE)


def test_the_window_follows_library_settings(demo_rt: Runtime, actor_at: ActorAt) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, copy_max_views=3, copy_available_days=10)
    copy = find_request(demo_rt, actor_at("office", "WS-ILL"), COPY_AVAILABLE).copy
    assert copy is not None
    assert (copy.days_left, copy.views_left) == (7, 1)


def test_list_requests_by_status(demo_rt: Runtime, actor_at: ActorAt) -> None:
    waiting = list_requests(demo_rt, actor_at("office", "WS-ILL"), RequestStatus.REQUESTED)
    assert sorted(v.request_number for v in waiting) == ["20261001", "20261002", "20261003"]
    everything = list_requests(demo_rt, actor_at("office", "WS-ILL"))
    assert len(everything) == 21  # borrowing only
    received = [v for v in everything if v.request_number == "20261004"]
    assert received[0].strap_barcode == "ILL00000018"


def test_the_library_edits_its_list_of_reasons(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    listed = edit_cancel_reason(demo_rt, office, "  Lender  cannot supply in time. ")
    assert listed[-1] == "Lender cannot supply in time."
    assert "Duplicate request." not in edit_cancel_reason(
        demo_rt, office, "duplicate request.", active=False
    )
    assert "Duplicate request." in edit_cancel_reason(demo_rt, office, "Duplicate request.")
    with pytest.raises(NotFound):
        edit_cancel_reason(demo_rt, office, "Never listed", active=False)
    with pytest.raises(InvalidInput):
        edit_cancel_reason(demo_rt, office, "   ")
    with pytest.raises(PermissionDenied):
        edit_cancel_reason(demo_rt, actor_at("desk", "METRO"), "Desk reason")


def test_volume_issue_and_pages_are_kept_and_shown_after_the_title(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    office = actor_at("office", "WS-ILL")
    form = RequestForm(
        patron="T00123456", kind=RequestKind.LOAN, title="Collected Papers",
        pickup_branch="METRO", volume=" 2 ", issue="4", pages="112-140",
    )  # fmt: skip
    view = place_request(demo_rt, office, form)
    assert (view.volume, view.issue, view.pages) == ("2", "4", "112-140")
    assert view.citation == "v. 2, no. 4, pp. 112-140"
    shown = find_request(demo_rt, office, view.request_number)
    assert shown.citation == "v. 2, no. 4, pp. 112-140"
    with demo_rt.db.reading() as session:
        stored = session.scalar(
            select(IllRequest).where(IllRequest.request_number == view.request_number)
        )
        assert stored is not None and (stored.volume, stored.pages) == ("2", "112-140")
    plain = place_request(
        demo_rt, office, RequestForm("T00123456", RequestKind.LOAN, "One", "METRO")
    )
    assert plain.citation == ""
    with pytest.raises(InvalidInput, match="The pages field has 51 characters"):
        place_request(demo_rt, office, replace(form, pages="1" * 51))
