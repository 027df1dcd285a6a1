"""The icons drawn for ILL Desk, found next to the code (and in a packaged build)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"


def resource_icon(name: str) -> QIcon:
    """resources/icons/NAME.svg as an icon; an empty icon if the file is missing."""
    path = ICON_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
