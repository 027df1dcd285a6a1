"""Volume, issue and pages beside a request's title: which volume, which article.

A two-volume set borrowed as two requests, or a chapter copied from one issue, is told
apart by these; wherever the title is shown, they are shown after it.
"""

from __future__ import annotations


def citation(volume: str, issue: str, pages: str) -> str:
    """ "v. 2, no. 3, pp. 10-20" from whatever is given ("" when none is)."""
    parts = []
    if volume.strip():
        parts.append(f"v. {volume.strip()}")
    if issue.strip():
        parts.append(f"no. {issue.strip()}")
    if pages.strip():
        parts.append(f"pp. {pages.strip()}")
    return ", ".join(parts)


def with_citation(title: str, volume: str, issue: str, pages: str) -> str:
    """The title followed by its volume, issue and pages, when any is given."""
    more = citation(volume, issue, pages)
    return f"{title} ({more})" if more else title
