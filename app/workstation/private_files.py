"""Files on a desk PC that name patrons: readable by their owner only.

Slips, straps, pull slips and office lists saved as PDF, report exports and the bursar
CSV all go through here (the log has its own owner-only handler in log_setup). A hold
slip names the patron and the book; on a shared PC another account must not read it.
The file is created 0600 (a file that already existed is narrowed before anything is
written), so there is never a moment when others could read it. Windows has no such mode
bits: there the user's own folders keep the files private.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY = 0o600
_BINARY = getattr(os, "O_BINARY", 0)


def write_owner_only(path: Path, data: bytes) -> None:
    """Write `data` to `path` (created or replaced) with owner-only permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY
    fd = os.open(path, flags, OWNER_ONLY)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, OWNER_ONLY)  # an existing file keeps its old mode otherwise
        with os.fdopen(fd, "wb") as handle:
            fd = -1  # the handle owns it now
            handle.write(data)
    finally:
        if fd >= 0:
            os.close(fd)


def create_owner_only(path: Path, data: bytes) -> None:
    """Create `path` owner-only and write `data` to disk whole, or leave no file at all.

    Never replaces a file: FileExistsError if one is there (the bursar report, say, is
    never overwritten).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, OWNER_ONLY)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, OWNER_ONLY)  # whatever the umask did
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise
