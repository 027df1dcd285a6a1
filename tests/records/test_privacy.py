"""Anonymising finished loans after the retention period, and naming patrons sparingly."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library import library_settings
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from app.records import privacy
from db.models import (
    AuditEvent,
    Charge,
    ChargeKind,
    DueDateDiscrepancy,
    HoldShelfEntry,
    HoldStatus,
    IllRequest,
    InHouseUse,
    Item,
    ItemStatus,
    LibrarySetting,
    Loan,
    MissingPiece,
    Notice,
    NoticeStatus,
    Patron,
    RequestStatus,
)

ActorAt = Callable[[str, str], Actor]


@dataclass(frozen=True)
class Returned:
    loan_id: int
    patron_id: int
    item_id: int
    request_id: int
    title: str
    request_number: str
    lender: str


def _return_a_loan(rt: Runtime, clock: FixedClock, campus_id: str = "T00123456") -> Returned:
    """One of the patron's ILL loans comes back today, with the records a loan leaves."""
    now = clock.now()
    with rt.db.transaction() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == campus_id))
        assert patron is not None
        loan = session.scalar(
            select(Loan).where(Loan.patron_id == patron.id, Loan.returned_at.is_(None))
        )
        assert loan is not None
        item = session.get(Item, loan.item_id)
        assert item is not None and item.request_id is not None
        request = session.get(IllRequest, item.request_id)
        assert request is not None and request.lender_symbol
        loan.returned_at = now
        loan.returned_branch_id = loan.branch_id
        item.status = ItemStatus.CLOSED
        item.closed_at = now
        request.status = RequestStatus.CLOSED
        request.closed_at = now
        session.add_all(
            [
                HoldShelfEntry(
                    item_id=item.id,
                    patron_id=patron.id,
                    branch_id=loan.branch_id,
                    status=HoldStatus.PICKED_UP,
                    placed_at=now - timedelta(days=20),
                    pickup_by=(now - timedelta(days=10)).date(),
                    ended_at=now - timedelta(days=14),
                ),
                InHouseUse(
                    item_id=item.id,
                    patron_id=patron.id,
                    branch_id=loan.branch_id,
                    started_at=now - timedelta(days=15, hours=2),
                    ended_at=now - timedelta(days=15),
                ),
                DueDateDiscrepancy(
                    at=now - timedelta(days=14),
                    patron_id=patron.id,
                    patron_campus_id=patron.patron_id,
                    request_number=request.request_number,
                    loan_id=loan.id,
                    system_date=loan.due_date + timedelta(days=3),
                    strap_date=loan.due_date,
                    branch_id=loan.branch_id,
                ),
                Notice(
                    kind="due_soon",
                    status=NoticeStatus.SENT,
                    recipient=patron.email,
                    patron_id=patron.id,
                    loan_id=loan.id,
                    subject="Due soon",
                    body=f"Dear {patron.first_name}, please return it.",
                    context=json.dumps({"patron": patron.display_name}),
                    created_at=now - timedelta(days=3),
                    sent_at=now - timedelta(days=3),
                ),
            ]
        )
        return Returned(
            loan.id,
            patron.id,
            item.id,
            request.id,
            request.title,
            request.request_number,
            request.lender_symbol,
        )


def _loan(rt: Runtime, loan_id: int) -> Loan:
    with rt.db.reading() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        return loan


@pytest.mark.parametrize(("days", "anonymised"), [(29, False), (30, True), (31, True)])
def test_loans_are_anonymised_from_the_thirtieth_day_after_return(
    demo_rt: Runtime, clock: FixedClock, days: int, anonymised: bool
) -> None:
    returned = _return_a_loan(demo_rt, clock)
    clock.advance(days=days)
    report = privacy.anonymise_closed_loans(demo_rt)
    loan = _loan(demo_rt, returned.loan_id)
    assert (loan.patron_id is None) is anonymised
    assert report.loans == (1 if anonymised else 0)
    assert report.retention_days == 30
    if anonymised:
        assert loan.anonymised_at == clock.now()
    else:
        assert loan.patron_id == returned.patron_id and loan.anonymised_at is None


