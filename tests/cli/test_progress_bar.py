"""Long work moves visibly on a terminal, and stays silent for scripts, pipes and --json."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.cli.progress_bar import terminal_progress
from app.library.runtime import Runtime
from app.notices.daily_run import queue_reminders
from app.offline.journal import OfflineAction, OfflineJournal
from app.offline.replay import replay_journal
from app.records import privacy
from db.models import Loan
from tests.signed_in import as_desk, as_office


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


def test_an_offline_replay_reports_its_progress_scan_by_scan(
    demo_rt: Runtime, tmp_path: Path
) -> None:
    journal = OfflineJournal(tmp_path / "journal")
    for barcode in ("ILL00000018", "31234000000001"):
        journal.record(
            at=demo_rt.clock.now() - timedelta(hours=1),
            branch="METRO",
            staff="desk",
            action=OfflineAction.CHECKIN,
            barcode=barcode,
        )
    calls: list[tuple[int, int]] = []
    replay_journal(demo_rt, as_desk(demo_rt), journal, lambda d, t: calls.append((d, t)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


def _command(kind: str, tmp_path: Path) -> tuple[list[str], str]:
    """The command line of one of the four long jobs, and the title its bar shows."""
    if kind == "import":
        csv = tmp_path / "patrons.csv"
        csv.write_text(
            "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"
            "T06000001,,Pat,Q,pq@example.edu,student,METRO\n",
            encoding="utf-8",
        )
        return ["import", "patrons", str(csv), "--staff", "office"], "Importing patrons"
    if kind == "privacy":
        return ["privacy", "run", "--staff", "admin", "--branch", "NEC"], "Anonymising loans"
    if kind == "notices":
        return ["notices", "run", "--staff", "office"], "Queueing reminders"
    journal = OfflineJournal(tmp_path / "journal")
    journal.record(
        at=datetime.now(UTC) - timedelta(minutes=5),
        branch="METRO",
        staff="desk",
        action=OfflineAction.CHECKIN,
        barcode="31234000000001",
    )
    return ["offline", "replay", str(journal.path), "--staff", "office"], "Replaying scans"


@pytest.mark.parametrize("kind", ["import", "privacy", "notices", "replay"])
def test_each_long_command_draws_its_bar_on_a_terminal_and_never_with_json(
    demo_rt: Runtime, tmp_path: Path, kind: str
) -> None:
    argv, title = _command(kind, tmp_path)
    on_terminal, with_json = Terminal(), Terminal()
    code = run(parse(["--db", demo_rt.db.url, *argv]), io.StringIO(), on_terminal)
    assert code == 0, on_terminal.getvalue()
    assert title in on_terminal.getvalue()
    out = io.StringIO()
    code = run(parse(["--db", demo_rt.db.url, "--json", *argv]), out, with_json)
    assert code == 0, with_json.getvalue()
    assert title not in with_json.getvalue() and "\x1b" not in with_json.getvalue()
    assert all(line.startswith("{") for line in out.getvalue().splitlines())
