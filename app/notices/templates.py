"""Notice kinds, the fields each may use, and the library's editable wording.

Templates are Jinja2 text rendered in a sandbox with `StrictUndefined`. Mail is plain text,
so nothing is HTML-escaped; instead a template may use only the fields listed for its kind
(plus the filters Jinja ships). A template naming any other field, reaching into an
attribute (`{{ title.__class__ }}`), or including another template is refused when it is
SAVED, with a message listing the fields it may use, so a typo never reaches a patron.

Defaults ship in `resources/templates/<kind>.txt`: a first line `Subject: ...`, a blank line,
then the body. A library's own wording is a `NoticeTemplate` row; removing the row restores
the default.

Context keys (what `app.notices.outbox.queue_notice(..., context=...)` may pass)
-------------------------------------------------------------------------
Every field is optional: a key the caller leaves out is filled from the notice's links
(`patron`, `request_id`, `loan_id`, `partner_symbol`) when `app.notices.daily_run` renders it, and
otherwise is the empty string, so a template can test it with `{% if field %}`.
Dates may be passed as `date`/`datetime` or ISO text; they are shown as "Friday, 6 November
2026". Amounts may be `Decimal`, number or text; they are shown as "85.00".

Filled for every kind: library_name, library_oclc_symbol, today.
Patron kinds also get: patron_name, patron_first_name, patron_id (the campus ID),
request_number, title, author, article_title, pickup_branch, item_barcode, pieces (how many
pieces a borrowed item came in; from the links).

- request_received: request_kind ("loan" or "copy").
- request_cancelled: cancel_reason (defaults to the request's stored reason).
- article_available: available_until (date), available_days (30), max_views (5),
  download_url.
- ready_for_pickup: pickup_by (date), in_library_use_only (true/false).
- hold_not_picked_up: pickup_by (the date that passed); queued by the daily run.
- due_soon: due_date, days_left.
- overdue: due_date, days_overdue.
- lost_charges: replacement_amount, replacement_estimated (true/false), processing_fee,
  total_amount, due_date.
- renewal_approved: due_date (the new one), previous_due_date.
- renewal_denied: due_date, denial_reason.
- recalled: due_date (the earlier date the lender set), previous_due_date; for an item the
  patron has checked out.
Lender-side kinds (to the borrowing library; `partner_symbol` names it) get
borrower_symbol, partner_request_number, request_number, title, due_date (from the lending
request) and:
- lender_overdue: days_overdue.
- lender_lost: days_overdue, replacement_amount.
- ifm: amount, dummy_title, original_request_number, direction ("we_receive"/"we_pay").

Other names callers use are read as the field they mean (`ALIASES`): barcode ->
item_barcode, branch -> pickup_branch, kind -> request_kind, old_due_date ->
previous_due_date, expires_on -> available_until, days -> available_days, and reason ->
cancel_reason (request_cancelled) or denial_reason (renewal_denied).
"""

from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound
from app.library.runtime import Runtime
from app.records import audit
from db.models import NoticeTemplate, Role

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "resources" / "templates"
SUBJECT_MAX = 300
BOOL_FIELDS = frozenset({"in_library_use_only", "replacement_estimated"})
_TRUE = frozenset({"true", "1", "yes", "y"})

COMMON_FIELDS = ("library_name", "library_oclc_symbol", "today")
PATRON_FIELDS = (
    "patron_name",
    "patron_first_name",
    "patron_id",
    "request_number",
    "title",
    "author",
    "article_title",
    "pickup_branch",
    "item_barcode",
    "pieces",
)
LENDER_FIELDS = ("borrower_symbol", "partner_request_number", "request_number", "title", "due_date")


@dataclass(frozen=True)
class NoticeKind:
    """One kind of notice: who gets it, whether staff review it first, and its fields."""

    code: str
    label: str
    to_patron: bool  # False: addressed to a borrowing library
    review_before_sending: bool  # manual notice: held until staff preview and send it
    own_fields: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        base = PATRON_FIELDS if self.to_patron else LENDER_FIELDS
        seen: dict[str, None] = dict.fromkeys((*COMMON_FIELDS, *base, *self.own_fields))
        return tuple(seen)