def test_the_retention_period_is_the_librarys_setting(demo_rt: Runtime, clock: FixedClock) -> None:
    with demo_rt.db.transaction() as session:
        library_settings.save(session, retention_days=7)
    returned = _return_a_loan(demo_rt, clock)
    clock.advance(days=6, hours=23)
    assert privacy.anonymise_closed_loans(demo_rt).loans == 0
    clock.advance(hours=1)
    assert privacy.anonymise_closed_loans(demo_rt).loans == 1
    assert _loan(demo_rt, returned.loan_id).patron_id is None


def test_statistics_and_the_copyright_record_survive(demo_rt: Runtime, clock: FixedClock) -> None:
    returned = _return_a_loan(demo_rt, clock)
    before = _loan(demo_rt, returned.loan_id)
    clock.advance(days=30)
    privacy.anonymise_closed_loans(demo_rt)
    after = _loan(demo_rt, returned.loan_id)
    assert (after.checked_out_at, after.due_date, after.returned_at, after.item_id) == (
        before.checked_out_at,
        before.due_date,
        before.returned_at,
        before.item_id,
    )
    with demo_rt.db.reading() as session:
        request = session.get(IllRequest, returned.request_id)
        assert request is not None
        assert (request.title, request.request_number, request.lender_symbol) == (
            returned.title,
            returned.request_number,
            returned.lender,
        )
        assert request.created_at is not None and request.closed_at is not None
        assert request.patron_id is None
        # The patron record itself stays: only the link from this loan is cut.
        assert session.get(Patron, returned.patron_id) is not None


def test_every_link_around_the_loan_is_cut(demo_rt: Runtime, clock: FixedClock) -> None:
    returned = _return_a_loan(demo_rt, clock)
    clock.advance(days=31)
    report = privacy.anonymise_closed_loans(demo_rt)
    assert (report.hold_entries, report.in_house_uses, report.discrepancies) == (1, 1, 1)
    assert (report.requests, report.notices) == (1, 1)
    with demo_rt.db.reading() as session:
        holds = session.scalars(
            select(HoldShelfEntry).where(HoldShelfEntry.item_id == returned.item_id)
        ).all()
        assert [h.patron_id for h in holds] == [None]
        uses = session.scalars(select(InHouseUse).where(InHouseUse.item_id == returned.item_id))
        assert [u.patron_id for u in uses] == [None]
        [discrepancy] = session.scalars(
            select(DueDateDiscrepancy).where(DueDateDiscrepancy.loan_id == returned.loan_id)
        ).all()
        assert (discrepancy.patron_id, discrepancy.patron_campus_id) == (None, "")
        assert discrepancy.request_number == returned.request_number
        [notice] = session.scalars(select(Notice).where(Notice.loan_id == returned.loan_id))
        assert (notice.patron_id, notice.recipient, notice.body) == (None, "", "")
        assert "Renée" not in notice.context and notice.subject == "Due soon"


def test_other_patrons_and_open_loans_are_untouched(demo_rt: Runtime, clock: FixedClock) -> None:
    with demo_rt.db.reading() as session:
        open_before = {
            loan.id: loan.patron_id
            for loan in session.scalars(select(Loan).where(Loan.returned_at.is_(None)))
        }
        active_holds = {
            h.id: h.patron_id
            for h in session.scalars(
                select(HoldShelfEntry).where(HoldShelfEntry.status == HoldStatus.ACTIVE)
            )
        }
    returned = _return_a_loan(demo_rt, clock)
    clock.advance(days=100)
    privacy.anonymise_closed_loans(demo_rt)
    with demo_rt.db.reading() as session:
        for loan_id, patron_id in open_before.items():
            loan = session.get(Loan, loan_id)
            assert loan is not None
            if loan_id != returned.loan_id:
                assert loan.patron_id == patron_id is not None
        for hold_id, patron_id in active_holds.items():
            hold = session.get(HoldShelfEntry, hold_id)
            assert hold is not None and hold.patron_id == patron_id


