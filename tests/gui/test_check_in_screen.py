"""The Check In screen as a desk worker meets it: a scanner burst, the banner, the list."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.desk.checkin import CheckInResult
from app.desk.routing import Outcome, Tone
from app.library.runtime import Runtime
from app.workstation.config import WorkstationSettings
from db.models import AuditEvent, Base, Item, NotFoundScan, Transit
from tests.gui.waiting import settle
from ui import sounds
from ui.desk_session import DeskSession
from ui.screens import check_in_screen
from ui.screens.check_in_screen import CheckInScreen
from ui.widgets import banner_looks
from ui.widgets.routing_banner import RoutingBanner
from ui.widgets.scan_field import ScanField

pytestmark = pytest.mark.gui

SCANNER_MS_PER_CHAR = 3  # a keyboard-wedge scanner types a burst a few ms per character
WAIT_MS = 10_000


@pytest.fixture
def backend() -> str:
    """Routing itself is tested on both databases; one test below runs this screen on both."""
    return "sqlite"


@pytest.fixture
def open_screen(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> Iterator[Callable[[str], CheckInScreen]]:
    def make(branch: str = "SE") -> CheckInScreen:
        screen = CheckInScreen(desk_session("desk", branch))
        qtbot.addWidget(screen)
        screen.resize(1100, 800)
        screen.show()
        qtbot.waitExposed(screen)
        screen.activateWindow()
        screen.activate()
        qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)
        return screen

    yield make


def scan(qtbot: QtBot, screen: CheckInScreen, barcode: str) -> None:
    qtbot.keyClicks(screen.scan_field, barcode, delay=SCANNER_MS_PER_CHAR)
    qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)


def scan_and_wait(qtbot: QtBot, screen: CheckInScreen, barcode: str) -> CheckInResult:
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        scan(qtbot, screen, barcode)
    result = blocker.args[0]
    assert isinstance(result, CheckInResult)
    return result


def count(rt: Runtime, model: type[Base]) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_scanner_burst_shows_hold_shelf_banner_with_patron(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    result = scan_and_wait(qtbot, screen, "ILL00000018")

    assert result.outcome is Outcome.HOLD_SHELF
    banner = screen.banner
    assert banner.objectName() == "routingBanner"
    assert screen.scan_field.objectName() == "scanInput"
    assert banner.look.key == "shelf"
    assert banner.headline.text() == "Put on hold shelf: NGUYEN, M."
    assert "T00345678" in banner.target.text()
    assert "hold shelf" in banner.lines.text()
    assert not banner.icon.pixmap().isNull()  # an icon, not colour alone
    assert screen.sounds.last_sound == "good"
    assert screen.scan_field.text() == ""
    assert screen.scan_list.count() == 1
    assert "ILL00000018" in screen.scan_list.item(0).text()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_scans_back_to_back_are_both_processed_in_order(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen], backend: str
) -> None:
    screen = open_screen("METRO")
    results: list[CheckInResult] = []
    screen.scanProcessed.connect(results.append)

    scan(qtbot, screen, "ILL00000026")  # belongs at WEST
    scan(qtbot, screen, "ILL00000091")  # returned by its patron: to the ILL office
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)

    assert [(r.barcode, r.outcome) for r in results] == [
        ("ILL00000026", Outcome.TRANSIT),
        ("ILL00000091", Outcome.RETURN_TO_ILL_OFFICE),
    ]
    assert screen.banner.look.key == "ill_office"  # the last scan's answer: yellow strap
    assert screen.banner.headline.text() == "Return to WS-ILL"
    assert screen.sounds.last_sound == "office"
    assert screen.scan_list.count() == 2
    assert "ILL00000091" in screen.scan_list.item(0).text()  # newest first


def test_keystrokes_typed_while_a_scan_is_processed_are_kept(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    results: list[CheckInResult] = []
    screen.scanProcessed.connect(results.append)
    scan(qtbot, screen, "ILL00000018")
    qtbot.keyClicks(screen.scan_field, "ILL0000", delay=SCANNER_MS_PER_CHAR)  # mid-burst
    qtbot.waitUntil(lambda: len(results) == 1, timeout=WAIT_MS)
    assert screen.scan_field.text() == "ILL0000"
    qtbot.keyClicks(screen.scan_field, "0026", delay=SCANNER_MS_PER_CHAR)
    qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    assert results[1].barcode == "ILL00000026" and results[1].outcome is Outcome.TRANSIT


def test_focus_returns_to_scan_field_after_clicking_elsewhere(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    scan_and_wait(qtbot, screen, "ILL00000018")

    list_item = screen.scan_list.item(0)
    where = screen.scan_list.visualItemRect(list_item).center()
    qtbot.mouseClick(screen.scan_list.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert screen.selected_result() is not None  # the click still selected the scan
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)

    screen.reprint_button.setFocus()
    qtbot.mouseClick(screen.banner, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)
    # And the next scan lands in the field.
    assert scan_and_wait(qtbot, screen, "ILL00000026").outcome is Outcome.TRANSIT


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "4" * 10_000,
        "\t\x07\x1b\x00",
        "'; DROP TABLE items; --",
        "ILL00000019",
    ],
    ids=["empty", "10000-chars", "control-chars", "sql", "bad-check-digit"],
)
def test_bad_input_gives_a_clear_message_and_changes_nothing(
    qtbot: QtBot,
    open_screen: Callable[[str], CheckInScreen],
    demo_rt: Runtime,
    typed: str,
) -> None:
    screen = open_screen("METRO")
    before = [count(demo_rt, m) for m in (AuditEvent, NotFoundScan, Transit, Item)]
    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        if len(typed) > 100 or not typed.isprintable():
            screen.scan_field.insert(typed)  # a paste, or what a misconfigured scanner sends
        else:
            qtbot.keyClicks(screen.scan_field, typed, delay=SCANNER_MS_PER_CHAR)
        qtbot.keyClick(screen.scan_field, Qt.Key.Key_Return)
    result = blocker.args[0]

    assert result.outcome is Outcome.INVALID_SCAN
    assert screen.banner.look.key == "refused"
    assert screen.banner.headline.text() == "Scan again: scan not accepted"
    message = screen.banner.lines.text()
    assert message and ("Scan" in message or "scan" in message)
    assert len(screen.banner.target.text()) < 80  # a 10,000-character scan is not echoed
    assert screen.sounds.last_sound == "refused"
    assert [count(demo_rt, m) for m in (AuditEvent, NotFoundScan, Transit, Item)] == before
    assert screen.scan_field.text() == ""


def test_double_read_within_a_second_is_ignored_with_a_note(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    now = [100.0]
    screen.scan_field._monotonic = lambda: now[0]
    results: list[CheckInResult] = []
    screen.scanProcessed.connect(results.append)

    scan(qtbot, screen, "ILL00000018")
    now[0] += 0.3
    scan(qtbot, screen, "ILL00000018")
    qtbot.waitUntil(lambda: len(results) == 1, timeout=WAIT_MS)
    assert screen.note.isVisible()
    assert "read twice" in screen.note.text()

    now[0] += 2.0  # a deliberate second scan later is checked in
    result = scan_and_wait(qtbot, screen, "ILL00000018")
    assert result.outcome is Outcome.ALREADY_CHECKED_IN
    assert not screen.note.isVisible()
    assert len(results) == 2


def test_not_found_banner_leads_to_barcode_recovery_and_one_click_check_in(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    result = scan_and_wait(qtbot, screen, "39999999")
    assert result.outcome is Outcome.NOT_FOUND
    assert screen.banner.look.key == "not_found"
    assert "Barcode recovery" in screen.banner.lines.text()
    assert screen.banner.target.text() == "Scanned: 39999999"
    assert screen.banner.recovery_button.isVisible()

    qtbot.mouseClick(screen.banner.recovery_button, Qt.MouseButton.LeftButton)
    panel = screen.recovery
    assert panel.isVisible()
    qtbot.waitUntil(panel.patron_input.hasFocus, timeout=WAIT_MS)
    qtbot.keyClicks(panel.patron_input, "T00123456")
    qtbot.keyClick(panel.patron_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 0).text() == "ILL00000091"

    with qtbot.waitSignal(screen.scanProcessed, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.check_in_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].outcome is Outcome.RETURN_TO_ILL_OFFICE
    qtbot.waitUntil(screen.scan_field.hasFocus, timeout=WAIT_MS)


def test_barcode_recovery_on_its_own_by_title_and_bad_input(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    qtbot.mouseClick(screen.recovery_button, Qt.MouseButton.LeftButton)
    panel = screen.recovery
    assert panel.isVisible()
    qtbot.keyClicks(panel.title_input, "x")
    qtbot.keyClick(panel.title_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "at least 3 letters" in panel.message.text()
    panel.title_input.clear()
    qtbot.keyClicks(panel.title_input, "escher")
    qtbot.keyClick(panel.title_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())] == ["ILL00000018"]
    panel.patron_input.setText("'; DROP TABLE patrons; --")
    qtbot.keyClick(panel.patron_input, Qt.Key.Key_Return)
    settle(qtbot)
    assert "campus ID" in panel.message.text() and panel.table.rowCount() == 0


def test_selecting_a_scan_shows_details_and_reprints_its_slip(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("SE")
    scan_and_wait(qtbot, screen, "ILL00000018")
    screen.scan_list.setCurrentRow(0)
    details = screen.details.text()
    assert "NGUYEN, M. (T00345678)" in details
    assert "Pick up by" in details
    assert screen.reprint_button.isEnabled()

    with qtbot.waitSignal(screen.slips.message, timeout=WAIT_MS) as printed:
        qtbot.mouseClick(screen.reprint_button, Qt.MouseButton.LeftButton)
    assert screen.slips.last_path is not None  # no printer on a test machine: saved as PDF
    assert screen.slips.last_path.read_bytes().startswith(b"%PDF")
    if os.name == "posix":  # the slip names the patron: the folder and the file are private
        assert stat.S_IMODE(screen.slips.last_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(screen.slips.last_path.parent.stat().st_mode) == 0o700
    assert "Saved" in printed.args[0]
    assert screen.print_message.text() == printed.args[0]


def test_automatic_slip_never_opens_a_dialog_in_the_scan_path(
    qtbot: QtBot, desk_session: Callable[[str, str], DeskSession]
) -> None:
    session = desk_session("desk", "METRO")
    session.settings.auto_print = ["transit"]
    screen = CheckInScreen(session)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.slips.message, timeout=WAIT_MS):
        screen.enqueue("ILL00000026")
    assert screen.slips.last_path is not None and screen.slips.last_path.exists()
    assert "WEST" in screen.banner.headline.text()


def test_reshelve_has_no_slip_to_reprint(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen]
) -> None:
    screen = open_screen("METRO")
    assert scan_and_wait(qtbot, screen, "31234000000001").outcome is Outcome.RESHELVE
    screen.scan_list.setCurrentRow(0)
    assert not screen.reprint_button.isEnabled()


def test_unexpected_failure_is_a_banner_not_a_traceback(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen], monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = open_screen("SE")

    def broken(*args: object, **kwargs: object) -> CheckInResult:
        raise RuntimeError("a bug")

    real = check_in_screen.check_in
    monkeypatch.setattr(check_in_screen, "check_in", broken)
    with qtbot.waitSignal(screen.scanFailed, timeout=WAIT_MS):
        scan(qtbot, screen, "ILL00000018")
    assert screen.banner.look.key == "refused"
    assert screen.banner.headline.text() == "Not checked in"
    assert "Scan the item again" in screen.banner.lines.text()
    assert screen.sounds.last_sound == "refused"
    assert "not checked in" in screen.scan_list.item(0).text()

    monkeypatch.setattr(check_in_screen, "check_in", real)  # the next scan works
    assert scan_and_wait(qtbot, screen, "ILL00000026").outcome is Outcome.TRANSIT


def test_sounds_work_silently_without_audio_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, qtbot: QtBot
) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # import fails
    monkeypatch.setattr(sounds, "_effect_class", None)
    monkeypatch.setattr(sounds, "_unavailable_reason", None)
    with caplog.at_level("WARNING", logger="ui.sounds"):
        first = sounds.SoundPlayer(WorkstationSettings())
        second = sounds.SoundPlayer(WorkstationSettings())
        assert first.play(Tone.PROBLEM) is False
        assert second.play(Tone.GOOD) is False
    assert not first.available
    assert first.last_tone is Tone.PROBLEM
    warnings = [r for r in caplog.records if "sounds are off" in r.getMessage()]
    assert len(warnings) == 1


def test_a_distinct_sound_file_for_each_family_ships_with_the_app() -> None:
    contents = {
        sound: (sounds.SOUND_DIR / name).read_bytes() for sound, name in sounds.SOUND_FILES.items()
    }
    assert set(contents) == {"good", "move", "office", "not_found", "refused", "not_sure"}
    assert all(data.startswith(b"RIFF") and b"WAVE" in data[:12] for data in contents.values())
    assert len(set(contents.values())) == 6


def test_muted_player_plays_nothing_and_follows_the_settings(qtbot: QtBot) -> None:
    settings = WorkstationSettings(sound_muted=True, sound_volume=150)
    player = sounds.SoundPlayer(settings)
    assert player.play(Tone.GOOD) is False
    assert player.last_tone is Tone.GOOD
    assert player.volume == 100  # clamped
    settings.sound_muted = False
    settings.sound_volume = 0
    assert not player.muted and player.play(Tone.MOVE) is False  # volume 0 is silence


def test_scan_field_trims_whitespace_and_control_characters(qtbot: QtBot) -> None:
    field = ScanField()
    qtbot.addWidget(field)
    got: list[str] = []
    field.scanned.connect(got.append)
    field.setText("  ILL00000018\t")
    field.returnPressed.emit()
    assert got == ["ILL00000018"]
    assert field.objectName() == "scanInput"


def test_labels_have_object_names(open_screen: Callable[[str], CheckInScreen]) -> None:
    screen = open_screen("SE")
    for name in ("scanInput", "routingBanner", "scanList", "reprintButton", "recoveryButton"):
        assert screen.findChild(object, name) is not None, name
    assert isinstance(screen.findChild(QLabel, "bannerHeadline"), QLabel)


def test_a_long_shift_keeps_only_the_latest_scans_in_the_list(
    qtbot: QtBot, open_screen: Callable[[str], CheckInScreen], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_in_screen, "SCAN_LIST_LIMIT", 3)
    screen = open_screen("METRO")
    for n in range(5):
        scan_and_wait(qtbot, screen, f"UNKNOWN{n}")
    assert screen.scan_list.count() == 3
    assert [screen.scan_list.item(i).text().split()[1] for i in range(3)] == [
        "UNKNOWN4",
        "UNKNOWN3",
        "UNKNOWN2",
    ]


def test_banner_paints_each_answer_in_its_own_colour_and_text_colour(qtbot: QtBot) -> None:
    """The colours a person sees, read back from the painted banner, as the looks change
    (and change back: the style follows the look, not the first one shown)."""
    banner = RoutingBanner()
    qtbot.addWidget(banner)
    banner.resize(900, 260)
    banner.show()
    qtbot.waitExposed(banner)

    def painted() -> tuple[str, str]:
        image = banner.grab().toImage()
        background = image.pixelColor(12, banner.height() // 2).name()
        headline = banner.headline.palette().color(banner.headline.foregroundRole()).name()
        return background, headline

    for headline, look in [
        ("Not accepted", banner_looks.REFUSED),
        ("Hold shelf", banner_looks.SHELF),
        ("Return", banner_looks.ILL_OFFICE),
        ("Not found", banner_looks.NOT_FOUND),
        ("Not accepted again", banner_looks.REFUSED),
        ("Transit", banner_looks.ROUTE),
        ("Not sure", banner_looks.NOT_SURE),
    ]:
        banner._paint(look, headline, "", ())
        assert banner.look is look
        assert painted() == (look.background, look.foreground), headline
        assert not banner.icon.pixmap().isNull()
    banner.show_idle()
    assert painted() == (banner_looks.IDLE.background, banner_looks.IDLE.foreground)
