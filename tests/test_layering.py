"""The domain works without Qt: app/ and db/ never import PySide6 or ui/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_in_app_or_db_imports_qt_or_ui() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(bad)}"
        for package in ("app", "db")
        for path in (ROOT / package).rglob("*.py")
        if (bad := _imports(path) & {"PySide6", "shiboken6", "PyQt6", "PyQt5", "ui"})
    ]
    assert offenders == []


def test_every_app_module_imports_without_loading_qt() -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in ("app", "db")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'ui')]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""
