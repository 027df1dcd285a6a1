"""Notices, charges and the bursar report from the command line.

`illdesk notices run` is the daily job (schedule it once a day, or let the desk trigger
it): it queues due-soon and overdue notices and sends the outbox. Commands that change
charges or report them take --staff (an ILL office account) and --branch, which defaults to
the library's ILL office branch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.cli import notice_steering_commands
from app.cli.context import CliContext, office_options
from app.cli.patron_reads import shown_patrons
from app.cli.progress_bar import terminal_progress
from app.library.amounts import money
from app.library.errors import InvalidInput
from app.money import bursar, charge_views, charges
from app.money.charge_views import ChargeView
from app.notices import daily_run, outbox_review
from app.workstation.config import load_settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(sub: Any) -> None:
    notices_parser = sub.add_parser("notices", help="the notice outbox: daily run, list")
    notices_sub = notices_parser.add_subparsers(dest="notices_command", required=True)
    run = notices_sub.add_parser(
        "run",
        help="queue today's due-soon and overdue notices, then send the outbox",
        description="Safe to run more than once a day: a loan gets at most one notice of a "
        "kind per day. The mail server comes from this desk's settings or ILLDESK_SMTP_* "
        "variables; the password from ILLDESK_SMTP_PASSWORD or the keyring.",
    )
    office_options(run)
    run.set_defaults(handler=_notices_run)
    listing = notices_sub.add_parser("list", help="list notices, newest first")
    listing.add_argument("--status", default=None, help="queued, sent, failed or held")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    office_options(listing)
    listing.set_defaults(handler=_notices_list)
    notice_steering_commands.register_steps(notices_sub)

    charges_parser = sub.add_parser("charges", help="charges on patron accounts")
    charges_sub = charges_parser.add_subparsers(dest="charges_command", required=True)
    lost = office_options(
        charges_sub.add_parser(
            "declare-lost",
            help="declare a borrowed ILL item lost: replacement cost and processing fee",
        )
    )
    lost.add_argument("barcode", metavar="STRAP_BARCODE")
    lost.add_argument(
        "--replacement", required=True, metavar="AMOUNT", help="replacement cost, e.g. 85.00"
    )
    lost.add_argument(
        "--actual", action="store_true", help="the amount is the lender's bill, not an estimate"
    )
    lost.add_argument("--long-overdue", action="store_true", help="long overdue rather than lost")
    lost.add_argument("--note", default="", help="added to the replacement charge's reason")
    lost.set_defaults(handler=_declare_lost)

    clist = charges_sub.add_parser("list", help="open charges (all, or one patron's)")
    clist.add_argument("--patron", default=None, metavar="CAMPUS_ID", help="e.g. T00890123")
    clist.add_argument("--all", action="store_true", help="include removed charges")
    office_options(clist)
    clist.set_defaults(handler=_charges_list)

    remove = office_options(charges_sub.add_parser("remove", help="remove a charge, with a reason"))
    remove.add_argument("charge_id", type=int, metavar="CHARGE_ID")
    remove.add_argument("--reason", required=True, help="why; kept in the audit trail")
    remove.set_defaults(handler=_remove)

    reduce = office_options(charges_sub.add_parser("reduce", help="lower a charge, with a reason"))
    reduce.add_argument("charge_id", type=int, metavar="CHARGE_ID")
    reduce.add_argument("--amount", required=True, help="the new, lower amount")
    reduce.add_argument("--reason", required=True, help="why; kept in the audit trail")
    reduce.set_defaults(handler=_reduce)

    actual = office_options(
        charges_sub.add_parser("actual", help="replace an estimate with the lender's actual bill")
    )
    actual.add_argument("charge_id", type=int, metavar="CHARGE_ID")
    actual.add_argument("--amount", required=True, help="the lender's bill")
    actual.set_defaults(handler=_actual)

    bursar_parser = sub.add_parser("bursar", help="report charges to the bursar")
    bursar_sub = bursar_parser.add_subparsers(dest="bursar_command", required=True)
    export = office_options(
        bursar_sub.add_parser(
            "export",
            help="write the charges to report to a new CSV file and mark them reported",
            description="The file layout is described in the README (Bursar report).",
        )
    )
    export.add_argument("file", type=Path, metavar="FILE.csv")
    export.set_defaults(handler=_bursar_export)
    preview = bursar_sub.add_parser("preview", help="what the next export holds, and what waits")
    office_options(preview)
    preview.set_defaults(handler=_bursar_preview)


def _notices_run(ctx: CliContext) -> int:
    with terminal_progress("Queueing reminders", ctx.err, quiet=ctx.json) as progress:
        result = daily_run.run_daily(ctx.runtime(), ctx.actor(), load_settings(), progress)
    record = {
        "queued_due_soon": result.queued_due_soon,
        "queued_overdue": result.queued_overdue,
        "queued_not_picked_up": result.queued_not_picked_up,
        "held": result.held,
        "sent": result.sent,
        "failed": result.failed,
        "uncertain": result.uncertain,
        "waiting": result.waiting,
        "mail_problem": result.mail_problem,
    }
    ctx.emit(record, result.message)
    return EXIT_OK


def _notices_list(ctx: CliContext) -> int:
    status = outbox_review.parse_status(ctx.args.status) if ctx.args.status else None
    if ctx.args.limit < 1:
        raise InvalidInput("--limit takes a number of notices, 1 or more.")
    rt, actor = ctx.runtime(), ctx.actor()
    found = outbox_review.list_notices(rt, actor, status, ctx.args.limit)
    shown_patrons(rt, actor, [n.patron_id for n in found], "notices list")
    for n in found:
        who = n.patron_id or n.partner_symbol or "-"
        problem = f"  [{n.problem}]" if n.problem else ""
        ctx.emit(
            {
                "id": n.id,
                "kind": n.kind,
                "status": n.status,
                "recipient": n.recipient,
                "patron_id": n.patron_id,
                "partner_symbol": n.partner_symbol,
                "subject": n.subject,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "held_reason": n.held_reason,
                "created_at": n.created_at,
                "next_attempt_at": n.next_attempt_at,
                "sent_at": n.sent_at,
            },
            f"{n.id:>6}  {n.created_at:%Y-%m-%d %H:%M}  {n.status.value:<7} {n.kind:<18} "
            f"{who:<10} {n.recipient}{problem}",
        )
    if not found:
        ctx.say("No notices" + (f" with status {status.value}." if status else "."))
    return EXIT_OK


def _charge_record(c: ChargeView) -> dict[str, Any]:
    return {
        "id": c.id,
        "patron_id": c.patron_id,
        "patron_name": c.patron_name,
        "kind": c.kind,
        "amount": c.amount,
        "estimated": c.estimated,
        "is_ill": c.is_ill,
        "reason": c.reason,
        "item_barcode": c.item_barcode,
        "request_number": c.request_number,
        "created_at": c.created_at,
        "reported_at": c.reported_at,
        "transcript_hold": c.transcript_hold,
        "removed_at": c.removed_at,
        "removed_reason": c.removed_reason,
        "note": c.note,
    }


def _charge_line(c: ChargeView) -> str:
    note = f"  [{c.note}]" if c.note else ""
    return (
        f"{c.id:>6}  {c.patron_id:<10} {c.kind.value:<15} {money(c.amount):>10}  "
        f"{c.item_barcode:<12} {c.reason}{note}"
    )


def _declare_lost(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    result = charges.declare_lost(
        ctx.runtime(),
        actor,
        ctx.args.barcode,
        replacement_cost=ctx.args.replacement,
        estimated=not ctx.args.actual,
        long_overdue=ctx.args.long_overdue,
        note=ctx.args.note,
    )
    record = {
        "item_barcode": result.item_barcode,
        "patron_id": result.patron_id,
        "total": result.total,
        "notice_queued": result.notice_queued,
        "charges": [_charge_record(c) for c in result.charges],
        "message": result.message,
    }
    ctx.emit(record, result.message)
    return EXIT_OK


def _charges_list(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    found = charge_views.list_charges(
        rt, actor, patron_id=ctx.args.patron, include_removed=ctx.args.all
    )
    if ctx.args.patron is None:  # one patron's charges: `list_charges` records the look
        shown_patrons(rt, actor, [c.patron_id for c in found], "charges list")
    for c in found:
        ctx.emit(_charge_record(c), _charge_line(c))
    if not found:
        ctx.say("No charges.")
    return EXIT_OK


def _emit_change(ctx: CliContext, change: charges.ChargeChange) -> int:
    record = {**_charge_record(change.charge), "message": change.message}
    record["bursar_reminder"] = change.bursar_reminder
    text = change.message + (f"\n{change.bursar_reminder}" if change.bursar_reminder else "")
    ctx.emit(record, text)
    return EXIT_OK


def _remove(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    change = charges.remove_charge(ctx.runtime(), actor, ctx.args.charge_id, ctx.args.reason)
    return _emit_change(ctx, change)


def _reduce(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    change = charges.reduce_charge(
        ctx.runtime(), actor, ctx.args.charge_id, ctx.args.amount, ctx.args.reason
    )
    return _emit_change(ctx, change)


def _actual(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    change = charges.record_actual_bill(ctx.runtime(), actor, ctx.args.charge_id, ctx.args.amount)
    return _emit_change(ctx, change)


def _bursar_export(ctx: CliContext) -> int:
    actor = ctx.office_actor()
    result = bursar.export(ctx.runtime(), actor, ctx.args.file)
    ctx.emit(
        {
            "file": result.path if result.reported else None,
            "reported": result.reported,
            "total": result.total,
            "held_back": result.held_back,
            "message": result.message,
        },
        result.message,
    )
    return EXIT_OK


def _bursar_preview(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    pending = bursar.preview(rt, actor)
    listed = [*pending.to_report, *(held.charge for held in pending.held_back)]
    shown_patrons(rt, actor, [c.patron_id for c in listed], "bursar preview")
    for c in pending.to_report:
        ctx.emit({"report": True, **_charge_record(c)}, f"report  {_charge_line(c)}")
    for held in pending.held_back:
        ctx.emit(
            {"report": False, "why": held.why, **_charge_record(held.charge)},
            f"hold    {_charge_line(held.charge)}  ({held.why})",
        )
    ctx.say(
        f"{len(pending.to_report)} charge(s), {money(pending.total)}, would be reported; "
        f"{len(pending.held_back)} held back."
    )
    return EXIT_OK
