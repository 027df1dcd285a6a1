"""Each family of check-in answers looks and sounds like itself, on the banner and in the
history: "not found" is never mistaken for "scan not accepted", even by a colour-blind
worker, and the banner keeps one height so the history below it never jumps."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QListWidgetItem
from pytestqt.qtbot import QtBot

from app.desk.checkin import CheckInResult
from app.desk.routing import Outcome, Tone
from app.offline.provisional import OFFLINE_REASON
from tests.gui.waiting import settle
from ui import sounds
from ui.desk_app import STYLE_SHEET
from ui.desk_session import DeskSession
from ui.icons import ICON_DIR
from ui.screens.check_in_screen import LOOK_ROLE, CheckInScreen
from ui.widgets.banner_looks import FAMILY_LOOKS, Family, family_of

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # looks, not data


@pytest.fixture
def desk_style(qapp: QApplication) -> Iterator[None]:
    before = qapp.styleSheet()
    qapp.setStyleSheet(STYLE_SHEET)
    yield
    qapp.setStyleSheet(before)


def answer(outcome: Outcome, routing: Outcome | None = None, **more: object) -> CheckInResult:
    base = CheckInResult(
        barcode="ILL00000018",
        outcome=outcome,
        routing=routing or outcome,
        tone=Tone.PROBLEM,
        headline="Headline",
        instructions=("One line.",),
        at=AT,
    )
    return replace(base, **more)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "family"),
    [
        (answer(Outcome.HOLD_SHELF), Family.SHELF),
        (answer(Outcome.RESHELVE), Family.SHELF),
        (answer(Outcome.TRANSIT), Family.ROUTE),
        (answer(Outcome.ALREADY_CHECKED_IN, Outcome.TRANSIT), Family.ROUTE),
        (answer(Outcome.RETURN_TO_ILL_OFFICE), Family.ILL_OFFICE),
        (answer(Outcome.REQUEST_CANCELLED), Family.ILL_OFFICE),
        (answer(Outcome.LENDER_BARCODE, Outcome.RETURN_TO_ILL_OFFICE), Family.ILL_OFFICE),
        (answer(Outcome.NOT_FOUND), Family.NOT_FOUND),
        (answer(Outcome.INVALID_SCAN), Family.REFUSED),
        (answer(Outcome.CHANGED_ELSEWHERE), Family.REFUSED),
        (answer(Outcome.TRANSIT, reason=OFFLINE_REASON), Family.NOT_SURE),
        (answer(Outcome.NOT_FOUND, reason=OFFLINE_REASON), Family.NOT_SURE),
    ],
    ids=lambda value: value.outcome.value if isinstance(value, CheckInResult) else str(value),
)
def test_each_answer_belongs_to_the_family_of_what_is_done_with_the_item(
    result: CheckInResult, family: Family
) -> None:
    assert family_of(result) is family


# --- colours a colour-blind worker tells apart -----------------------------------------

# Viénot, Brettel and Mollon (1999) for protanopia and deuteranopia, Machado et al. (2009)
# for tritanopia: linear-RGB matrices simulating how each colour is seen.
SIMULATIONS = {
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protan": ((0.1523, 1.0526, -0.2049), (0.1145, 0.7863, 0.0992), (-0.0039, -0.0481, 1.0520)),
    "deutan": ((0.3673, 0.8606, -0.2280), (0.2801, 0.6725, 0.0474), (-0.0118, 0.0429, 0.9689)),
    "tritan": ((1.2555, -0.0767, -0.1788), (-0.0784, 0.9308, 0.1476), (0.0047, 0.6914, 0.3039)),
}


def _linear(colour: str) -> tuple[float, ...]:
    c = QColor(colour)
    return tuple(
        v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
        for v in (c.redF(), c.greenF(), c.blueF())
    )


def _lab(rgb: tuple[float, ...]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, v)) for v in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def seen_as(colour: str, vision: str) -> tuple[float, float, float]:
    rgb = _linear(colour)
    matrix = SIMULATIONS[vision]
    return _lab(tuple(sum(m * v for m, v in zip(row, rgb, strict=True)) for row in matrix))


def contrast(one: str, two: str) -> float:
    lum = [sum(w * v for w, v in zip((0.2126, 0.7152, 0.0722), _linear(c), strict=True))
           for c in (one, two)]  # fmt: skip
    return (max(lum) + 0.05) / (min(lum) + 0.05)


def test_each_family_has_its_own_colour_icon_and_sound() -> None:
    looks = list(FAMILY_LOOKS.values())
    assert set(FAMILY_LOOKS) == set(Family)
    for attribute in ("key", "icon", "background", "sound", "colour"):
        values = [getattr(look, attribute) for look in looks]
        assert len(set(values)) == len(values), attribute
    for look in looks:
        assert (ICON_DIR / f"{look.icon}.svg").is_file(), look.icon
        assert (sounds.SOUND_DIR / sounds.SOUND_FILES[look.sound]).is_file(), look.sound


@pytest.mark.parametrize("vision", sorted(SIMULATIONS))
def test_family_colours_stay_apart_for_colour_blind_vision_and_carry_their_words(
    vision: str,
) -> None:
    looks = list(FAMILY_LOOKS.values())
    for one, two in itertools.combinations(looks, 2):
        distance = math.dist(seen_as(one.background, vision), seen_as(two.background, vision))
        assert distance >= 15, (vision, one.key, two.key, round(distance, 1))
    for look in looks:
        assert contrast(look.background, look.foreground) >= 4.5, look.key


# --- on the Check In screen --------------------------------------------------------------


@pytest.fixture
def screen(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession], desk_style: None
) -> CheckInScreen:
    made = CheckInScreen(desk_session("desk", "SE"))
    qtbot.addWidget(made)
    made.resize(1280, 760)
    made.show()
    qtbot.waitExposed(made)
    made.activate()
    return made


def scan(qtbot: QtBot, screen: CheckInScreen, barcode: str) -> CheckInResult:
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        qtbot.keyClicks(screen.scan_field, barcode, delay=3)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert isinstance(result, CheckInResult)
    return result


def icon_image(item: QListWidgetItem) -> QImage:
    return item.icon().pixmap(28, 28).toImage()


def test_not_found_and_scan_not_accepted_differ_on_the_banner_and_in_the_history(
    qtbot: QtBot, screen: CheckInScreen
) -> None:
    assert scan(qtbot, screen, "39999999").outcome is Outcome.NOT_FOUND
    not_found = screen.banner.look
    not_found_icon = screen.banner.icon.pixmap().toImage()
    not_found_sound = screen.sounds.last_sound
    assert scan(qtbot, screen, "ILL00000019").outcome is Outcome.INVALID_SCAN  # check digit
    refused = screen.banner.look

    assert (not_found.key, refused.key) == ("not_found", "refused")
    assert not_found.background != refused.background
    assert not_found_icon != screen.banner.icon.pixmap().toImage()
    assert not_found_sound != screen.sounds.last_sound
    newest, older = screen.scan_list.item(0), screen.scan_list.item(1)
    assert newest.data(LOOK_ROLE) == "refused" and older.data(LOOK_ROLE) == "not_found"
    assert newest.background().color() == QColor(refused.background)
    assert older.background().color() == QColor(not_found.background)
    assert newest.foreground().color() == QColor(refused.foreground)
    assert not icon_image(newest).isNull() and icon_image(newest) != icon_image(older)
    accessible = newest.data(Qt.ItemDataRole.AccessibleTextRole)
    assert accessible.startswith("Not accepted")


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 760)])
def test_banner_keeps_one_height_whatever_the_answer(
    qtbot: QtBot, screen: CheckInScreen, width: int, height: int
) -> None:
    screen.resize(width, height)
    settle(qtbot)
    longest = answer(
        Outcome.LENDER_BARCODE,
        Outcome.HOLD_SHELF,
        tone=Tone.GOOD,
        headline="Put on hold shelf: VAN DER BERGH-OYELARAN, M.",
        instructions=(
            "Put it on the hold shelf for VAN DER BERGH-OYELARAN, M. (T00345678).",
            "Pick up by Mon 16 Nov 2026. The patron is sent a ready-for-pickup notice.",
            "In-library use only: never check it out; record each use.",
            "You scanned the lender's own barcode. Next time scan the barcode at the TOP "
            "of the strap.",
        ),
        patron_id="T00345678",
        patron_name="VAN DER BERGH-OYELARAN, M.",
    )
    answers = [
        answer(Outcome.RESHELVE, tone=Tone.GOOD, headline="Reshelve"),
        longest,
        answer(
            Outcome.NOT_FOUND,
            headline="Try Barcode recovery: not found",
            instructions=(
                "No item has this barcode. The scan is logged for the ILL office.",
                "Strap removed from an ILL item? Open Barcode recovery: patron ID or title.",
                "A book of another library system? Yellow flag, send to WS-ILL, the ILL office.",
            ),
        ),
        answer(Outcome.INVALID_SCAN, headline="Scan again: scan not accepted"),
    ]
    places = set()
    for result in answers:
        screen.banner.show_result(result)
        QApplication.processEvents()
        places.add((screen.banner.height(), screen.history.geometry().top()))
        for label in (screen.banner.headline, screen.banner.lines):
            assert label.heightForWidth(label.width()) <= label.height(), result.outcome
    assert len(places) == 1, places