def _charge(rt: Runtime, returned: Returned, clock: FixedClock) -> int:
    with rt.db.transaction() as session:
        charge = Charge(
            patron_id=returned.patron_id,
            item_id=returned.item_id,
            request_id=returned.request_id,
            kind=ChargeKind.PROCESSING_FEE,
            amount=Decimal("30.00"),
            reason="Processing fee for a damaged ILL item",
            created_at=clock.now(),
        )
        session.add(charge)
        session.flush()
        return charge.id


def test_an_unsettled_charge_keeps_the_link(demo_rt: Runtime, clock: FixedClock) -> None:
    returned = _return_a_loan(demo_rt, clock)
    charge_id = _charge(demo_rt, returned, clock)
    clock.advance(days=45)
    report = privacy.anonymise_closed_loans(demo_rt)
    assert (report.loans, report.kept_for_open_charges) == (0, 1)
    assert _loan(demo_rt, returned.loan_id).patron_id == returned.patron_id
    # The ILL office removes the charge on day 45: the 30 days count from then.
    with demo_rt.db.transaction() as session:
        charge = session.get(Charge, charge_id)
        assert charge is not None
        charge.removed_at = clock.now()
        charge.removed_reason = "Item repaired by the lender"
    clock.advance(days=29)
    report = privacy.anonymise_closed_loans(demo_rt)
    assert (report.loans, report.waiting_after_charges) == (0, 1)
    assert _loan(demo_rt, returned.loan_id).patron_id == returned.patron_id
    clock.advance(days=1)
    assert privacy.anonymise_closed_loans(demo_rt).loans == 1
    assert _loan(demo_rt, returned.loan_id).patron_id is None
    with demo_rt.db.reading() as session:
        # The bursar's record of the charge keeps its patron.
        charge = session.get(Charge, charge_id)
        assert charge is not None and charge.patron_id == returned.patron_id


def test_running_again_changes_nothing_and_the_run_is_audited_without_patron_data(
    demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt
) -> None:
    _return_a_loan(demo_rt, clock)
    _return_a_loan(demo_rt, clock, "T00345678")
    clock.advance(days=30)
    assert privacy.anonymise_closed_loans(demo_rt, actor_at("desk", "METRO")).loans == 2
    again = privacy.anonymise_closed_loans(demo_rt)
    assert (again.loans, again.hold_entries, again.notices) == (0, 0, 0)
    with demo_rt.db.reading() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.anonymise")
        ).all()
        assert (event.username, event.branch_code, event.patron_id) == ("desk", "METRO", None)
        assert event.after is not None and event.after["loans"] == 2
        assert "T00" not in json.dumps(event.after)


def test_the_daily_run_happens_once_a_day(demo_rt: Runtime, clock: FixedClock) -> None:
    returned = _return_a_loan(demo_rt, clock)
    first = privacy.run_if_due(demo_rt)
    assert first is not None and first.loans == 0
    clock.advance(hours=1)
    assert privacy.run_if_due(demo_rt) is None
    clock.advance(days=30)
    report = privacy.run_if_due(demo_rt)
    assert report is not None and report.loans == 1
    assert _loan(demo_rt, returned.loan_id).patron_id is None
    with demo_rt.db.reading() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.anonymise")
        ).all()
        assert event.username == "system" and event.staff_id is None


def test_a_negative_retention_setting_is_refused(demo_rt: Runtime) -> None:
    with demo_rt.db.transaction() as session, pytest.raises(InvalidInput, match="1 to 3650"):
        library_settings.save(session, retention_days=-1)
    with demo_rt.db.transaction() as session:  # a value stored before settings were checked
        session.add(LibrarySetting(key="retention_days", value=-1))
    with pytest.raises(InvalidInput, match="retention_days is -1; it must be 0 or more"):
        privacy.anonymise_closed_loans(demo_rt)


