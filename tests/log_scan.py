"""Scanning log files for the demo library's patron data.

Used by tests/test_log_privacy.py, and at the end of every test run on all the log files
the run wrote (each test's data directory is under pytest's base temporary directory).
"""

from __future__ import annotations

import re
from pathlib import Path

from app.demo import PATRONS
from app.library.folding import fold

LOG_GLOB = "illdesk.log*"


def patron_data() -> list[str]:
    """Every demo patron's campus ID, barcode, names and e-mail address."""
    found: list[str] = []
    for campus_id, barcode, first, last, _type, _home in PATRONS:
        email = f"{fold(first)}.{fold(last)}@example.edu".replace("'", "")
        found += [campus_id, barcode, first, last, fold(first), fold(last), email]
    return list(dict.fromkeys(found))


def leaks_in(text: str) -> list[str]:
    return [
        value
        for value in patron_data()
        if re.search(rf"(?<![\w@.]){re.escape(value)}(?![\w@])", text, re.IGNORECASE)
    ]


def leaks_under(folder: Path, pattern: str = LOG_GLOB) -> dict[Path, list[str]]:
    """Log files below `folder` that name a demo patron, with what they name."""
    found: dict[Path, list[str]] = {}
    for path in sorted(folder.rglob(pattern)):
        if path.is_file():
            leaks = leaks_in(path.read_text(encoding="utf-8", errors="replace"))
            if leaks:
                found[path] = leaks
    return found
