"""`illdesk lend ...`: lending our items to other libraries (IFM is in ifm_commands).

Every command prints one JSON object per result with --json; the keys are part of the
command line's contract and stay stable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from app.cli.context import CliContext, office_options
from app.lending import overdue_at_borrowers, pull_list, shipping
from app.lending.overdue_at_borrowers import BorrowerOverdue, PreparedMessage
from app.lending.pull_list import LendingRequestView
from app.library.errors import InvalidInput
from app.library.vocabulary import RequestStatus
from app.workstation.config import load_settings

EXIT_OK = 0
EXIT_REFUSED = 1


def register(sub: Any) -> None:
    _register_lend(sub)


def at_desk(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--branch", required=True, help="branch code this desk runs at, e.g. METRO")
    parser.add_argument("--staff", required=True, help="username of the staff member")
    return parser


def _number(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("number", metavar="REQUEST", help="our lending request number")
    return parser


def _register_lend(sub: Any) -> None:
    lend = sub.add_parser(
        "lend",
        help="lend our items to other libraries: pull, check out to ILL, ship, return, overdue",
        description="Lending requests from other libraries. Campus steps (pull, not-on-shelf, "
        "scan-sent, checkout) need the ctl role at the pull campus; office steps need "
        "ill_office. Each result is one JSON object with --json: request_number, kind, "
        "status, title, borrower_symbol, partner_request_number, item_barcode, item_status, "
        "pull_branch, lend_due_date, status_note, checked_out_to_ill, next_step.",
    )
    steps = lend.add_subparsers(dest="lend_command", required=True, metavar="STEP")

    create = at_desk(
        steps.add_parser(
            "create",
            help="ILL office: put one of our items on a campus's pull list",
            description="Create a lending request. The item is found by barcode, else by "
            "title; the pull campus defaults to the item's home branch.",
        )
    )
    create.add_argument("--borrower", required=True, help="borrowing library's OCLC symbol")
    create.add_argument("--their-number", required=True, help="their request number")
    create.add_argument("--item", required=True, help="our item's barcode or its title")
    create.add_argument("--pull-branch", help="campus to pull from (default: item's home)")
    create.add_argument("--kind", default="loan", help="loan (default) or copy")
    create.add_argument("--number", help="our request number (default: the next L-number)")
    create.set_defaults(handler=_create)

    listing = steps.add_parser(
        "list",
        help="list lending requests",
        description="List lending requests, oldest first. With --to-pull BRANCH, only what "
        "that campus still has to pull, scan or check out to the ILL account.",
    )
    listing.add_argument("--to-pull", metavar="BRANCH", help="a campus's to-do list")
    listing.add_argument("--pull-branch", help="only requests pulled from this campus")
    listing.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in RequestStatus],
        help="only this status (repeatable)",
    )
    office_options(listing)
    listing.set_defaults(handler=_list)

    for name, help_text, handler in (
        ("pull", "campus: the item is pulled from the shelf", _pull),
        ("scan-sent", "campus: the scan for a copy request was made and sent", _scan_sent),
        ("returned", "ILL office: the borrowing library sent it back; route it home", _returned),
    ):
        parser = _number(at_desk(steps.add_parser(name, help=help_text, description=help_text)))
        parser.set_defaults(handler=handler)

    missing = _number(
        at_desk(
            steps.add_parser(
                "not-on-shelf",
                help="campus: the item is not on the shelf (back to the office with a reason)",
            )
        )
    )
    missing.add_argument("--reason", required=True, help='for example "checked twice"')
    missing.set_defaults(handler=_not_on_shelf)

    checkout = _number(
        at_desk(
            steps.add_parser(
                "checkout",
                help="campus: check the pulled item out to the ILL account (in transit to "
                "the ILL office; insert the yellow flag)",
            )
        )
    )
    checkout.add_argument(
        "--account", help="ILL account barcode or the name ILL (default: the library setting)"
    )
    checkout.set_defaults(handler=_checkout)

    ship = _number(
        at_desk(
            steps.add_parser(
                "ship", help="ILL office: ship to the borrowing library with the due date"
            )
        )
    )
    ship.add_argument("--due", help="due date we grant, YYYY-MM-DD (not needed for a copy)")
    ship.set_defaults(handler=_ship)

    repull = _number(
        at_desk(steps.add_parser("repull", help="ILL office: ask a campus to pull it again"))
    )
    repull.add_argument("--pull-branch", required=True, help="campus to pull from")
    repull.set_defaults(handler=_repull)

    cancel = _number(at_desk(steps.add_parser("cancel", help="ILL office: we cannot supply it")))
    cancel.add_argument("--reason", required=True, help="why it is cancelled")
    cancel.set_defaults(handler=_cancel)

    overdue = at_desk(
        steps.add_parser(
            "overdue",
            help="ILL office: items overdue from borrowers; prepares the overdue and lost "
            "messages (each once)",
            description="Review items overdue from borrowing libraries. At the overdue "
            "threshold (default 21 days) an overdue message is prepared; at the lost "
            "threshold (default 42) the request becomes lost, billable and the lost message is "
            "prepared. One JSON object per request: request fields plus days_overdue, stage, "
            "messages (notice_id, kind, subject, body, status).",
        )
    )
    overdue.set_defaults(handler=_overdue)

    message = at_desk(
        steps.add_parser(
            "message",
            help="ILL office: edit a prepared message, e-mail it (--email), or mark it sent "
            "(--sent)",
            description="Edit the subject and text of a prepared overdue or lost message; "
            "with --email send it over SMTP to the partner's address (the partner directory's, "
            "`illdesk partners set`), the outbox keeping the copy; or with --sent record that "
            "it was copied into the ILL system. --email adds emailed and mail_problem to the "
            "keys, and exits 1 when it was not sent (it stays in the outbox, retried).",
        )
    )
    message.add_argument("notice_id", type=int, metavar="MESSAGE_ID")
    message.add_argument("--subject", help="new subject")
    message.add_argument("--body-file", help="file holding the new text, or - for stdin")
    message.add_argument("--sent", action="store_true", help="mark it sent")
    message.add_argument(
        "--email", action="store_true", help="send it by e-mail to the partner library now"
    )
    message.set_defaults(handler=_message)


def request_record(view: LendingRequestView) -> dict[str, Any]:
    return {
        "request_number": view.request_number,
        "kind": view.kind.value,
        "status": view.status.value,
        "title": view.title,
        "borrower_symbol": view.borrower_symbol,
        "partner_request_number": view.partner_request_number,
        "item_barcode": view.item_barcode,
        "item_status": view.item_status.value if view.item_status else None,
        "pull_branch": view.pull_branch,
        "lend_due_date": view.lend_due_date.isoformat() if view.lend_due_date else None,
        "status_note": view.status_note,
        "checked_out_to_ill": view.checked_out_to_ill,
        "next_step": view.next_step,
    }


def _request_text(view: LendingRequestView) -> str:
    item = view.item_barcode or "-"
    line = (
        f"{view.request_number:10} {view.status.value:13} {view.borrower_symbol:5} "
        f"{view.pull_branch:6} {item:15} {view.title}"
    )
    note = f"\n    {view.status_note}" if view.status_note else ""
    return f"{line}\n    next: {view.next_step}{note}"


def _emit_request(ctx: CliContext, view: LendingRequestView) -> int:
    ctx.emit(request_record(view), _request_text(view))
    return EXIT_OK


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a date. Write it as YYYY-MM-DD, like 2026-12-15."
        ) from None


def _create(ctx: CliContext) -> int:
    view = pull_list.create_lending_request(
        ctx.runtime(),
        ctx.actor(),
        borrower_symbol=ctx.args.borrower,
        partner_request_number=ctx.args.their_number,
        item=ctx.args.item,
        pull_branch=ctx.args.pull_branch,
        kind=pull_list.parse_kind(ctx.args.kind),
        request_number=ctx.args.number,
    )
    return _emit_request(ctx, view)


def _list(ctx: CliContext) -> int:
    rt = ctx.runtime()
    if ctx.args.to_pull:
        views = pull_list.pull_list(rt, ctx.actor(), ctx.args.to_pull)
    else:
        statuses = tuple(RequestStatus(s) for s in ctx.args.status or ())
        views = pull_list.list_lending(
            rt, ctx.actor(), pull_branch=ctx.args.pull_branch, statuses=statuses
        )
    for view in views:
        _emit_request(ctx, view)
    if not views:
        ctx.say("No lending requests match.")
    return EXIT_OK


def _pull(ctx: CliContext) -> int:
    return _emit_request(ctx, pull_list.confirm_pulled(ctx.runtime(), ctx.actor(), ctx.args.number))


def _scan_sent(ctx: CliContext) -> int:
    view = pull_list.record_scan_sent(ctx.runtime(), ctx.actor(), ctx.args.number)
    return _emit_request(ctx, view)


def _not_on_shelf(ctx: CliContext) -> int:
    view = pull_list.report_not_on_shelf(
        ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.reason
    )
    return _emit_request(ctx, view)


def _checkout(ctx: CliContext) -> int:
    result = pull_list.checkout_to_ill(
        ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.account
    )
    record = request_record(result.request) | {
        "account_barcode": result.dummy_barcode,
        "destination": result.destination,
        "loan_due_date": result.due_date.isoformat(),
        "reminder": result.reminder,
    }
    ctx.emit(record, f"{_request_text(result.request)}\n>>> {result.reminder}")
    return EXIT_OK


def _ship(ctx: CliContext) -> int:
    due = _parse_date(ctx.args.due) if ctx.args.due else None
    return _emit_request(ctx, shipping.ship(ctx.runtime(), ctx.actor(), ctx.args.number, due))


def _repull(ctx: CliContext) -> int:
    view = shipping.send_to_pull(ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.pull_branch)
    return _emit_request(ctx, view)


def _cancel(ctx: CliContext) -> int:
    view = shipping.cancel_lending(ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.reason)
    return _emit_request(ctx, view)


def _returned(ctx: CliContext) -> int:
    result = shipping.record_return(ctx.runtime(), ctx.actor(), ctx.args.number)
    record = request_record(result.request) | {
        "outcome": result.outcome.value,
        "destination": result.destination,
        "instruction": result.instruction,
    }
    ctx.emit(record, f"{_request_text(result.request)}\n>>> {result.instruction}")
    return EXIT_OK


def message_record(message: PreparedMessage) -> dict[str, Any]:
    return {
        "notice_id": message.notice_id,
        "kind": message.kind,
        "request_number": message.request_number,
        "partner_symbol": message.partner_symbol,
        "subject": message.subject,
        "body": message.body,
        "status": message.status.value,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "recipient": message.recipient,
        "problem": message.problem,
    }


def _overdue_text(entry: BorrowerOverdue) -> str:
    lines = [
        f"{entry.request.request_number:10} {entry.stage.value:13} {entry.days_overdue:3} days  "
        f"{entry.request.borrower_symbol:5} #{entry.request.partner_request_number}  "
        f"{entry.request.title}"
    ]
    lines.extend(
        f"    message {m.notice_id} ({m.kind}, {m.status.value}): {m.subject}"
        for m in entry.messages
    )
    return "\n".join(lines)


def _overdue(ctx: CliContext) -> int:
    review = overdue_at_borrowers.review_overdue(ctx.runtime(), ctx.actor())
    for entry in review.entries:
        record = request_record(entry.request) | {
            "days_overdue": entry.days_overdue,
            "stage": entry.stage.value,
            "messages": [message_record(m) for m in entry.messages],
        }
        ctx.emit(record, _overdue_text(entry))
    ctx.say(
        f"As of {review.as_of}: {len(review.entries)} overdue from borrowers, "
        f"{len(review.prepared_now)} message(s) prepared now, "
        f"{len(review.became_lost)} newly lost."
    )
    return EXIT_OK


def _message(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.actor()
    args = ctx.args
    if args.email:
        if args.sent or args.subject or args.body_file:
            raise InvalidInput("Edit the message first, then e-mail it in a second command.")
        emailed = overdue_at_borrowers.send_message(rt, actor, args.notice_id, load_settings())
        record = message_record(emailed.message) | {
            "emailed": emailed.sent,
            "mail_problem": emailed.mail_problem,
        }
        text = (
            f"message {args.notice_id}: sent to {emailed.message.recipient}"
            if emailed.sent
            else f"message {args.notice_id}: not sent, {emailed.message.status.value} in the "
            f"outbox. {emailed.mail_problem}"
        )
        ctx.emit(record, text)
        return EXIT_OK if emailed.sent else EXIT_REFUSED
    if args.sent:
        if args.subject or args.body_file:
            raise InvalidInput("Edit the message first, then mark it sent in a second command.")
        message = overdue_at_borrowers.mark_message_sent(rt, actor, args.notice_id)
    else:
        if not args.subject or not args.body_file:
            raise InvalidInput("Give --subject and --body-file to edit, or --sent.")
        if args.body_file == "-":
            body = sys.stdin.read()
        else:
            try:
                with open(args.body_file, encoding="utf-8") as handle:
                    body = handle.read()
            except OSError as exc:
                raise InvalidInput(f"Cannot read {args.body_file}: {exc.strerror}.") from None
        message = overdue_at_borrowers.edit_message(
            rt, actor, args.notice_id, subject=args.subject, body=body
        )
    ctx.emit(message_record(message), f"message {message.notice_id}: {message.status.value}")
    return EXIT_OK
