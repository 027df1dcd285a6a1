"""Logging for the desk and the command line: a rotating, owner-only file with no patron data.

Log files outlive the privacy rules that apply to the database, so patron identifiers
(campus IDs such as T00123456, e-mail addresses, patron barcodes) and secrets (passwords,
the credentials in a database URL) are removed from every line before it is written.
SQL statements and their parameters are never logged.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.workstation.config import log_dir

LOG_FILE = "illdesk.log"
MAX_BYTES = 2_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "_illdesk_handler"
_secrets: set[str] = set()

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A database error quotes the statement's values: names, e-mails, IDs. Drop them all.
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: removed]"),
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):[^@\s]*@"), r"\1:***@"),
    # password=..., "password": "...", pwd: ...
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api_key)(['\"]?\s*[=:]\s*['\"]?)"
            r"([^\s,;'\"&}]+)"
        ),
        r"\1\2***",
    ),
    (re.compile(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[e-mail]"),
    # Campus IDs: one letter and six to twelve digits (T00123456).
    (re.compile(r"\b[A-Za-z]\d{6,12}\b"), "[campus-id]"),
    # Patron barcodes: long digit runs. Item barcodes (14 digits starting with 3, and
    # lenders' labels starting with 3) and 8-digit request numbers stay readable.
    (re.compile(r"\b(?!3)\d{9,14}\b"), "[barcode]"),
)


def register_secret(value: str | None) -> None:
    """A password read at run time (database, SMTP): never written to the log verbatim."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts each finished line: the message, its arguments, tracebacks and stack text.

    Done here rather than in a filter, which would rewrite the shared log record and so
    change what every other handler (a test's log capture, say) receives.
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _OwnerOnlyFileHandler(RotatingFileHandler):
    """A rotating log file that only its owner can read, including each rotated file.

    A rotated file is the old log renamed, so it keeps the log's 0600. Files left by an
    older version (or copied in) that others could read are narrowed too: the rotated
    ones when the handler starts, the log file before anything is written to it.
    """

    def __init__(self, filename: Path, *, maxBytes: int, backupCount: int, encoding: str) -> None:
        for number in range(1, backupCount + 1):
            try:
                os.chmod(f"{filename}.{number}", 0o600)
            except FileNotFoundError:
                continue
        super().__init__(filename, maxBytes=maxBytes, backupCount=backupCount, encoding=encoding)

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(self.baseFilename, 0o600)
        return super()._open()


def configure_logging(
    directory: Path | None = None, *, level: int = logging.INFO, console: bool = False
) -> Path | None:
    """Send all logging to the rotating file in `directory` (default: the log folder).

    Calling it again replaces the handlers it added before. Returns the log file, or None
    when the folder cannot be written (the desk still runs; it says so on standard error).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    # SQL text and bound parameters carry patron data: never below WARNING.
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)
    root.setLevel(level)
    formatter = RedactingFormatter(FORMAT)
    path = (directory or log_dir()) / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        file_handler = _OwnerOnlyFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        print(
            f"illdesk: cannot write the log file {path} ({exc}); logging is off.", file=sys.stderr
        )
        written: Path | None = None
    else:
        _install(root, file_handler, formatter, level)
        written = path
    if console:
        _install(root, logging.StreamHandler(), formatter, level)
    return written


def _install(
    root: logging.Logger, handler: logging.Handler, formatter: logging.Formatter, level: int
) -> None:
    handler.setLevel(level)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
