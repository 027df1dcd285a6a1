"""`illdesk lend ...` (lending our items) and `illdesk ifm ...` (replacement costs through IFM).

Every command prints one JSON object per result with --json; the keys are part of the
command line's contract and stay stable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from app.cli.context import CliContext, office_options
from app.lending import ifm, ifm_settlement, overdue_at_borrowers, pull_list, shipping
from app.lending.ifm import IfmFields, IfmLedger, IfmTransactionView, PartnerBalance
from app.lending.ifm_settlement import SettlementView
from app.lending.overdue_at_borrowers import BorrowerOverdue, PreparedMessage
from app.lending.pull_list import LendingRequestView
from app.library.errors import InvalidInput
from app.library.vocabulary import IfmStatus, RequestStatus
from app.workstation.config import load_settings

EXIT_OK = 0
EXIT_REFUSED = 1


def register(sub: Any) -> None:
    _register_lend(sub)
    _register_ifm(sub)


def _who(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
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

    create = _who(
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
        parser = _number(_who(steps.add_parser(name, help=help_text, description=help_text)))
        parser.set_defaults(handler=handler)

    missing = _number(
        _who(
            steps.add_parser(
                "not-on-shelf",
                help="campus: the item is not on the shelf (back to the office with a reason)",
            )
        )
    )
    missing.add_argument("--reason", required=True, help='for example "checked twice"')
    missing.set_defaults(handler=_not_on_shelf)

    checkout = _number(
        _who(
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
        _who(
            steps.add_parser(
                "ship", help="ILL office: ship to the borrowing library with the due date"
            )
        )
    )
    ship.add_argument("--due", help="due date we grant, YYYY-MM-DD (not needed for a copy)")
    ship.set_defaults(handler=_ship)

    repull = _number(
        _who(steps.add_parser("repull", help="ILL office: ask a campus to pull it again"))
    )
    repull.add_argument("--pull-branch", required=True, help="campus to pull from")
    repull.set_defaults(handler=_repull)

    cancel = _number(_who(steps.add_parser("cancel", help="ILL office: we cannot supply it")))
    cancel.add_argument("--reason", required=True, help="why it is cancelled")
    cancel.set_defaults(handler=_cancel)

    overdue = _who(
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

    message = _who(
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


def _register_ifm(sub: Any) -> None:
    parser = sub.add_parser(
        "ifm",
        help="replacement costs through OCLC ILL Fee Management: fields, transactions, balance",
        description="IFM replacement for lost items, both when a borrower lost our item and "
        "when our patron lost a borrowed one. Amounts are US dollars.",
    )
    steps = parser.add_subparsers(dest="ifm_command", required=True, metavar="STEP")
    for name, help_text, handler in (
        ("build", "show the dummy-request fields for a lost request, ready to copy", _ifm_build),
        ("record", "record the dummy request as a pending IFM transaction", _ifm_record),
    ):
        step = _who(steps.add_parser(name, help=help_text, description=help_text))
        step.add_argument("number", metavar="REQUEST", help="the lost request's number")
        step.add_argument("--amount", required=True, help="replacement cost in USD, e.g. 85.00")
        step.set_defaults(handler=handler)
    processed = _who(
        steps.add_parser(
            "processed",
            help="the dummy request was processed: close the original request",
        )
    )
    processed.add_argument("transaction_id", type=int, metavar="TRANSACTION")
    processed.add_argument("--dummy", required=True, help="the dummy request's number")
    processed.set_defaults(handler=_ifm_processed)
    listing = steps.add_parser(
        "list",
        help="list IFM transactions",
        description="One JSON object per transaction: id, request_number, direction, "
        "partner_symbol, amount, status, dummy_request_number, created_at, processed_at, "
        "original_status, fields.",
    )
    listing.add_argument("--status", choices=[s.value for s in IfmStatus])
    listing.add_argument("--partner", help="only this partner's OCLC symbol")
    office_options(listing)
    listing.set_defaults(handler=_ifm_list)
    lost = steps.add_parser(
        "lost",
        help="lost requests, both ways, that IFM may settle",
        description="One JSON object per lost request: request_number, title, direction "
        "(we_receive: a borrower lost our item; we_pay: our patron lost a borrowed one), "
        "partner_symbol, transaction_status (null until recorded).",
    )
    office_options(lost)
    lost.set_defaults(handler=_ifm_lost)
    balance = steps.add_parser(
        "balance",
        help="IFM balance per partner library and in total, with the settlement flag",
        description="One JSON object per partner (kind 'partner') then the total (kind "
        "'total'): received, paid, settled, balance (received - paid - settled; positive: "
        "owed to us), pending, settle (the balance reached plus or minus the threshold).",
    )
    office_options(balance)
    balance.set_defaults(handler=_ifm_balance)
    note = steps.add_parser(
        "note",
        help="prepare the note to the partner library about an IFM transaction",
        description="The library's 'ifm' notice for the transaction's partner, prepared once "
        "and held for review (asking again shows the same note). Send it with `illdesk lend "
        "message ID --email`, or copy it and mark it sent. Prints the message keys "
        "(notice_id, kind, request_number, partner_symbol, subject, body, status, sent_at, "
        "recipient, problem).",
    )
    note.add_argument("transaction_id", type=int, metavar="TRANSACTION")
    office_options(note)
    note.set_defaults(handler=_ifm_note)
    settle = steps.add_parser(
        "settle",
        help="record the cheque or invoice that settles the balance with a partner",
        description="Record a settlement: the partner's cheque to us when they owe us, ours "
        "when we owe them (the balance decides). It may be less than the balance, never "
        "more (refused, nothing recorded). Prints id, partner_symbol, direction, amount, "
        "reference, settled_on, balance_before, balance_after, created_at, created_by.",
    )
    settle.add_argument("partner", metavar="PARTNER", help="the partner's OCLC symbol, e.g. UIU")
    settle.add_argument("--amount", required=True, help="the amount in USD, e.g. 120.00")
    settle.add_argument("--reference", required=True, help="cheque or invoice number")
    settle.add_argument("--date", help="the cheque's or invoice's date, YYYY-MM-DD (today)")
    office_options(settle)
    settle.set_defaults(handler=_ifm_settle)
    settlements = steps.add_parser(
        "settlements",
        help="list the settlements recorded, oldest first",
        description="One JSON object per settlement, with the keys `ifm settle` prints.",
    )
    settlements.add_argument("--partner", help="only this partner's OCLC symbol")
    office_options(settlements)
    settlements.set_defaults(handler=_ifm_settlements)


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


def fields_record(fields: IfmFields) -> dict[str, Any]:
    return {
        "direction": fields.direction.value,
        "original_request_number": fields.original_request_number,
        "partner_symbol": fields.partner_symbol,
        "title": fields.title,
        "verification_note": fields.verification_note,
        "lender_string": fields.lender_string,
        "use_ifm": fields.use_ifm,
        "max_cost": f"{fields.max_cost:.2f}",
        "currency": fields.currency,
    }


def _fields_text(fields: IfmFields) -> str:
    return "\n".join(f"{label + ':':42} {value}" for label, value in fields.copy_rows())


def _tx_record(tx: IfmTransactionView) -> dict[str, Any]:
    return {
        "id": tx.id,
        "request_number": tx.request_number,
        "direction": tx.direction.value,
        "partner_symbol": tx.partner_symbol,
        "amount": f"{tx.amount:.2f}",
        "status": tx.status.value,
        "dummy_request_number": tx.dummy_request_number,
        "created_at": tx.created_at.isoformat(),
        "processed_at": tx.processed_at.isoformat() if tx.processed_at else None,
        "original_status": tx.original_status.value,
        "fields": fields_record(tx.fields),
    }


def _tx_text(tx: IfmTransactionView) -> str:
    dummy = f" dummy #{tx.dummy_request_number}" if tx.dummy_request_number else ""
    return (
        f"{tx.id:5} {tx.status.value:9} {tx.direction.value:10} {tx.partner_symbol:5} "
        f"{tx.amount:>10.2f} USD  request {tx.request_number}{dummy}"
    )


def _ifm_build(ctx: CliContext) -> int:
    fields = ifm.preview(ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.amount)
    ctx.emit(fields_record(fields), _fields_text(fields))
    return EXIT_OK


def _ifm_record(ctx: CliContext) -> int:
    tx = ifm.record_transaction(ctx.runtime(), ctx.actor(), ctx.args.number, ctx.args.amount)
    ctx.emit(_tx_record(tx), f"{_tx_text(tx)}\n{_fields_text(tx.fields)}")
    return EXIT_OK


def _ifm_processed(ctx: CliContext) -> int:
    tx = ifm.mark_processed(ctx.runtime(), ctx.actor(), ctx.args.transaction_id, ctx.args.dummy)
    ctx.emit(_tx_record(tx), f"{_tx_text(tx)}\nOriginal request {tx.request_number} closed.")
    return EXIT_OK


def _ifm_list(ctx: CliContext) -> int:
    status = IfmStatus(ctx.args.status) if ctx.args.status else None
    rows = ifm.list_transactions(
        ctx.runtime(), ctx.actor(), status=status, partner=ctx.args.partner
    )
    for tx in rows:
        ctx.emit(_tx_record(tx), _tx_text(tx))
    if not rows:
        ctx.say("No IFM transactions match.")
    return EXIT_OK


def _ifm_lost(ctx: CliContext) -> int:
    rows = ifm.lost_requests(ctx.runtime(), ctx.actor())
    for r in rows:
        status = r.transaction_status.value if r.transaction_status else None
        ctx.emit(
            {
                "request_number": r.request_number,
                "title": r.title,
                "direction": r.direction.value,
                "partner_symbol": r.partner_symbol,
                "transaction_status": status,
            },
            f"{r.request_number:10} {r.direction.value:10} {r.partner_symbol:5} "
            f"{status or 'no IFM yet':10} {r.title}",
        )
    if not rows:
        ctx.say("No lost requests.")
    return EXIT_OK


def _balance_record(
    kind: str, symbol: str | None, row: PartnerBalance | IfmLedger
) -> dict[str, Any]:
    return {
        "kind": kind,
        "partner_symbol": symbol,
        "received": f"{row.received:.2f}",
        "paid": f"{row.paid:.2f}",
        "settled": f"{row.settled:.2f}",
        "balance": f"{row.balance:.2f}",
        "pending": f"{row.pending:.2f}",
        "settle": row.settle,
    }


def _balance_text(label: str, row: PartnerBalance | IfmLedger) -> str:
    flag = "  SETTLE" if row.settle else ""
    return (
        f"{label:6} balance {row.balance:>10.2f}  (received {row.received:.2f}, paid "
        f"{row.paid:.2f}, settled {row.settled:.2f}, pending {row.pending:.2f}){flag}"
    )


def _ifm_balance(ctx: CliContext) -> int:
    book = ifm.ledger(ctx.runtime(), ctx.actor())
    for partner in book.partners:
        ctx.emit(
            _balance_record("partner", partner.partner_symbol, partner),
            _balance_text(partner.partner_symbol, partner),
        )
    total = _balance_record("total", None, book) | {"threshold": f"{book.threshold:.2f}"}
    ctx.emit(total, _balance_text("TOTAL", book) + f"  (settle at +/- {book.threshold:.2f} USD)")
    return EXIT_OK


def _settlement_record(row: SettlementView) -> dict[str, Any]:
    return {
        "id": row.id,
        "partner_symbol": row.partner_symbol,
        "direction": row.direction.value,
        "amount": f"{row.amount:.2f}",
        "reference": row.reference,
        "settled_on": row.settled_on.isoformat(),
        "balance_before": f"{row.balance_before:.2f}",
        "balance_after": f"{row.balance_after:.2f}",
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }


def _settlement_text(row: SettlementView) -> str:
    way = (
        f"{row.partner_symbol} paid us"
        if row.direction.value == "we_receive"
        else (f"we paid {row.partner_symbol}")
    )
    return (
        f"{row.id:5} {row.settled_on.isoformat()} {way}: {row.amount:.2f} USD, "
        f"{row.reference}; balance {row.balance_before:+.2f} -> {row.balance_after:+.2f}"
    )


def _ifm_settle(ctx: CliContext) -> int:
    a = ctx.args
    row = ifm_settlement.settle(
        ctx.runtime(), ctx.office_actor(), a.partner, a.amount, a.reference, a.date
    )
    ctx.emit(_settlement_record(row), _settlement_text(row))
    return EXIT_OK


def _ifm_settlements(ctx: CliContext) -> int:
    rows = ifm_settlement.list_settlements(
        ctx.runtime(), ctx.office_actor(), partner=ctx.args.partner
    )
    for row in rows:
        ctx.emit(_settlement_record(row), _settlement_text(row))
    if not rows:
        ctx.say("No IFM settlements recorded.")
    return EXIT_OK


def _ifm_note(ctx: CliContext) -> int:
    message = overdue_at_borrowers.prepare_ifm_note(
        ctx.runtime(), ctx.office_actor(), ctx.args.transaction_id
    )
    ctx.emit(
        message_record(message),
        f"message {message.notice_id} to {message.partner_symbol} "
        f"({message.recipient or 'no e-mail address'}): {message.status.value}\n"
        f"{message.subject}\n\n{message.body}",
    )
    return EXIT_OK
