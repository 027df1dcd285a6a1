"""`illdesk report KIND`: the statistics of the Reports screen, for scripts and print.

    illdesk report borrowing --from 2025-07-01 --to 2026-06-30 --staff office
    illdesk report lending --from ... --to ... --branch METRO --csv lending.csv
    illdesk report money --from ... --to ... --pdf money.pdf
    illdesk report desk --from ... --to ... --list desk.not_found_scans --json

ILL office and administrator accounts only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.cli.context import CliContext
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.reports.figures import ReportKind
from app.workstation.private_files import write_owner_only

EXIT_OK = 0


def register(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="ILL office: statistics for a period (borrowing, lending, desk, money, partners)",
        description="Counts for the period --from to --to (both days included), with the "
        "previous period beside them, by month and by campus. Prints a table, or one JSON "
        "object with --json; --csv and --pdf write a spreadsheet or a printable report.",
    )
    report.add_argument(
        "kind",
        choices=[k.value for k in ReportKind],
        metavar="KIND",
        help="borrowing, lending, desk, money or partners",
    )
    report.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    report.add_argument(
        "--branch", default=None, metavar="CODE", help="one campus (default: all campuses)"
    )
    report.add_argument(
        "--staff", required=True, help="username of an ILL office or administrator account"
    )
    out = report.add_mutually_exclusive_group()
    out.add_argument("--csv", type=Path, metavar="FILE", help="write the figures as CSV")
    out.add_argument("--pdf", type=Path, metavar="FILE", help="write a printable PDF report")
    out.add_argument(
        "--list",
        dest="figure",
        metavar="FIGURE",
        help="list the requests or items behind one figure (its 'drill' key)",
    )
    report.set_defaults(handler=_report)


def _write(path: Path, data: bytes) -> None:
    try:
        write_owner_only(path, data)  # typed reasons can name a patron
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.") from exc


def _report(ctx: CliContext) -> int:
    from app.reports.compute import compute, require_reports_role
    from app.reports.periods import parse_period

    period = parse_period(ctx.args.start, ctx.args.end)
    actor = ctx.office_staff_actor()
    require_reports_role(actor)
    rt = ctx.runtime()
    if ctx.args.figure:
        return _list(ctx, actor, period)
    report = compute(rt, actor, ReportKind(ctx.args.kind), period, ctx.args.branch)
    if ctx.args.csv is not None:
        from app.reports.export import csv_text

        _write(ctx.args.csv, csv_text(report).encode("utf-8-sig"))
        ctx.say(f"Wrote {ctx.args.csv}.")
        if ctx.json:
            ctx.emit({"report": report.kind.value, "csv": str(ctx.args.csv)})
        return EXIT_OK
    if ctx.args.pdf is not None:
        from app.printing.report_pdf import render_report

        _write(ctx.args.pdf, render_report(report))
        ctx.say(f"Wrote {ctx.args.pdf}.")
        if ctx.json:
            ctx.emit({"report": report.kind.value, "pdf": str(ctx.args.pdf)})
        return EXIT_OK
    if ctx.json:
        from app.reports.export import as_json

        ctx.emit(as_json(report))
        return EXIT_OK
    from app.printing.report_pdf import format_value

    ctx.say(
        f"{report.title}: {report.period_label}, {report.campus_label} "
        f"(previous period {report.previous_label})"
    )
    width = max(len(f.label) for f in report.figures)
    for f in report.figures:
        ctx.say(
            f"  {f.label:<{width}}  {format_value(f.current):>10}  "
            f"{format_value(f.previous):>10}  {f.unit.value}"
        )
    for b in report.breakdowns:
        ctx.say(f"{b.label}:")
        for row in b.rows:
            ctx.say(
                f"  {row.name:<{width}}  {format_value(row.current):>10}  "
                f"{format_value(row.previous):>10}"
            )
    for note in report.notes:
        ctx.say(note)
    return EXIT_OK


def _list(ctx: CliContext, actor: Actor, period: Any) -> int:
    from app.reports.drill import drill

    listed = drill(ctx.runtime(), actor, ctx.args.figure, period, ctx.args.branch)
    for row in listed.rows:
        ctx.emit(
            {
                "figure": listed.key,
                "reference": row.reference,
                "title": row.title,
                "at": row.at,
                "campus": row.campus,
                "detail": row.detail,
            },
            f"{row.at}  {row.campus:<8} {row.reference:<14} {row.title}"
            + (f"  ({row.detail})" if row.detail else ""),
        )
    if len(listed.rows) < listed.total:
        ctx.say(f"First {len(listed.rows)} of {listed.total}.")
    return EXIT_OK
