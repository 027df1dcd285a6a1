"""Long work moves visibly on a terminal, and stays silent for scripts, pipes and --json."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.cli.progress_bar import terminal_progress
from app.library.runtime import Runtime
from app.notices.daily_run import queue_reminders
from app.records import privacy
from db.models import Loan
from tests.signed_in import as_office


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_rows_done_rate_and_time_left() -> None:
    screen = Terminal()
    with terminal_progress("Importing patrons", screen) as progress:
        for done in range(0, 101, 20):
            progress(done, 100)
    shown = screen.getvalue()
    assert "Importing patrons" in shown
    assert "100/100" in shown
    assert re.search(r"\d:\d\d:\d\d", shown)  # time left


def test_a_pipe_or_json_sees_nothing() -> None:
    piped, json_on_terminal = io.StringIO(), Terminal()
    with terminal_progress("Importing patrons", piped) as progress:
        progress(5, 10)
    with terminal_progress("Importing patrons", json_on_terminal, quiet=True) as progress:
        progress(5, 10)
    assert piped.getvalue() == "" and json_on_terminal.getvalue() == ""


def test_batch_jobs_report_their_progress_to_the_end(demo_rt: Runtime) -> None:
    calls: list[tuple[int, int]] = []
    queue_reminders(demo_rt, as_office(demo_rt), lambda done, total: calls.append((done, total)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
    calls.clear()
    with demo_rt.db.transaction() as session:  # the patrons' open loans come back
        for loan in session.scalars(
            select(Loan).where(Loan.returned_at.is_(None), Loan.patron_id.is_not(None))
        ):
            loan.returned_at = demo_rt.clock.now()
    demo_rt.clock.advance(days=400)  # type: ignore[attr-defined]
    report = privacy.anonymise_closed_loans(
        demo_rt, batch=1, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[0] == (0, calls[0][1]) and calls[-1][0] == calls[-1][1]
    assert calls[-1][1] == report.loans + report.kept_for_open_charges > 0