KINDS: dict[str, NoticeKind] = {
    k.code: k
    for k in (
        NoticeKind("request_received", "Request received", True, False, ("request_kind",)),
        NoticeKind("request_cancelled", "Request cancelled", True, True, ("cancel_reason",)),
        NoticeKind(
            "article_available",
            "Article available",
            True,
            False,
            ("available_until", "available_days", "max_views", "download_url"),
        ),
        NoticeKind(
            "ready_for_pickup",
            "Ready for pickup",
            True,
            False,
            ("pickup_by", "in_library_use_only"),
        ),
        NoticeKind("hold_not_picked_up", "Not picked up, going back", True, False, ("pickup_by",)),
        NoticeKind("due_soon", "Due soon", True, False, ("due_date", "days_left")),
        NoticeKind("overdue", "Overdue", True, False, ("due_date", "days_overdue")),
        NoticeKind(
            "lost_charges",
            "Lost item and charges",
            True,
            True,
            (
                "replacement_amount",
                "replacement_estimated",
                "processing_fee",
                "total_amount",
                "due_date",
            ),
        ),
        NoticeKind(
            "renewal_approved",
            "Renewal approved",
            True,
            False,
            ("due_date", "previous_due_date"),
        ),
        NoticeKind("renewal_denied", "Renewal denied", True, False, ("due_date", "denial_reason")),
        NoticeKind(
            "recalled", "Recalled by the lender", True, False, ("due_date", "previous_due_date")
        ),
        NoticeKind(
            "lender_overdue", "Overdue (to borrowing library)", False, False, ("days_overdue",)
        ),
        NoticeKind(
            "lender_lost",
            "Lost (to borrowing library)",
            False,
            True,
            ("days_overdue", "replacement_amount"),
        ),
        NoticeKind(
            "ifm",
            "IFM replacement payment (to partner library)",
            False,
            True,
            ("amount", "dummy_title", "original_request_number", "direction"),
        ),
    )
}

SAMPLE_CONTEXT: dict[str, Any] = {
    "library_name": "Example College Library",
    "library_oclc_symbol": "EXC",
    "today": date(2026, 11, 2),
    "patron_name": "Zoë Fontaine",
    "patron_first_name": "Zoë",
    "patron_id": "T00890123",
    "request_number": "20261021",
    "title": "Silent Spring",
    "author": "Rachel Carson",
    "article_title": "",
    "pickup_branch": "Southeast Campus Library",
    "item_barcode": "ILL00000218",
    "pieces": 1,
    "request_kind": "loan",
    "cancel_reason": "No library was able to lend this item.",
    "available_until": date(2026, 12, 2),
    "available_days": 30,
    "max_views": 5,
    "download_url": "",
    "pickup_by": date(2026, 11, 12),
    "in_library_use_only": False,
    "due_date": date(2026, 11, 5),
    "previous_due_date": date(2026, 11, 5),
    "days_left": 3,
    "days_overdue": 9,
    "replacement_amount": Decimal("85.00"),
    "replacement_estimated": True,
    "processing_fee": Decimal("30.00"),
    "total_amount": Decimal("115.00"),
    "denial_reason": "The lender needs the item back.",
    "borrower_symbol": "OKT",
    "partner_request_number": "9100002",
    "amount": Decimal("85.00"),
    "dummy_title": "Silent Spring (Replacement for request #20261021)",
    "original_request_number": "20261021",
    "direction": "we_pay",
}

ALIASES: dict[str, str] = {
    "barcode": "item_barcode",
    "branch": "pickup_branch",
    "kind": "request_kind",
    "old_due_date": "previous_due_date",
    "expires_on": "available_until",
    "days": "available_days",
}
REASON_FIELD = {"request_cancelled": "cancel_reason", "renewal_denied": "denial_reason"}


def canonical_context(kind: str, passed: dict[str, Any]) -> dict[str, Any]:
    """The caller's values under the field names templates use; empty values dropped."""
    out: dict[str, Any] = {}
    for key, value in passed.items():
        if value is None or value == "":
            continue
        name = REASON_FIELD.get(kind, key) if key == "reason" else ALIASES.get(key, key)
        if name in out and key != name:
            continue  # the field's own name wins over an alias
        out[name] = value
    return out


MAX_OUTPUT_CHARS = 100_000  # a notice is a page or two; anything near this is a runaway
MAX_RENDER_SECONDS = 1.0  # a notice renders in well under a millisecond
_MAX_NUMBER = 10**9
_TEMPLATE_FILE = "<template>"


class RenderRefused(SecurityError):
    """A template would take too long or write too much: refused, never run to the end."""


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple | range) else None


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus limits on what one expression may build.

    `'x' * 10**9` is a single step that no clock can interrupt, so repetition, powers and
    concatenation are checked before they run; loops are bounded by the render clock.
    """

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if (
            operator == "**"
            and numbers
            and (abs(right) > 64 or (abs(left) > 1 and abs(right) * math.log10(abs(left)) > 9))
        ):
            raise RenderRefused(f"{left} ** {right} is too large a number for a notice")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT_CHARS:
                    raise RenderRefused(
                        f"repeating text {times} times would write more than "
                        f"{MAX_OUTPUT_CHARS:,} characters"
                    )
            if numbers and abs(left * right) > _MAX_NUMBER**2:
                raise RenderRefused("that product is too large a number for a notice")
        if operator == "+":
            a, b = _size(left), _size(right)
            if a is not None and b is not None and a + b > MAX_OUTPUT_CHARS:
                raise RenderRefused(
                    f"the text would be longer than {MAX_OUTPUT_CHARS:,} characters"
                )
        return super().call_binop(context, operator, left, right)


def _bounded_arguments(function: Any) -> Any:
    """A filter or global whose whole-number arguments stay within a notice's size.

    `'x'|center(10**9)` builds a gigabyte in one call; no clock can stop it midway.
    """

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        spread = 1
        for value in (*args, *kwargs.values()):
            number = isinstance(value, int) and not isinstance(value, bool)
            if number and abs(value) > MAX_OUTPUT_CHARS:
                raise RenderRefused(
                    f"{value} is too large a number for a notice (at most {MAX_OUTPUT_CHARS:,})"
                )
            spread *= max(_size(value) or 1, 1)
        if spread > 10 * MAX_OUTPUT_CHARS:  # join(range(100000), 'x' * 100000)
            raise RenderRefused(
                f"{function.__name__.removeprefix('do_')} would build too much text for a notice"
            )
        return function(*args, **kwargs)

    return bounded


def _render_bounded(source: str, values: dict[str, Any]) -> str:
    """Render with a clock and a size limit: a runaway loop stops after MAX_RENDER_SECONDS.

    The clock runs in a trace function that watches only the template's own frames (the
    code Jinja compiled from it), so filters and the rest of the program run untraced.
    """
    template = _env.from_string(source)
    deadline = time.monotonic() + MAX_RENDER_SECONDS

    def watch(frame: Any, event: str, _arg: Any) -> Any:
        if frame.f_code.co_filename != _TEMPLATE_FILE:
            return None
        if time.monotonic() > deadline:
            raise RenderRefused(
                f"the template takes longer than {MAX_RENDER_SECONDS:g} s to fill in (a loop "
                "too many times round?)"
            )
        return watch

    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(watch)
    try:
        for chunk in template.generate(values):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderRefused(
                    f"the notice would be longer than {MAX_OUTPUT_CHARS:,} characters"
                )
            chunks.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(chunks)


_env = _BoundedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters = {name: _bounded_arguments(f) for name, f in _env.filters.items()}
_env.globals.update(
    {name: _bounded_arguments(f) for name, f in _env.globals.items() if callable(f)}
)


@dataclass(frozen=True)
class TemplateText:
    kind: str
    label: str
    subject: str
    body: str
    customised: bool  # the library's own wording, not the shipped default
    fields: tuple[str, ...]


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    body: str


def kind_spec(kind: str) -> NoticeKind:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(KINDS)
        raise InvalidInput(f"There is no notice kind '{kind}'. Known kinds: {known}.") from None


def default_template(kind: str) -> tuple[str, str]:
    """The shipped (subject, body) for a kind, read from resources/templates."""
    kind_spec(kind)
    text = (TEMPLATE_DIR / f"{kind}.txt").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if not first.startswith("Subject:"):
        raise InvalidInput(f"The default template {kind}.txt must start with 'Subject:'.")
    return first.removeprefix("Subject:").strip(), rest.lstrip("\n")


def template_for(session: Session, kind: str) -> TemplateText:
    spec = kind_spec(kind)
    row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind))
    if row is not None:
        return TemplateText(kind, spec.label, row.subject, row.body, True, spec.fields)
    subject, body = default_template(kind)
    return TemplateText(kind, spec.label, subject, body, False, spec.fields)


def list_templates(rt: Runtime, actor: Actor) -> tuple[TemplateText, ...]:
    with rt.db.reading() as session:
        return tuple(template_for(session, kind) for kind in KINDS)


def check_template(kind: str, subject: str, body: str) -> None:
    """Refuse a template that could not render, or that names a field the kind lacks."""
    spec = kind_spec(kind)
    if not subject.strip():
        raise InvalidInput("A notice needs a subject line.")
    if "\n" in subject.strip() or "\r" in subject:
        raise InvalidInput("The subject must be a single line.")
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput(f"The subject is longer than {SUBJECT_MAX} characters; shorten it.")
    if not body.strip():
        raise InvalidInput("A notice needs a body.")
    for part, source in (("subject", subject), ("body", body)):
        _check_source(spec, part, source)
    try:
        _render_source(subject, _complete(spec, SAMPLE_CONTEXT))
        _render_source(body, _complete(spec, SAMPLE_CONTEXT))
    except TemplateError as exc:
        raise InvalidInput(f"The template cannot be rendered: {exc}.") from exc


def _check_source(spec: NoticeKind, part: str, source: str) -> None:
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            f"The {part} has a template error on line {exc.lineno}: {exc.message}. "
            "Fields are written {{ field_name }}."
        ) from exc
    allowed = ", ".join(spec.fields)
    try:
        used = find_undeclared_variables(tree)
    except TemplateError as exc:  # an unknown filter or test fails while compiling
        raise InvalidInput(f"The {part} cannot be used: {exc}") from exc
    unknown = sorted(used - set(spec.fields))
    if unknown:
        names = ", ".join(unknown)
        raise InvalidInput(
            f"The {part} uses unknown field(s): {names}. A '{spec.label}' notice may use: "
            f"{allowed}."
        )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        raise InvalidInput(
            f"The {part} reaches inside a field on line {node.lineno}. Use the field itself "
            f"or a filter (for example {{{{ title|upper }}}}); fields: {allowed}."
        )
    for stmt in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        raise InvalidInput(
            f"The {part} refers to another template on line {stmt.lineno}; a notice "
            "template must stand alone."
        )
    # Compiling catches unknown filters and tests ("{{ title|uppr }}").
    try:
        _env.from_string(source)
    except TemplateError as exc:
        raise InvalidInput(f"The {part} cannot be used: {exc}.") from exc


def save_template(rt: Runtime, actor: Actor, kind: str, subject: str, body: str) -> TemplateText:
    """Store the library's wording for a kind, after checking every field it uses."""
    actor.require(Role.ADMIN, "Editing notice templates")
    check_template(kind, subject, body)
    subject = subject.strip()
    now = rt.clock.now()
    with rt.db.transaction() as session:
        row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind))
        before = {"subject": row.subject, "body": row.body} if row is not None else None
        if row is None:
            row = NoticeTemplate(kind=kind, subject=subject, body=body)
            session.add(row)
        row.subject, row.body = subject, body
        row.updated_at, row.updated_by_id = now, actor.staff_id or None
        session.flush()
        audit.record(
            session,
            actor,
            "notice_template.save",
            at=now,
            entity="notice_template",
            entity_id=row.id,
            before=before,
            after={"subject": subject, "body": body},
            detail=kind,
        )
        return template_for(session, kind)


