"""Long work in the window shows rows done, rate and time left, and Stop ends it between
batches with what was committed kept (SQLite; the jobs' own stop tests run on both).

The jobs are held after each batch by a gate the test opens, so the window is seen at each
step without a sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.borrowing.patron_import import import_patrons
from app.library.runtime import Runtime
from db.models import Patron
from tests.gui.waiting import settle
from ui.admin import import_tab
from ui.admin.import_tab import ImportTab
from ui.desk_session import DeskSession

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
MakeSession = Callable[[str, str], DeskSession]
HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"
WAIT_MS = 10_000


class Gate:
    """Holds the job after each progress report until the test lets it go on."""

    def __init__(self) -> None:
        self.passes = threading.Semaphore(0)

    def let_through(self, batches: int = 1) -> None:
        for _ in range(batches):
            self.passes.release()

    def held(self, progress: Callable[[int, int], None]) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            progress(done, total)
            self.passes.acquire(timeout=WAIT_MS / 1000)

        return report


def _patrons(rt: Runtime) -> int:
    with rt.db.reading() as session:
        query = select(func.count()).select_from(Patron).where(Patron.patron_id.like("T0500%"))
        return int(session.scalar(query) or 0)


@pytest.fixture
def gated_import(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """The tab's patron import, 10 rows a batch, held after each batch by the gate."""
    gate = Gate()

    def held_import(*args: Any, progress: Callable[[int, int], None], **kw: Any) -> Any:
        return import_patrons(*args, progress=gate.held(progress), batch_rows=10, **kw)

    monkeypatch.setattr(import_tab, "import_patrons", held_import)
    return gate


def _tab(qtbot: QtBot, session: DeskSession, tmp_path: Path) -> ImportTab:
    rows = "".join(f"T0500{n:04d},,P{n},Q,p{n}@example.edu,student,METRO\n" for n in range(50))
    csv = tmp_path / "patrons.csv"
    csv.write_text(HEADER + rows, encoding="utf-8")
    tab = ImportTab(session)
    qtbot.addWidget(tab)
    tab.show()
    tab.file_input.setText(str(csv))
    return tab


def _shows(qtbot: QtBot, tab: ImportTab, text: str) -> None:
    qtbot.waitUntil(lambda: text in tab.progress.figures.text(), timeout=WAIT_MS)


def test_an_import_shows_rows_done_rate_and_time_left_and_stop_keeps_what_went_in(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path, gated_import: Gate
) -> None:
    session = desk_session("office", "WS-ILL")
    tab = _tab(qtbot, session, tmp_path)
    tab.start_button.click()
    assert tab.progress.isVisible() and tab.progress.stop_button.isEnabled()
    assert not tab.start_button.isEnabled()
    _shows(qtbot, tab, "0 of 50 rows")
    gated_import.let_through()
    _shows(qtbot, tab, "10 of 50 rows")
    first = tab.progress.bar.value()
    gated_import.let_through()
    _shows(qtbot, tab, "20 of 50 rows")
    assert tab.progress.bar.value() > first > 0  # the bar moves
    assert "rows/s" in tab.progress.figures.text() and "left" in tab.progress.figures.text()

    tab.progress.stop_button.click()  # while the job is held after its second batch
    assert "Stopping after the batch in hand" in tab.progress.figures.text()
    gated_import.let_through()
    settle(qtbot, tab.ops)
    assert _patrons(session.rt) == 20  # the two committed batches, nothing more
    assert "Stopped after 20 of 50 rows" in tab.progress.figures.text()
    said = tab.feedback.text()
    assert "Stopped" in said and "20 new" in said and "import the same file again" in said
    assert tab.start_button.isEnabled() and not tab.progress.stop_button.isVisible()

    gated_import.let_through(10)
    tab.start_button.click()  # the same file again finishes it
    settle(qtbot, tab.ops)
    assert _patrons(session.rt) == 50
    assert "30 new" in tab.feedback.text() and "20 unchanged" in tab.feedback.text()
    assert "Done" in tab.progress.figures.text()


def test_a_missing_file_is_said_plainly(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path
) -> None:
    tab = _tab(qtbot, desk_session("office", "WS-ILL"), tmp_path)
    tab.file_input.setText(str(tmp_path / "nowhere.csv"))
    tab.start_button.click()
    settle(qtbot, tab.ops)
    assert "There is no file" in tab.feedback.text()
    assert tab.start_button.isEnabled() and not tab.progress.running


def test_a_desk_account_is_refused_the_import(
    qtbot: QtBot, desk_session: MakeSession, tmp_path: Path
) -> None:
    tab = _tab(qtbot, desk_session("desk", "METRO"), tmp_path)
    tab.start_button.click()
    settle(qtbot, tab.ops)
    assert "✖" in tab.feedback.text() and not tab.progress.running
