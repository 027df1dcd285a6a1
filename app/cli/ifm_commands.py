"""`illdesk ifm ...`: replacement costs through OCLC ILL Fee Management, both ways.

Every command prints one JSON object per result with --json; the keys are part of the
command line's contract and stay stable.
"""

from __future__ import annotations

from typing import Any

from app.cli.context import CliContext, office_options
from app.cli.lending_commands import EXIT_OK, at_desk, message_record
from app.lending import ifm, ifm_settlement, overdue_at_borrowers
from app.lending.ifm import IfmFields, IfmLedger, IfmTransactionView, PartnerBalance
from app.lending.ifm_settlement import SettlementView
from app.library.vocabulary import IfmStatus


def register(sub: Any) -> None:
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
        step = at_desk(steps.add_parser(name, help=help_text, description=help_text))
        step.add_argument("number", metavar="REQUEST", help="the lost request's number")
        step.add_argument("--amount", required=True, help="replacement cost in USD, e.g. 85.00")
        step.set_defaults(handler=handler)
    processed = at_desk(
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