def test_privacy_run_command(demo_rt: Runtime, clock: FixedClock) -> None:
    _return_a_loan(demo_rt, clock)
    # The command reads the real clock: a loan returned 40 days before now is due.
    with demo_rt.db.transaction() as session:
        for loan in session.scalars(select(Loan).where(Loan.returned_at.is_not(None))):
            loan.returned_at = clock.now().replace(year=2000)
    out, err = io.StringIO(), io.StringIO()
    argv = ["privacy", "run", "--json", "--db", demo_rt.db.url, "--staff", "admin"]
    code = run(parse([*argv, "--branch", "NEC"]), out, err)
    assert code == 0, err.getvalue()
    [row] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert row["loans"] == 1 and row["retention_days"] == 30
    with pytest.raises(SystemExit):  # who runs it must be named (usage error, exit 2)
        parse(["privacy", "run", "--db", demo_rt.db.url])


def test_a_backlog_is_anonymised_in_small_transactions_past_loans_it_must_keep(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    first = _return_a_loan(demo_rt, clock, "T00123456")
    kept = _return_a_loan(demo_rt, clock, "T00345678")
    _charge(demo_rt, kept, clock)  # an open charge keeps this one linked
    last = _return_a_loan(demo_rt, clock, "T00456789")
    clock.advance(days=31)
    report = privacy.anonymise_closed_loans(demo_rt, batch=1)
    assert (report.loans, report.kept_for_open_charges) == (2, 1)
    assert _loan(demo_rt, first.loan_id).patron_id is None
    assert _loan(demo_rt, last.loan_id).patron_id is None
    assert _loan(demo_rt, kept.loan_id).patron_id == kept.patron_id
    with demo_rt.db.reading() as session:
        runs = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.anonymise")
        ).all()
    assert sorted(run.after["loans"] for run in runs if run.after) == [1, 1]


