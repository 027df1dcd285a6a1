"""The start-up benchmark's probe: off unless asked; when asked, it walks the real start-up
(sign-in dialog, main window, Check In) and says when the scan field has the focus."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.cli.main import parse
from ui import desk_app, startup_probe

pytestmark = pytest.mark.gui


def test_probe_is_off_unless_the_variable_is_exactly_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(startup_probe.ENVIRONMENT_VARIABLE, raising=False)
    assert not startup_probe.requested()
    monkeypatch.setenv(startup_probe.ENVIRONMENT_VARIABLE, "yes")
    assert not startup_probe.requested()
    monkeypatch.setenv(startup_probe.ENVIRONMENT_VARIABLE, "1")
    assert startup_probe.requested()


def test_desk_started_with_the_probe_signs_in_and_reports_the_focused_scan_field(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(startup_probe.ENVIRONMENT_VARIABLE, "1")
    args = parse(["--db", f"sqlite:///{tmp_path / 'desk.db'}", "--demo-if-new"])
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(lambda: app.exit(9))  # a broken probe fails instead of hanging
    give_up.start(60_000)
    quits_on_last_window = app.quitOnLastWindowClosed()
    try:
        code = desk_app.run_gui(args)
    finally:
        give_up.stop()
        app.setQuitOnLastWindowClosed(quits_on_last_window)
        for widget in QApplication.topLevelWidgets():
            widget.close()
    assert code == 0
    assert startup_probe.REPORT_LINE in capsys.readouterr().out
