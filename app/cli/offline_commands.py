"""`illdesk offline replay FILE` and `illdesk offline status`.

Replay loads a journal from this PC or one copied from a dead desk PC; replaying the same
file twice applies nothing new. One JSON object per journal entry with --json, then a
summary object. Exit code 1 when any entry is a conflict or could not be replayed yet.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli.context import CliContext, office_options
from app.cli.progress_bar import terminal_progress
from app.library.errors import InvalidInput
from app.offline.journal import OfflineJournal, read_entries
from app.offline.replay import EntryStatus, ReplayedScan, replay_file, replay_journal
from app.offline.snapshot import snapshot_path

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "offline",
        help="offline journal: replay scans taken while the database was away",
        description="Scans taken while the shared database could not be reached wait in "
        "this PC's offline journal until they are replayed.",
    )
    commands = parser.add_subparsers(dest="offline_command", metavar="ACTION", required=True)
    replay = commands.add_parser(
        "replay",
        help="apply a journal file to the database (each scan at most once)",
        description="Apply every scan of FILE in order. Scans already applied are skipped, "
        "so running it twice is safe. Conflicts are listed with a code and what to do.",
    )
    replay.add_argument("file", metavar="FILE", help="the journal file (scans.jsonl)")
    office_options(replay)
    replay.set_defaults(handler=_replay)
    status = commands.add_parser(
        "status", help="how many scans wait in this PC's journal, and the snapshot's age"
    )
    status.set_defaults(handler=_status)


def _record(entry: ReplayedScan) -> dict[str, Any]:
    return {
        "line": entry.line,
        "key": entry.key,
        "at": entry.at.isoformat() if entry.at else None,
        "action": entry.action,
        "barcode": entry.barcode,
        "status": entry.status.value,
        "outcome": entry.outcome,
        "code": entry.code or None,
        "explanation": entry.explanation or None,
    }


def _text(entry: ReplayedScan) -> str:
    line = (
        f"{entry.line:>4}  {entry.action or '?':<8} {entry.barcode or '-':<16} {entry.status.value}"
    )
    if entry.outcome:
        line += f"  {entry.outcome}"
    if entry.code and entry.status is EntryStatus.ALREADY_APPLIED:
        line += "  (conflict recorded by an earlier replay)"
    if entry.code:
        line += f"\n      {entry.code}: {entry.explanation}"
    return line


def _replay(ctx: CliContext) -> int:
    path = Path(ctx.args.file).expanduser()
    if not path.is_file():
        raise InvalidInput(
            f"There is no journal file {path}. `illdesk offline status` shows this PC's journal."
        )
    rt = ctx.runtime()
    journal = OfflineJournal()
    own = path.resolve() == journal.path.resolve()
    actor = ctx.actor()
    with terminal_progress("Replaying scans", ctx.err, quiet=ctx.json) as progress:
        report = (
            replay_journal(rt, actor, journal, progress)
            if own
            else replay_file(rt, actor, path, progress)
        )
    for entry in report.entries:
        ctx.emit(_record(entry), _text(entry))
    summary = {
        "file": str(path),
        "applied": report.count(EntryStatus.APPLIED),
        "already_applied": report.count(EntryStatus.ALREADY_APPLIED),
        "conflicts": len(report.conflicts),
        "new_conflicts": report.count(EntryStatus.CONFLICT),
        "not_replayed": report.count(EntryStatus.NOT_REPLAYED),
        "archived": report.archived,
    }
    ctx.emit(
        {"summary": summary},
        f"{summary['applied']} applied, {summary['already_applied']} already applied, "
        f"{summary['conflicts']} conflicts ({summary['new_conflicts']} new), "
        f"{summary['not_replayed']} not replayed yet.",
    )
    if not report.complete:
        ctx.say("Some scans were not replayed yet: run the same command again later.")
    return EXIT_OK if report.complete and not report.conflicts else EXIT_REFUSED


def _status(ctx: CliContext) -> int:
    journal = OfflineJournal()
    entries, bad = read_entries(journal.path)
    snapshot = snapshot_path()
    record = {
        "journal": str(journal.path),
        "waiting": len(entries),
        "unreadable_lines": len(bad),
        "replayed_files_kept": len(list(journal.replayed_files())),
        "snapshot": str(snapshot) if snapshot.exists() else None,
    }
    text = (
        f"offline: {len(entries)} scans waiting in {journal.path}"
        + (f" ({len(bad)} unreadable lines)" if bad else "")
        + f"; {record['replayed_files_kept']} replayed journals kept for audit; snapshot "
        + ("present" if snapshot.exists() else "not taken yet")
    )
    ctx.emit(record, text)
    return EXIT_OK
