"""`illdesk notices show|resend|compose|patron`: notices staff steer by hand.

One JSON object per notice with the keys of `notices list` plus `label`, `patron_name` and
`body`. Reading a patron's notice is audited as a look at their record.
"""

from __future__ import annotations

from typing import Any

from app.cli.context import CliContext, office_options
from app.notices import notice_steering, outbox_review
from app.notices.outbox_review import NoticeView

EXIT_OK = 0


def register_steps(steps: Any) -> None:
    """Added to `illdesk notices` (its subparsers)."""
    show = steps.add_parser(
        "show", help="one notice in full: recipient, subject, text, status and why it waits"
    )
    show.add_argument("notice_id", type=int, metavar="ID")
    office_options(show)
    show.set_defaults(handler=_show)
    resend = steps.add_parser(
        "resend",
        help="queue a copy of a sent notice (to the patron's current address); audited",
        description="The sent notice stays as it was; the copy is a new outbox row, sent by "
        "the next `notices run`.",
    )
    resend.add_argument("notice_id", type=int, metavar="ID")
    office_options(resend)
    resend.set_defaults(handler=_resend)
    compose = steps.add_parser(
        "compose",
        help="a one-off notice to a patron from a template, held for preview; audited",
        description="Written from the library's template for the kind (request_received, "
        "request_cancelled, ...), for one patron and optionally one of their requests. It "
        "waits in the outbox as held: edit it if needed, then send it from the outbox.",
    )
    compose.add_argument("--patron", required=True, help="campus ID or patron barcode")
    compose.add_argument("--template", required=True, help="the notice kind, e.g. overdue")
    compose.add_argument("--request", default="", help="one of the patron's request numbers")
    office_options(compose)
    compose.set_defaults(handler=_compose)
    patron = steps.add_parser(
        "patron", help="every notice a patron got or will get, newest first (audited view)"
    )
    patron.add_argument("patron", metavar="CAMPUS_ID")
    office_options(patron)
    patron.set_defaults(handler=_patron)


def notice_record(n: NoticeView) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "label": n.label,
        "status": n.status,
        "recipient": n.recipient,
        "patron_id": n.patron_id,
        "patron_name": n.patron_name,
        "partner_symbol": n.partner_symbol,
        "subject": n.subject,
        "body": n.body,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "held_reason": n.held_reason,
        "created_at": n.created_at,
        "next_attempt_at": n.next_attempt_at,
        "sent_at": n.sent_at,
    }


def _text(n: NoticeView) -> str:
    why = f"\n[{n.problem}]" if n.problem else ""
    return (
        f"notice {n.id} ({n.label}), {n.status.value}, to {n.recipient or '(no address)'}"
        f"{why}\nSubject: {n.subject}\n\n{n.body}"
    )


def _show(ctx: CliContext) -> int:
    rt, actor = ctx.runtime(), ctx.office_actor()
    n = outbox_review.get_notice(rt, actor, ctx.args.notice_id)
    ctx.emit(notice_record(n), _text(n))
    return EXIT_OK


def _resend(ctx: CliContext) -> int:
    n = notice_steering.resend_notice(ctx.runtime(), ctx.office_actor(), ctx.args.notice_id)
    ctx.emit(notice_record(n), _text(n))
    return EXIT_OK


def _compose(ctx: CliContext) -> int:
    a = ctx.args
    n = notice_steering.compose_notice(
        ctx.runtime(), ctx.office_actor(), a.patron, a.template, request_number=a.request
    )
    ctx.emit(notice_record(n), _text(n))
    return EXIT_OK


def _patron(ctx: CliContext) -> int:
    found = notice_steering.patron_notices(ctx.runtime(), ctx.office_actor(), ctx.args.patron)
    for n in found:
        ctx.emit(
            notice_record(n),
            f"{n.id:>6}  {n.created_at:%Y-%m-%d %H:%M}  {n.status.value:<7} {n.kind:<18} "
            f"{n.subject}",
        )
    if not found:
        ctx.say("No notices for this patron.")
    return EXIT_OK
