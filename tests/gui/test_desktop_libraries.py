"""A Linux desk without Qt's X11 libraries is told which packages to install, not a core dump."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ui import desktop_libraries, launcher
from ui.desktop_libraries import XCB_LIBRARIES, advice, missing_libraries

X11_DESKTOP = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}


def without(*sonames: str):  # type: ignore[no-untyped-def]
    return lambda soname: soname not in sonames


def test_missing_libraries_are_named_with_their_debian_packages() -> None:
    missing = missing_libraries(
        X11_DESKTOP, "linux", without("libxcb-cursor.so.0", "libxkbcommon-x11.so.0")
    )
    assert missing == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    text = advice(missing)
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0\n" in text
    assert "libxcb-cursor.so.0" in text


def test_nothing_is_checked_where_qt_will_not_use_x11() -> None:
    nothing_loads = without(*XCB_LIBRARIES)
    assert missing_libraries(X11_DESKTOP, "linux", lambda _: True) == []
    assert missing_libraries({**X11_DESKTOP, "QT_QPA_PLATFORM": "offscreen"}, "linux",
                             nothing_loads) == []  # fmt: skip
    wayland = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
    assert missing_libraries(wayland, "linux", nothing_loads) == []
    assert missing_libraries(X11_DESKTOP, "win32", nothing_loads) == []
    assert missing_libraries(X11_DESKTOP, "darwin", nothing_loads) == []


def test_the_desk_prints_the_packages_instead_of_starting_qt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(desktop_libraries, "_loads", without("libxcb-icccm.so.4"))
    monkeypatch.setattr(desktop_libraries.sys, "platform", "linux")

    def no_qt(*_: object) -> int:
        raise AssertionError("Qt must not start without its libraries")

    monkeypatch.setattr("ui.desk_app.run_gui", no_qt)
    assert launcher.main(["--demo-if-new"]) == 2
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-icccm4" in err
    assert "Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("ldd"),
                    reason="the X11 plugin exists on Linux only")  # fmt: skip
def test_the_list_covers_every_x11_library_the_pinned_qt_plugin_links() -> None:
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    needed: set[str] = set()
    for library in (qt / "plugins/platforms/libqxcb.so", qt / "lib/libQt6XcbQpa.so.6",
                    qt / "lib/libQt6Gui.so.6"):  # fmt: skip
        listing = subprocess.run(["ldd", str(library)], capture_output=True, text=True).stdout
        needed |= {line.split()[0] for line in listing.splitlines() if "=>" in line}
    x11 = {name for name in needed if name.startswith(("libxcb", "libxkb", "libX11"))}
    assert x11 and x11 <= set(XCB_LIBRARIES), x11 - set(XCB_LIBRARIES)
    for name in ("libGL.so.1", "libEGL.so.1", "libfontconfig.so.1", "libdbus-1.so.3"):
        assert name in needed and name in XCB_LIBRARIES
