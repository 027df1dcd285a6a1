"""The Linux system libraries Qt's X11 (xcb) platform plugin needs, checked before Qt starts.

Without one of them Qt aborts with "Could not load the Qt platform plugin 'xcb'" and a core
dump: nothing a desk worker or an IT person can act on. The launcher asks first and names
the Debian/Ubuntu packages to install. The list is the plugin's own dependencies for the
pinned PySide6 (`ldd .../PySide6/Qt/plugins/platforms/libqxcb.so`, and the Qt libraries it
loads); `tests/gui/test_desktop_libraries.py` keeps it in step with the installed plugin.
Windows and macOS need nothing: Qt's wheels carry their own libraries there.

No Qt import here: this runs before Qt loads.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# Shared library (soname) -> the Debian/Ubuntu package that installs it.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ: Mapping[str, str], platform: str) -> bool:
    """True when Qt will pick its X11 plugin: Linux, no QT_QPA_PLATFORM, not a Wayland session."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return False
    wayland = environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY")
    return bool(environ.get("DISPLAY")) and not wayland


def missing_libraries(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    loads: Callable[[str], bool] | None = None,
) -> list[str]:
    """The sonames the X11 plugin needs that this computer cannot load ([] when all load)."""
    environ = os.environ if environ is None else environ
    loads = _loads if loads is None else loads  # looked up now, so a test can replace it
    if not uses_xcb(environ, sys.platform if platform is None else platform):
        return []
    return [soname for soname in XCB_LIBRARIES if not loads(soname)]


def advice(missing: list[str]) -> str:
    """What to tell the person starting the desk: which packages, and the command."""
    packages = sorted({XCB_LIBRARIES[soname] for soname in missing})
    return (
        "illdesk: the desk window cannot open: this computer lacks system libraries that "
        f"Qt's X11 support needs ({', '.join(missing)}).\n"
        "On Debian or Ubuntu, install them (as an administrator) with:\n\n"
        f"    sudo apt-get install {' '.join(packages)}\n\n"
        "then start ILL Desk again. Other Linux distributions name the packages after the "
        "same libraries. Commands (`illdesk --help`) work without them."
    )
