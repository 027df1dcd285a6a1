"""The Check In banner read from two metres: pixel sizes at 1080p, nothing clipped at 800.

The application's own style sheet is on, as at the desk: it sets every widget's font, so a
banner that only called setFont would be as small as the rest of the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.desk.checkin import CheckInResult
from app.desk.routing import Outcome, Tone
from tests.gui.waiting import settle
from ui.desk_app import STYLE_SHEET
from ui.desk_session import DeskSession
from ui.screens.check_in_screen import CheckInScreen

pytestmark = pytest.mark.gui

LONGEST = CheckInResult(  # the hold shelf answer with every line it can have
    barcode="ILL00000018",
    outcome=Outcome.HOLD_SHELF,
    routing=Outcome.HOLD_SHELF,
    tone=Tone.GOOD,
    headline="Put on hold shelf: VAN DER BERGH-OYELARAN, M.",
    instructions=(
        "Put it on the hold shelf for VAN DER BERGH-OYELARAN, M. (T00345678).",
        "Pick up by Mon 16 Nov 2026. The patron is sent a ready-for-pickup notice.",
        "In-library use only: never check it out; record each use.",
    ),
    at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
    patron_id="T00345678",
    patron_name="VAN DER BERGH-OYELARAN, M.",
    pickup_by=date(2026, 11, 16),
)


@pytest.fixture
def desk_style(qapp: QApplication) -> Iterator[None]:
    before = qapp.styleSheet()
    qapp.setStyleSheet(STYLE_SHEET)
    yield
    qapp.setStyleSheet(before)


def at_size(qtbot: QtBot, session: DeskSession, width: int, height: int) -> CheckInScreen:
    screen = CheckInScreen(session)
    qtbot.addWidget(screen)
    screen.resize(width, height)
    screen.show()
    qtbot.waitExposed(screen)
    screen.banner.show_result(LONGEST)
    settle(qtbot)
    return screen


def clipped(label: QLabel) -> bool:
    """Whether the label's words need more room than it has (wrapped at its width)."""
    return label.isVisible() and label.heightForWidth(label.width()) > label.height()


@pytest.mark.parametrize(
    ("width", "height", "headline", "lines"), [(1920, 1080, 48, 24), (1280, 800, 36, 24)]
)
def test_banner_is_readable_from_two_metres_and_nothing_is_clipped(
    qtbot: QtBot,
    desk_session: Callable[[str, str], DeskSession],
    desk_style: None,
    width: int,
    height: int,
    headline: int,
    lines: int,
) -> None:
    screen = at_size(qtbot, desk_session("desk", "SE"), width, height)
    banner = screen.banner
    assert banner.headline.font().pixelSize() >= headline
    assert banner.target.font().pixelSize() >= lines
    assert banner.lines.font().pixelSize() >= lines  # the date, the strap, the mail
    for label in (banner.headline, banner.target, banner.lines):
        assert not clipped(label), label.objectName()
    assert banner.geometry().bottom() < screen.height()
    assert screen.history.height() >= 120  # the scans since sign-in still show


def test_banner_grows_with_the_window(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession], desk_style: None
) -> None:
    screen = at_size(qtbot, desk_session("desk", "SE"), 1280, 800)
    small = screen.banner.headline.font().pixelSize()
    screen.resize(1920, 1080)
    settle(qtbot)
    assert screen.banner.headline.font().pixelSize() > small
