"""Slips and straps saved on a desk PC are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.workstation.private_files import write_owner_only

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Windows has no owner-only mode bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_owner_only(tmp_path / "slip.pdf", b"%PDF hold slip")
    finally:
        os.umask(old)
    assert mode(tmp_path / "slip.pdf") == 0o600
    assert (tmp_path / "slip.pdf").read_bytes() == b"%PDF hold slip"


def test_a_file_that_was_readable_by_others_is_narrowed_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "strap.pdf"
    path.write_bytes(b"a much longer older file, readable by everyone on this PC")
    path.chmod(0o644)
    write_owner_only(path, b"%PDF new")
    assert mode(path) == 0o600
    assert path.read_bytes() == b"%PDF new"


def test_a_folder_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_owner_only(tmp_path / "missing" / "slip.pdf", b"%PDF")
