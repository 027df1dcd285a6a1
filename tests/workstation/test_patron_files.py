"""Every file the desk or the command line writes that can name a patron is owner-only (0600).

Including a file that was there before, readable by everyone (0644), and the log's rotated
files. The bursar CSV is checked in tests/money/test_bursar.py, the desk's saved PDFs in
tests/gui.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.main import parse, run
from app.workstation import log_setup

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Windows has no owner-only mode bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_all(path: Path, text: str = "an older file, readable by everyone") -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("--db", database_url, "demo")[0] == 0
    return database_url


@pytest.fixture
def _logging_back_to_normal() -> Iterator[None]:
    yield None
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_illdesk_handler", False):
            root.removeHandler(handler)
            handler.close()


@pytest.mark.usefixtures("_logging_back_to_normal")
def test_the_log_and_every_rotated_log_are_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    old_log = readable_by_all(folder / log_setup.LOG_FILE)
    old_rotated = readable_by_all(folder / f"{log_setup.LOG_FILE}.4")  # from an older version
    monkeypatch.setattr(log_setup, "MAX_BYTES", 400)
    path = log_setup.configure_logging(folder)
    assert path == old_log and mode(path) == 0o600
    assert mode(old_rotated) == 0o600
    for number in range(40):  # enough lines for several rotations
        logging.getLogger("app.test").warning("checked in item %d at the desk", number)
    rotated = sorted(folder.glob(f"{log_setup.LOG_FILE}.*"))
    assert len(rotated) >= 3
    modes = {p.name: mode(p) for p in [path, *rotated]}
    assert set(modes.values()) == {0o600}, modes


def test_pull_slips_and_office_lists_from_the_command_line(db: str, tmp_path: Path) -> None:
    slips = readable_by_all(tmp_path / "metro.pdf")
    code, _, _ = cli(
        "--db", db, "pull-slips", "--branch", "METRO", "--staff", "ctl", "--out", str(slips)
    )
    assert code == 0 and slips.read_bytes().startswith(b"%PDF")
    assert mode(slips) == 0o600
    for which in ("hold-shelf", "discrepancies"):
        target = readable_by_all(tmp_path / f"{which}.pdf")
        code, _, _ = cli(
            "--db", db, "office-list", which, "--staff", "office", "--out", str(target)
        )
        assert code == 0 and target.read_bytes().startswith(b"%PDF")
        assert mode(target) == 0o600


def test_report_exports_from_the_command_line(db: str, tmp_path: Path) -> None:
    period = ("--from", "2026-10-01", "--to", "2026-10-31")
    for option, name in (("--csv", "desk.csv"), ("--pdf", "desk.pdf")):
        target = readable_by_all(tmp_path / name)
        code, _, _ = cli(
            "--db", db, "report", "desk", *period, "--staff", "office", option, str(target)
        )
        assert code == 0
        assert "an older file" not in target.read_bytes().decode("utf-8", "replace")
        assert mode(target) == 0o600
