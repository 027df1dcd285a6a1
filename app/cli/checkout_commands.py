"""`illdesk checkout`, `illdesk in-house-use` and `illdesk change-due-date`.

A checkout refusal is an answer, not a crash: it prints its JSON object like a success
and exits 1, so a script can tell what to do next from `outcome` and `message`.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from app.cli.context import CliContext
from app.cli.unsure_outcome import report_unsure
from app.desk.checkout import check_out
from app.desk.checkout_results import CheckoutResult
from app.desk.in_house_use import record_in_house_use
from app.desk.loan_changes import change_due_date
from app.library.errors import OutcomeUnknown
from app.offline.journal import OfflineAction

EXIT_OK, EXIT_REFUSED = 0, 1


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-18"
        ) from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--branch", required=True, help="branch code this desk runs at, e.g. METRO")
    parser.add_argument("--staff", required=True, help="username of the staff member")


def register(sub: Any) -> None:
    checkout = sub.add_parser(
        "checkout",
        help="check out an ILL item to its patron (or an own item to the ILL account)",
        description="Check out one item. The due date is the lender's strap date, moved "
        "off days the branch is closed. Exit code 1 when the checkout is refused.",
    )
    _common(checkout)
    checkout.add_argument(
        "--patron", required=True, help="campus ID or patron barcode (ILL: the dummy account)"
    )
    checkout.add_argument("barcode", metavar="BARCODE", help="strap barcode of the item")
    checkout.add_argument(
        "--strap-due",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="due date printed on the physical strap; when it differs from the recorded one, "
        "the strap wins and the difference is logged for the ILL office",
    )
    checkout.add_argument(
        "--override",
        action="store_true",
        help="ILL office only, audited: check out although the item is not on this hold "
        "shelf for this patron, or its lender date has passed",
    )
    checkout.add_argument(
        "--pieces-checked",
        action="store_true",
        help="every piece of a multi-piece item is here (counted in front of the patron); "
        "without it such an item is refused: refused_pieces_not_checked",
    )
    checkout.set_defaults(handler=_checkout)

    use = sub.add_parser(
        "in-house-use",
        help="record one in-library use of an in-library-use-only item",
        description="Record a use of an item waiting on this branch's hold shelf; check it "
        "in when it comes back.",
    )
    _common(use)
    use.add_argument("--patron", help="campus ID or barcode of the patron at the desk (checked)")
    use.add_argument("barcode", metavar="BARCODE", help="strap barcode of the item")
    use.set_defaults(handler=_in_house_use)

    change = sub.add_parser(
        "change-due-date",
        help="change the due date of a checkout, with a reason (audited)",
        description="Make the circulation due date match a strap or a renewal the lender "
        "granted. For a borrowed item not checked out (ILL office): the lender's date itself, "
        "as for a recall; the hold's pickup-by date never passes it.",
    )
    _common(change)
    change.add_argument(
        "barcode",
        metavar="BARCODE",
        help="strap barcode of the item (ILL office: or the request number of a borrowed item)",
    )
    change.add_argument("--due", required=True, type=iso_date, metavar="YYYY-MM-DD")
    change.add_argument("--reason", required=True, help="why; kept in the audit trail")
    change.add_argument(
        "--recall",
        action="store_true",
        help="ILL office: the lender recalled it; a checked-out item's lender's date moves too "
        "and its patron is sent a 'recalled' notice",
    )
    change.set_defaults(handler=_change_due_date)


def record(result: CheckoutResult) -> dict[str, Any]:
    """The JSON object for one checkout; keys are part of the CLI's contract."""
    return {
        "outcome": result.outcome.value,
        "barcode": result.barcode,
        "patron_id": result.patron_id,
        "patron_name": result.patron_name,
        "title": result.title,
        "request_number": result.request_number,
        "due_date": result.due_date.isoformat() if result.due_date else None,
        "strap_due_date": result.strap_due_date.isoformat() if result.strap_due_date else None,
        "adjustment_reason": result.adjustment_reason,
        "discrepancy_logged": result.discrepancy_logged,
        "overridden": result.overridden,
        "held_for": result.held_for,
        "held_at": result.held_at,
        "message": result.message,
        "patron_sentence": result.patron_sentence,
        "pieces": result.pieces,
    }


def _text(result: CheckoutResult) -> str:
    lines = [f"{result.barcode}  {result.outcome.value}  {result.message}"]
    if result.patron_sentence and not result.outcome.refused:
        lines.append(f"    Tell the patron: {result.patron_sentence}")
    if result.discrepancy_logged:
        lines.append(
            "    The strap date differed from the recorded one: logged for the ILL office."
        )
    return "\n".join(lines)


def _checkout(ctx: CliContext) -> int:
    actor = ctx.actor()
    try:
        result = check_out(
            ctx.runtime(),
            actor,
            ctx.args.patron,
            ctx.args.barcode,
            strap_due=ctx.args.strap_due,
            override=ctx.args.override,
            pieces_checked=ctx.args.pieces_checked,
        )
    except OutcomeUnknown as exc:
        patron = ctx.args.patron
        return report_unsure(ctx, actor, exc, OfflineAction.CHECKOUT, ctx.args.barcode, patron)
    ctx.emit(record(result), _text(result))
    return EXIT_REFUSED if result.outcome.refused else EXIT_OK


def _in_house_use(ctx: CliContext) -> int:
    actor = ctx.actor()
    result = record_in_house_use(ctx.runtime(), actor, ctx.args.barcode, patron_ref=ctx.args.patron)
    ctx.emit(result, f"{result.barcode}  in_house_use  {result.message}")
    return EXIT_OK


def _change_due_date(ctx: CliContext) -> int:
    actor = ctx.actor()
    change = change_due_date(
        ctx.runtime(),
        actor,
        ctx.args.barcode,
        ctx.args.due,
        ctx.args.reason,
        recall=ctx.args.recall,
    )
    ctx.emit(
        change,
        f"{change.barcode}  due {change.due_date.isoformat()} (was "
        f"{change.old_due_date.isoformat()})  {change.reason}",
    )
    return EXIT_OK
