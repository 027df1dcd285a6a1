"""Request entry and the notice templates' wording, from the command line.

illdesk request add --patron T00123456 --title "Beloved" --pickup METRO --staff office
illdesk templates set overdue --subject "Overdue: {{ title }}" --body-file overdue.txt --staff admin

`request add` is the ILL Office request form (`place_request`): ILL office and up, the patron
gets the "request received" notice. `templates` is Admin > Notice templates: administrators
only, as in the window; a template naming an unknown field is refused and nothing is stored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from app.borrowing.requests import RequestForm, RequestView, place_request
from app.cli.context import CliContext, office_options
from app.cli.patron_reads import shown_patrons
from app.library.actors import Actor
from app.library.errors import InvalidInput
from app.library.vocabulary import RequestKind, Role
from app.notices import templates
from app.notices.templates import TemplateText

EXIT_OK = 0
MAX_BODY_FILE = 200_000  # characters; a template body is far smaller


def register(sub: Any) -> None:
    request = sub.add_parser("request", help="ILL office: enter a borrowing request")
    request_sub = request.add_subparsers(dest="request_command", required=True, metavar="STEP")
    add = office_options(
        request_sub.add_parser(
            "add",
            help="enter a request as the request form does (the patron is told)",
            description="Places a borrowing request under the patron it serves and queues the "
            "'request received' notice. A copy request needs --article-title. Without "
            "--number the next free request number is given.",
        )
    )
    add.add_argument("--patron", required=True, metavar="ID", help="campus ID or patron barcode")
    add.add_argument("--title", required=True, help="title (for an article: the journal's)")
    add.add_argument("--pickup", required=True, metavar="BRANCH", help="pickup campus code")
    add.add_argument("--kind", choices=("loan", "copy"), default="loan", help="default: loan")
    add.add_argument("--author", default="", help="author")
    add.add_argument("--article-title", default="", metavar="TEXT", help="copy: the article")
    add.add_argument("--volume", default="", metavar="V", help="volume, e.g. 2 (at most 50)")
    add.add_argument("--issue", default="", metavar="N", help="issue number (at most 50)")
    add.add_argument("--pages", default="", metavar="P", help="pages, e.g. 112-140 (at most 50)")
    add.add_argument("--lender", default="", metavar="SYMBOL", help="lender's OCLC symbol")
    add.add_argument("--number", default="", metavar="N", help="request number (else the next)")
    add.add_argument(
        "--for", dest="for_patron", default="", metavar="ID", help="the patron it serves, if not"
    )
    add.set_defaults(handler=_request_add)

    notice_templates = sub.add_parser("templates", help="administrators: notice wording")
    steps = notice_templates.add_subparsers(dest="templates_command", required=True)
    listing = office_options(steps.add_parser("list", help="every notice kind and its wording"))
    listing.set_defaults(handler=_templates_list)
    show = office_options(steps.add_parser("show", help="one kind's wording and its fields"))
    show.add_argument("kind", metavar="KIND", help="e.g. overdue, request_received")
    show.set_defaults(handler=_templates_show)
    set_parser = office_options(
        steps.add_parser(
            "set",
            help="store the library's wording for a kind (checked first; audited)",
            description="The body is read from --body-file (- for standard input, UTF-8). "
            "A template may use only its kind's fields (`templates show KIND` lists them).",
        )
    )
    set_parser.add_argument("kind", metavar="KIND")
    set_parser.add_argument("--subject", required=True, help="one line; may use {{ fields }}")
    set_parser.add_argument("--body-file", required=True, metavar="FILE", help="the body, or -")
    set_parser.set_defaults(handler=_templates_set)
    reset = office_options(steps.add_parser("reset", help="back to the shipped wording (audited)"))
    reset.add_argument("kind", metavar="KIND")
    reset.set_defaults(handler=_templates_reset)


def request_record(view: RequestView) -> dict[str, Any]:
    """The request placed; keys are part of the CLI's contract."""
    return {
        "request_number": view.request_number,
        "kind": view.kind,
        "status": view.status,
        "title": view.title,
        "volume": view.volume,
        "issue": view.issue,
        "pages": view.pages,
        "article_title": view.article_title,
        "patron_id": view.patron_id,
        "patron_name": view.patron_name,
        "pickup_branch": view.pickup_branch,
        "lender": view.lender or None,
        "requested_by_staff": view.requested_by_staff,
    }


def _request_add(ctx: CliContext) -> int:
    a = ctx.args
    form = RequestForm(
        patron=a.patron,
        for_patron=a.for_patron,
        kind=RequestKind(a.kind),
        title=a.title,
        author=a.author,
        article_title=a.article_title,
        volume=a.volume,
        issue=a.issue,
        pages=a.pages,
        pickup_branch=a.pickup,
        lender=a.lender,
        request_number=a.number,
    )
    rt, actor = ctx.runtime(), ctx.office_actor()
    view = place_request(rt, actor, form)
    shown_patrons(rt, actor, [view.patron_id], "request add")
    ctx.emit(
        request_record(view),
        f"Request {view.request_number} placed for {view.patron_name} ({view.patron_id}), "
        f"pickup at {view.pickup_branch}; the patron will be told.",
    )
    return EXIT_OK


def template_record(t: TemplateText) -> dict[str, Any]:
    """One notice kind's wording; keys are part of the CLI's contract."""
    return {
        "kind": t.kind,
        "label": t.label,
        "subject": t.subject,
        "body": t.body,
        "customised": t.customised,
        "fields": list(t.fields),
    }


def _admin(ctx: CliContext) -> Actor:
    """Notice templates are an administrator's, in the window as here."""
    actor = ctx.office_actor()
    actor.require(Role.ADMIN, "Notice templates")
    return actor


def _template_text(t: TemplateText) -> str:
    own = "the library's wording" if t.customised else "the default wording"
    return (
        f"{t.kind} ({t.label}), {own}\nFields: {', '.join(t.fields)}\n"
        f"Subject: {t.subject}\n\n{t.body}"
    )


def _templates_list(ctx: CliContext) -> int:
    actor = _admin(ctx)
    for t in templates.list_templates(ctx.runtime(), actor):
        own = "customised" if t.customised else "default"
        ctx.emit(template_record(t), f"{t.kind:<20} {own:<10} {t.subject}")
    return EXIT_OK


def _one(ctx: CliContext, actor: Actor, kind: str) -> TemplateText:
    templates.kind_spec(kind)  # an unknown kind is refused with the known ones
    found = {t.kind: t for t in templates.list_templates(ctx.runtime(), actor)}
    return found[kind]


def _templates_show(ctx: CliContext) -> int:
    actor = _admin(ctx)
    t = _one(ctx, actor, ctx.args.kind)
    ctx.emit(template_record(t), _template_text(t))
    return EXIT_OK


def _body(ref: str) -> str:
    try:
        if ref == "-":
            text = sys.stdin.read(MAX_BODY_FILE + 1)
        else:
            with Path(ref).open(encoding="utf-8") as handle:
                text = handle.read(MAX_BODY_FILE + 1)
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InvalidInput(f"Cannot read the body from {ref}: {why}.") from exc
    if len(text) > MAX_BODY_FILE:
        raise InvalidInput(
            f"The body in {ref} is longer than {MAX_BODY_FILE:,} characters; a notice is "
            "a few paragraphs."
        )
    return text


def _templates_set(ctx: CliContext) -> int:
    actor = _admin(ctx)
    templates.kind_spec(ctx.args.kind)
    body = _body(ctx.args.body_file)
    t = templates.save_template(ctx.runtime(), actor, ctx.args.kind, ctx.args.subject, body)
    ctx.emit(template_record(t), f"Saved the library's wording for {t.kind}.")
    return EXIT_OK


def _templates_reset(ctx: CliContext) -> int:
    actor = _admin(ctx)
    t = templates.reset_template(ctx.runtime(), actor, ctx.args.kind)
    ctx.emit(template_record(t), f"{t.kind} uses the default wording again.")
    return EXIT_OK