def test_a_closing_desk_stops_the_backlog_between_batches(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    for campus_id in ("T00123456", "T00456789"):
        _return_a_loan(demo_rt, clock, campus_id)
    clock.advance(days=31)
    stopped = privacy.anonymise_closed_loans(demo_rt, batch=1, keep_going=lambda: False)
    assert stopped.loans == 1  # the batch in hand was finished and committed
    assert privacy.anonymise_closed_loans(demo_rt).loans == 1  # the next run does the rest


def _loan_history(rt: Runtime, returned: Returned, clock: FixedClock) -> dict[str, int]:
    """The audit events a loan leaves, as the services write them; their ids by action."""
    from app.records import audit
    from tests.signed_in import as_desk, as_office

    desk, office = as_desk(rt), as_office(rt)
    now = clock.now()
    with rt.db.transaction() as session:
        patron = session.get(Patron, returned.patron_id)
        notice = session.scalar(select(Notice).where(Notice.loan_id == returned.loan_id))
        charge_item = session.scalar(select(Item).where(Item.id != returned.item_id))
        assert patron is not None and notice is not None and charge_item is not None
        said = f"{patron.first_name} {patron.last_name} ({patron.patron_id}) asked for it"
        common = {"item_id": returned.item_id, "patron_id": patron.id}
        events = [
            (office, "ill.receive", now - timedelta(days=22), "ill_request", returned.request_id,
             common, {}),
            (desk, "checkout", now - timedelta(days=21), "loan", returned.loan_id, common, {}),
            (desk, "checkout.override", now - timedelta(days=21), "loan", returned.loan_id,
             common, {"detail": said}),
            (office, "notice.edit", now - timedelta(days=4), "notice", notice.id,
             {"patron_id": patron.id}, {"before": {"recipient": patron.email},
                                        "after": {"body": f"Dear {patron.first_name}"}}),
            (desk, "check_in", now, "item", returned.item_id, common, {"detail": "hold_shelf"}),
            (office, "charge.remove", now, "charge", 1,
             {"item_id": charge_item.id, "patron_id": patron.id}, {"detail": "waived"}),
        ]  # fmt: skip
        for actor, action, at, entity, entity_id, links, extra in events:
            audit.record(
                session, actor, action, at=at, entity=entity, entity_id=entity_id, **links, **extra
            )
        session.flush()
        return {
            e.action: e.id
            for e in session.scalars(select(AuditEvent).where(AuditEvent.at <= now))
            if e.patron_id == patron.id and e.action in {a for _, a, *_ in events}
        }


def test_an_anonymised_loans_events_stay_but_no_longer_name_the_patron(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    from app.records.audit_search import AuditQuery, search_audit
    from tests.signed_in import as_office

    returned = _return_a_loan(demo_rt, clock)
    ids = _loan_history(demo_rt, returned, clock)
    with demo_rt.db.reading() as session:
        patron = session.get(Patron, returned.patron_id)
        assert patron is not None
        campus_id, name = patron.patron_id, f"{patron.first_name} {patron.last_name}"
    loan_actions = {"ill.receive", "checkout", "checkout.override", "notice.edit", "check_in"}

    def shown_under_patron() -> set[str]:
        rows = search_audit(demo_rt, as_office(demo_rt), AuditQuery(patron=campus_id)).rows
        return {r.action for r in rows}

    assert loan_actions <= shown_under_patron()
    clock.advance(days=29)  # not yet past retention: nothing changes
    privacy.anonymise_closed_loans(demo_rt)
    assert loan_actions <= shown_under_patron()

    clock.advance(days=1)
    report = privacy.anonymise_closed_loans(demo_rt)
    assert report.loans == 1 and report.audit_events == len(loan_actions)
    assert not loan_actions & shown_under_patron()
    with demo_rt.db.reading() as session:
        events = {e.action: e for e in session.scalars(select(AuditEvent))}
        for action in loan_actions:  # the event stays, the person goes
            assert events[action].id == ids[action]
            assert events[action].patron_id is None
            assert events[action].item_id in (returned.item_id, None)
            text = json.dumps([events[action].detail, events[action].before, events[action].after])
            assert campus_id not in text and name not in text and patron.email not in text
        assert events["checkout.override"].detail == "[patron] ([patron]) asked for it"
        assert events["check_in"].detail == "hold_shelf"
        assert events["notice.edit"].before is None and events["notice.edit"].after is None
        assert events["charge.remove"].patron_id == returned.patron_id  # the bursar's record
    item_rows = search_audit(
        demo_rt, as_office(demo_rt), AuditQuery(item_barcode=_barcode(demo_rt, returned))
    ).rows
    assert {r.action for r in item_rows} >= {"checkout", "check_in"}
    assert {r.patron_campus_id for r in item_rows} == {None}


def _barcode(rt: Runtime, returned: Returned) -> str:
    with rt.db.reading() as session:
        item = session.get(Item, returned.item_id)
        assert item is not None
        return item.barcode


def test_a_later_loan_of_the_same_item_keeps_its_events(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    from app.records import audit
    from tests.signed_in import as_desk

    returned = _return_a_loan(demo_rt, clock)
    _loan_history(demo_rt, returned, clock)
    clock.advance(days=2)
    with demo_rt.db.transaction() as session:  # the patron borrows it again, still out
        first = session.get(Loan, returned.loan_id)
        assert first is not None
        again = Loan(
            item_id=returned.item_id,
            patron_id=returned.patron_id,
            branch_id=first.branch_id,
            checked_out_at=clock.now(),
            due_date=clock.today() + timedelta(days=60),
        )
        session.add(again)
        session.flush()
        audit.record(
            session, as_desk(demo_rt), "checkout", at=clock.now(), entity="loan",
            entity_id=again.id, item_id=returned.item_id, patron_id=returned.patron_id,
        )  # fmt: skip
        later_id = again.id
    clock.advance(days=40)
    assert privacy.anonymise_closed_loans(demo_rt).loans == 1
    with demo_rt.db.reading() as session:
        checkouts = {
            e.entity_id: e.patron_id
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "checkout"))
            if e.entity_id in (returned.loan_id, later_id)
        }
    assert checkouts == {returned.loan_id: None, later_id: returned.patron_id}


def test_the_events_are_cleared_set_based_whatever_the_batch_size(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    """The statements per batch do not grow with the loans in it (none is per row)."""
    from sqlalchemy import event

    def statements_for(campus_ids: tuple[str, ...]) -> int:
        for campus_id in campus_ids:
            _loan_history(demo_rt, _return_a_loan(demo_rt, clock, campus_id), clock)
        clock.advance(days=31)
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(demo_rt.db.engine, "before_cursor_execute", count)
        try:
            report = privacy.anonymise_closed_loans(demo_rt, batch=10)
        finally:
            event.remove(demo_rt.db.engine, "before_cursor_execute", count)
        assert report.loans == len(campus_ids) and report.audit_events == 5 * len(campus_ids)
        return sum("audit_events" in s for s in seen)

    one = statements_for(("T00123456",))
    three = statements_for(("T00345678", "T00456789", "T00890123"))
    assert one == three <= 3


def _flag(rt: Runtime, returned: Returned, clock: FixedClock, *, cleared: bool) -> int:
    """A missing-piece flag on the returned item whose notes name the patron."""
    with rt.db.transaction() as session:
        patron = session.get(Patron, returned.patron_id)
        assert patron is not None
        loan = session.get(Loan, returned.loan_id)
        assert loan is not None
        flag = MissingPiece(
            item_id=returned.item_id,
            at=clock.now(),
            branch_id=loan.branch_id,
            note=f"{patron.first_name} {patron.last_name} ({patron.patron_id}) says the CD "
            "is at home",
            cleared_at=clock.now() + timedelta(days=2) if cleared else None,
            clear_note=f"{patron.last_name} brought it; mailed to {patron.email}"
            if cleared
            else "",
        )
        session.add(flag)
        session.flush()
        return flag.id


def test_cleared_missing_piece_notes_no_longer_name_the_patron(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    returned = _return_a_loan(demo_rt, clock)
    cleared = _flag(demo_rt, returned, clock, cleared=True)
    still_open = _flag(demo_rt, returned, clock, cleared=False)
    with demo_rt.db.reading() as session:
        patron = session.get(Patron, returned.patron_id)
        assert patron is not None
        names = (patron.first_name, patron.last_name, patron.patron_id, str(patron.email))
    clock.advance(days=31)
    report = privacy.anonymise_closed_loans(demo_rt)
    assert report.loans == 1 and report.missing_piece_notes == 1
    with demo_rt.db.reading() as session:
        done = session.get(MissingPiece, cleared)
        kept = session.get(MissingPiece, still_open)
        assert done is not None and kept is not None
        assert done.note == "[patron] ([patron]) says the CD is at home"
        assert done.clear_note == "[patron] brought it; mailed to [patron]"
        assert not any(name in done.note + done.clear_note for name in names)
        assert names[2] in kept.note  # the office's work in hand stays as typed
        scrubbed = (done.note, done.clear_note)
    # Another patron's loan later: only its item's flag is touched, the first stays as it is.
    later = _return_a_loan(demo_rt, clock, "T00345678")
    other = _flag(demo_rt, later, clock, cleared=True)
    clock.advance(days=31)
    again = privacy.anonymise_closed_loans(demo_rt)
    assert again.loans == 1 and again.missing_piece_notes == 1
    with demo_rt.db.reading() as session:
        first, second = session.get(MissingPiece, cleared), session.get(MissingPiece, other)
        assert first is not None and second is not None
        assert (first.note, first.clear_note) == scrubbed
        assert second.note.startswith("[patron] ([patron])")
