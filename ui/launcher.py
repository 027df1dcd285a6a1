"""The `illdesk` executable: a command runs the CLI, no command opens the desk window.

The window's few options are parsed here, without building the whole command line: the
CLI's parser imports every service module, which would slow the desk's start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app.workstation.log_setup import configure_logging

GUI_FLAGS = ("--demo-if-new", "--self-check")


def wants_window(argv: Sequence[str]) -> bool:
    """True when argv holds only the window's options (`--db URL` and the GUI flags)."""
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--db" and rest:
            rest.pop(0)
        elif not (token.startswith("--db=") or token in GUI_FLAGS):
            return False
    return True


def window_options(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="illdesk", add_help=False)
    parser.add_argument("--db", default=None)
    parser.add_argument("--demo-if-new", action="store_true")
    parser.add_argument("--self-check", action="store_true")
    return parser.parse_args(list(argv))


def has_display() -> bool:
    """Linux needs an X11 or Wayland display (or an explicit Qt platform such as offscreen);
    without one Qt aborts with a message a desk worker cannot act on."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: Sequence[str] | None = None) -> int:
    if getattr(sys, "frozen", False):
        # In the bundle, a worker process of `illdesk ncip serve --workers N` starts as this
        # program again; this turns it into the worker instead of a second command line.
        # (The bundle's start-up hook has imported multiprocessing already: about 7 ms.)
        import multiprocessing

        multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    configure_logging()
    if not wants_window(argv):
        from app.cli import main as cli

        return cli.main(argv)
    if not has_display():
        print(
            "illdesk: there is no display to open the desk window on. Start it from a "
            "desktop session, or run a command (`illdesk --help` lists them).",
            file=sys.stderr,
        )
        return 2
    from ui import desktop_libraries

    missing = desktop_libraries.missing_libraries()
    if missing:  # Qt would abort with a core dump; say which packages to install instead
        print(desktop_libraries.advice(missing), file=sys.stderr)
        return 2
    from ui.desk_app import run_gui  # Qt is loaded only for the window

    code: int = run_gui(window_options(argv))
    return code


if __name__ == "__main__":
    sys.exit(main())
