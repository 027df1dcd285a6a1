"""CSV imports of patrons and ILL requests.

Idempotent: a re-import updates rows, never duplicates them. Every row is validated, in
Python and then against the database a batch at a time; bad rows are reported by line number
and every good row goes in. With `strict`, every row of the file is checked before the first
write, and nothing is written when any row is bad.

The rows go in a batch at a time (`BATCH_ROWS`), each batch one transaction of a few
statements, so a desk's check-in never waits behind an import for more than one batch. A
request that already has its item keeps its patron, pickup branch and kind: the people and
the strap on the shelf depend on them. Every run leaves an audit event with its counts, and
one per request it placed or changed.
"""

from __future__ import annotations

from app.borrowing.csv_import import (
    PATRON_COLUMNS,
    REQUEST_COLUMNS,
    ImportReport,
    RowError,
    read_csv,
)
from app.borrowing.patron_import import import_patrons
from app.borrowing.request_import import import_requests

__all__ = [
    "PATRON_COLUMNS",
    "REQUEST_COLUMNS",
    "ImportReport",
    "RowError",
    "import_patrons",
    "import_requests",
    "read_csv",
]
