"""Long work stopped from the window keeps what it committed and the next run finishes it.

Each job asks `keep_going` after a committed batch; here the watcher asks it to stop as soon
as the first batch reports in. On both databases: exactly that batch is in, the report says
it stopped, and running again does the rest without doing anything twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.borrowing.imports import import_patrons
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.progress import JobWatch
from app.library.runtime import Runtime
from app.notices import daily_run
from app.offline.journal import OfflineAction, OfflineJournal
from app.offline.replay import EntryStatus, replay_journal
from app.records import privacy
from app.workstation.config import WorkstationSettings
from db.models import AppliedScan, AuditEvent, Loan, Notice, Patron
from tests.signed_in import as_desk, as_office

HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"


class StopAfterFirstBatch(JobWatch):
    """A watcher who presses Stop as soon as the first batch is committed."""

    def progress(self, done: int, total: int) -> None:
        super().progress(done, total)
        if done:
            self.stop()


def _patrons(rt: Runtime, prefix: str) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Patron).where(Patron.patron_id.like(prefix + "%"))
            )
            or 0
        )


def test_a_stopped_import_keeps_its_first_batch_and_the_same_file_finishes_it(
    demo_rt: Runtime,
) -> None:
    rows = "".join(f"T0400{n:04d},,P{n},Q,p{n}@example.edu,student,METRO\n" for n in range(10))
    watch = StopAfterFirstBatch()
    office = as_office(demo_rt)
    report = import_patrons(
        demo_rt,
        office,
        HEADER + rows,
        batch_rows=4,
        progress=watch.progress,
        keep_going=watch.keep_going,
    )
    assert report.stopped and report.committed and report.inserted == 4
    assert _patrons(demo_rt, "T0400") == 4
    assert watch.seen().done == 4 and watch.seen().total == 10
    with demo_rt.db.reading() as session:
        run = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "import.patrons")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert run is not None and run.after is not None
        assert run.after["stopped_after_rows"] == 4 and "stopped after 4 of 10" in run.detail

    again = import_patrons(demo_rt, office, HEADER + rows, batch_rows=4)
    assert not again.stopped
    assert (again.inserted, again.unchanged) == (6, 4)
    assert _patrons(demo_rt, "T0400") == 10


def _returned_long_ago(rt: Runtime, clock: FixedClock, loans: int) -> None:
    with rt.db.transaction() as session:
        open_loans = session.scalars(
            select(Loan)
            .where(Loan.returned_at.is_(None), Loan.patron_id.is_not(None))
            .order_by(Loan.id)
            .limit(loans)
        ).all()
        assert len(open_loans) == loans
        for loan in open_loans:
            loan.returned_at = clock.now()
    clock.advance(days=400)


def _anonymised(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Loan).where(Loan.anonymised_at.is_not(None))
            )
            or 0
        )


def test_a_stopped_privacy_run_keeps_its_first_batch_and_the_next_run_does_the_rest(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    _returned_long_ago(demo_rt, clock, 3)
    before = _anonymised(demo_rt)
    watch = StopAfterFirstBatch()
    report = privacy.anonymise_closed_loans(
        demo_rt, batch=1, progress=watch.progress, keep_going=watch.keep_going
    )
    assert report.stopped and report.loans == 1
    assert _anonymised(demo_rt) == before + 1
    rest = privacy.anonymise_closed_loans(demo_rt, batch=1)
    assert not rest.stopped and rest.loans >= 2
    assert _anonymised(demo_rt) == before + 1 + rest.loans


def _reminders(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Notice)
                .where(Notice.kind.in_(("due_soon", "overdue")))
            )
            or 0
        )


def test_a_stopped_notices_run_queues_one_batch_and_the_next_run_the_rest(
    demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily_run, "REMINDER_BATCH", 1)
    office = as_office(demo_rt)
    before = _reminders(demo_rt)
    watch = StopAfterFirstBatch()
    first = daily_run.run_outbox(
        demo_rt, office, None, progress=watch.progress, keep_going=watch.keep_going
    )
    assert watch.seen().total >= 2, "the demo needs two reminders for this test"
    assert first.stopped and first.queued_due_soon + first.queued_overdue == 1
    assert _reminders(demo_rt) == before + 1
    assert "next run carries on" in first.message
    assert daily_run.daily_run_due(demo_rt, office)  # the day is not marked done

    rest = daily_run.run_daily_if_due(demo_rt, office, _no_mail_settings())
    assert rest is not None and not rest.stopped
    assert _reminders(demo_rt) == before + watch.seen().total  # none twice
    assert not daily_run.daily_run_due(demo_rt, office)


def _no_mail_settings() -> WorkstationSettings:
    return WorkstationSettings(branch_code="WS-ILL")  # no mail server: queue, do not send


def _journal(rt: Runtime, tmp_path: Path, barcodes: list[str]) -> OfflineJournal:
    journal = OfflineJournal(tmp_path / "data" / "journal")
    for barcode in barcodes:
        journal.record(
            at=rt.clock.now() - timedelta(hours=1),
            branch="METRO",
            staff="desk",
            action=OfflineAction.CHECKIN,
            barcode=barcode,
        )
    return journal


def _applied(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(AppliedScan)) or 0)


def test_a_stopped_replay_keeps_its_first_scan_and_the_next_replay_the_rest(
    demo_rt: Runtime, tmp_path: Path
) -> None:
    desk: Actor = as_desk(demo_rt)
    journal = _journal(demo_rt, tmp_path, ["ILL00000091", "31234000000001", "ILL00000018"])
    watch = StopAfterFirstBatch()
    stopped = replay_journal(
        demo_rt, desk, journal, progress=watch.progress, keep_going=watch.keep_going
    )
    assert stopped.stopped and not stopped.complete
    assert [e.status for e in stopped.entries] == [
        EntryStatus.APPLIED,
        EntryStatus.NOT_REPLAYED,
        EntryStatus.NOT_REPLAYED,
    ]
    assert stopped.entries[1].code == "stopped"
    assert _applied(demo_rt) == 1
    assert journal.pending() == 3  # kept, not archived

    rest = replay_journal(demo_rt, desk, journal)
    assert [e.status for e in rest.entries] == [
        EntryStatus.ALREADY_APPLIED,
        EntryStatus.APPLIED,
        EntryStatus.APPLIED,
    ]
    assert _applied(demo_rt) == 3 and rest.complete and not rest.stopped


def test_the_watch_measures_rate_and_time_left() -> None:
    now = [100.0]
    watch = JobWatch(clock=lambda: now[0])
    watch.progress(0, 1_000)
    assert watch.seen().rate is None and watch.seen().seconds_left is None
    now[0] += 2.0
    watch.progress(200, 1_000)
    seen = watch.seen()
    assert seen.rate == pytest.approx(100.0) and seen.seconds_left == pytest.approx(8.0)
    assert seen.fraction == pytest.approx(0.2) and not seen.stopping
    watch.stop()
    assert watch.seen().stopping and not watch.keep_going()