def reset_template(rt: Runtime, actor: Actor, kind: str) -> TemplateText:
    """Go back to the shipped default wording for a kind."""
    actor.require(Role.ADMIN, "Editing notice templates")
    kind_spec(kind)
    now = rt.clock.now()
    with rt.db.transaction() as session:
        row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind))
        if row is None:
            raise NotFound(f"The '{kind}' notice already uses the default wording.")
        audit.record(
            session,
            actor,
            "notice_template.reset",
            at=now,
            entity="notice_template",
            entity_id=row.id,
            before={"subject": row.subject, "body": row.body},
            detail=kind,
        )
        session.delete(row)
        session.flush()
        return template_for(session, kind)


def render(session: Session, kind: str, context: dict[str, Any]) -> RenderedNotice:
    """Render the library's (or the default) wording for `kind` with `context`."""
    text = template_for(session, kind)
    return render_text(kind, text.subject, text.body, context)


def render_text(kind: str, subject: str, body: str, context: dict[str, Any]) -> RenderedNotice:
    spec = kind_spec(kind)
    values = _complete(spec, context)
    rendered_subject = " ".join(_render_source(subject, values).split())
    return RenderedNotice(rendered_subject[:SUBJECT_MAX], _render_source(body, values))


def preview(kind: str, subject: str, body: str) -> RenderedNotice:
    """The template filled with sample values, for the editor; refuses what save refuses."""
    check_template(kind, subject, body)
    return render_text(kind, subject, body, SAMPLE_CONTEXT)


def _render_source(source: str, values: dict[str, Any]) -> str:
    return _render_bounded(source, values)


def _complete(spec: NoticeKind, context: dict[str, Any]) -> dict[str, Any]:
    """Every field of the kind present and shown as text people read."""
    return {name: display_value(name, context.get(name)) for name in spec.fields}


def display_value(name: str, value: Any) -> Any:
    """Dates as words, amounts with two decimals, flags as booleans, missing as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if name in BOOL_FIELDS:
        return value if isinstance(value, bool) else str(value).strip().lower() in _TRUE
    if name.endswith(("_date", "_until", "_by")) or name == "today":
        day = _as_date(value)
        return _long_date(day) if day is not None else str(value)
    if name.endswith(("_amount", "_fee")) or name == "amount":
        try:
            return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"
        except InvalidOperation:
            return str(value)
    return value


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def _long_date(day: date) -> str:
    return f"{day:%A}, {day.day} {day:%B %Y}"
