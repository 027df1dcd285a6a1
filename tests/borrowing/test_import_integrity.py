"""CSV imports never turn a confirmed record into wrong data, and never stop the desks.

A received request keeps its patron, pickup branch and kind; a field longer than its column
is reported (on both databases, never a database error); a repeated ID is reported; a new
request is told to its patron like one entered in the window; every run is audited; the rows
go in a batch at a time while `strict` still writes nothing when any row is bad.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from app.borrowing.imports import import_patrons, import_requests
from app.library.runtime import Runtime
from db.models import AuditEvent, Branch, IllRequest, Item, Notice, Patron, RequestStatus
from tests.signed_in import as_office

HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"

REQ_HEADER = (
    "request_number,kind,patron_id,pickup_branch,title,author,article_title,"
    "article_author,volume,issue,issue_date,pages,lender\n"
)


def _received_request(rt: Runtime) -> tuple[str, str, str, str, str]:
    """A demo request whose borrowed item has arrived: number, kind, patron, pickup, title."""
    with rt.db.reading() as session:
        request = session.scalars(
            select(IllRequest)
            .join(Item, Item.request_id == IllRequest.id)
            .where(IllRequest.status == RequestStatus.RECEIVED)
            .order_by(IllRequest.id)
        ).first()
        assert request is not None
        patron = session.get(Patron, request.patron_id)
        pickup = session.get(Branch, request.pickup_branch_id)
        assert patron is not None and pickup is not None
        title = '"' + request.title.replace('"', '""') + '"'
        return request.request_number, request.kind.value, patron.patron_id, pickup.code, title


def test_a_received_request_keeps_its_patron_pickup_and_kind(demo_rt: Runtime) -> None:
    number, kind, patron, pickup, title = _received_request(demo_rt)
    other_patron = "T00890123" if patron != "T00890123" else "T00789012"
    other_pickup = "WEST" if pickup != "WEST" else "SE"
    other_kind = "copy" if kind == "loan" else "loan"
    text = REQ_HEADER + (
        f"{number},{kind},{other_patron},{pickup},{title},,,,,,,,\n"
        f"{number},{kind},{patron},{other_pickup},{title},,,,,,,,\n"
    )
    first = import_requests(
        demo_rt, as_office(demo_rt), text.splitlines()[0] + "\n" + text.splitlines()[1] + "\n"
    )
    second = import_requests(demo_rt, as_office(demo_rt), REQ_HEADER + text.splitlines()[2] + "\n")
    third = import_requests(
        demo_rt,
        as_office(demo_rt),
        REQ_HEADER + f"{number},{other_kind},{patron},{pickup},{title},,,,,,,,\n",
    )
    for report, what in ((first, "patron"), (second, "pickup branch"), (third, "kind")):
        assert report.updated == 0 and [e.line for e in report.errors] == [2]
        assert "already has its item" in report.errors[0].message
        assert what in report.errors[0].message
    with demo_rt.db.reading() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == number))
        assert request is not None
        owner = session.get(Patron, request.patron_id)
        branch = session.get(Branch, request.pickup_branch_id)
        assert owner is not None and owner.patron_id == patron
        assert branch is not None and branch.code == pickup
        assert request.kind.value == kind
    # Details that do not move the item may still be corrected by a re-import.
    fixed = import_requests(
        demo_rt,
        as_office(demo_rt),
        REQ_HEADER + f"{number},{kind},{patron},{pickup},{title},A. Corrected,,,,,,,\n",
    )
    assert (fixed.updated, fixed.errors) == (1, [])
    with demo_rt.db.reading() as session:
        changed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ill.request_import_updated")
        ).all()
        assert len(changed) == 1 and changed[0].after is not None
        assert changed[0].after["author"] == "A. Corrected"


def test_a_field_longer_than_its_column_is_reported_not_a_database_error(
    demo_rt: Runtime,
) -> None:
    text = HEADER + (
        f"T01000001,,{'A' * 101},Ruiz,ana@example.edu,student,METRO\n"
        "T01000002,,Bo,Li,bo@example.edu,student,METRO\n"
        f"T01000003,{'9' * 33},Cy,Ng,cy@example.edu,student,METRO\n"
    )
    report = import_patrons(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 1 and [e.line for e in report.errors] == [2, 4]
    assert "first_name" in report.errors[0].message and "100" in report.errors[0].message
    assert "barcode" in report.errors[1].message and "32" in report.errors[1].message
    requests = import_requests(
        demo_rt,
        as_office(demo_rt),
        REQ_HEADER + f"30000001,copy,T00123456,METRO,Journal,,Article,,{'v' * 51},,,,\n",
    )
    assert requests.inserted == 0 and "volume" in requests.errors[0].message


def test_a_patron_repeated_in_one_file_is_reported(demo_rt: Runtime) -> None:
    text = HEADER + (
        "T01000001,,Ana,Ruiz,ana@example.edu,student,METRO\n"
        "T01000001,,Ana,Ruis,ana@example.edu,student,METRO\n"
        "T01000002,21000999999,Bo,Li,bo@example.edu,student,METRO\n"
        "T01000003,21000999999,Cy,Ng,cy@example.edu,student,METRO\n"
    )
    report = import_patrons(demo_rt, as_office(demo_rt), text)
    assert (report.inserted, report.updated) == (2, 0)
    assert [e.line for e in report.errors] == [3, 5]
    assert "T01000001" in report.errors[0].message and "line 2" in report.errors[0].message
    assert "21000999999" in report.errors[1].message
    with demo_rt.db.reading() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == "T01000001"))
        assert patron is not None and patron.last_name == "Ruiz"


def test_a_new_request_queues_the_received_notice_and_the_office_is_no_pickup(
    demo_rt: Runtime,
) -> None:
    text = REQ_HEADER + (
        "30000001,loan,T00123456,METRO,Moby-Dick,Melville,,,,,,,OKT\n"
        "30000002,loan,T00123456,WS-ILL,Nowhere to collect,,,,,,,,OKT\n"
    )
    report = import_requests(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 1 and [e.line for e in report.errors] == [3]
    assert "WS-ILL" in report.errors[0].message and "campus" in report.errors[0].message
    with demo_rt.db.reading() as session:
        request = session.scalar(select(IllRequest).where(IllRequest.request_number == "30000001"))
        assert request is not None
        notices = session.scalars(select(Notice).where(Notice.request_id == request.id)).all()
        assert [n.kind for n in notices] == ["request_received"]
        assert notices[0].recipient and notices[0].dedupe_key == f"request_received:{request.id}"
        assert json.loads(notices[0].context)["title"] == "Moby-Dick"
    again = import_requests(demo_rt, as_office(demo_rt), text)
    assert again.unchanged == 1
    with demo_rt.db.reading() as session:
        count = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.kind == "request_received")
        )
        assert count == 1  # a re-import tells the patron nothing new


def test_the_ill_dummy_account_cannot_request_and_strict_writes_nothing(
    demo_rt: Runtime,
) -> None:
    with demo_rt.db.transaction() as session:  # a library whose dummy has a campus ID
        dummy = session.scalar(select(Patron).where(Patron.is_ill_dummy))
        assert dummy is not None
        dummy.patron_id = "T07771103"
    text = REQ_HEADER + (
        "30000011,loan,T00123456,METRO,Moby-Dick,Melville,,,,,,,OKT\n"
        "30000012,loan,T07771103,METRO,For the dummy,,,,,,,,OKT\n"
    )
    strict = import_requests(demo_rt, as_office(demo_rt), text, strict=True)
    assert strict.inserted == 0 and [e.line for e in strict.errors] == [3]
    assert "ILL dummy account" in strict.errors[0].message
    with demo_rt.db.reading() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(IllRequest)
                .where(IllRequest.request_number.in_(["30000011", "30000012"]))
            )
            == 0
        )
        assert (
            session.scalar(
                select(func.count()).select_from(Notice).where(Notice.kind == "request_received")
            )
            == 0
        )
    report = import_requests(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 1 and [e.line for e in report.errors] == [3]


def test_every_run_is_audited_with_its_counts(demo_rt: Runtime) -> None:
    import_patrons(
        demo_rt,
        as_office(demo_rt),
        HEADER + "T01000001,,Ana,Ruiz,ana@example.edu,student,METRO\nT0,,x,y,z,student,METRO\n",
    )
    import_requests(
        demo_rt,
        as_office(demo_rt),
        REQ_HEADER + "30000001,loan,T00123456,METRO,Moby-Dick,,,,,,,,\n",
    )
    with demo_rt.db.reading() as session:
        runs = {
            e.action: e
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("import.%")))
        }
        assert runs["import.patrons"].after == {
            "inserted": 1,
            "updated": 0,
            "unchanged": 0,
            "bad_rows": 1,
            "strict": False,
        }
        assert runs["import.requests"].after is not None
        assert runs["import.requests"].after["inserted"] == 1
        placed = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "ill.request_imported")
        )
        assert placed == 1


def test_batches_commit_as_they_go_and_strict_still_writes_nothing(demo_rt: Runtime) -> None:
    rows = [f"T0200{n:04d},,P{n},Q,p{n}@example.edu,student,METRO\n" for n in range(9)]
    seen: list[tuple[int, int]] = []
    report = import_patrons(
        demo_rt,
        as_office(demo_rt),
        HEADER + "".join(rows),
        batch_rows=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert report.inserted == 9 and report.committed
    assert seen[0] == (0, 9) and seen[-1] == (9, 9) and len(seen) == 6
    bad_last = HEADER + "".join(rows).replace("T0200", "T0300") + "T0309,,,,x,student,METRO\n"
    strict = import_patrons(demo_rt, as_office(demo_rt), bad_last, strict=True, batch_rows=2)
    assert not strict.committed and [e.line for e in strict.errors] == [11]
    with demo_rt.db.reading() as session:
        assert not session.scalar(select(Patron.id).where(Patron.patron_id.like("T0300%")))
