"""Notice templates: safe fields only, refused at save time, defaults for every kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.library.actors import Actor
from app.library.errors import InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from app.notices import daily_run, outbox_review
from app.notices import templates as nt
from app.notices.outbox import queue_notice
from db.models import AuditEvent, IllRequest, Notice, NoticeStatus, NoticeTemplate, Patron
from tests.signed_in import as_admin, as_office

ActorAt = Callable[[str, str], Actor]


@pytest.mark.parametrize("kind", sorted(nt.KINDS))
def test_every_kind_has_a_default_that_renders_even_with_no_context(kind: str) -> None:
    subject, body = nt.default_template(kind)
    nt.check_template(kind, subject, body)
    full = nt.render_text(kind, subject, body, nt.SAMPLE_CONTEXT)
    assert full.subject and "\n" not in full.subject
    assert "Example College Library" in full.body
    empty = nt.render_text(kind, subject, body, {})
    assert empty.body.strip()
    assert "{{" not in empty.body and "None" not in empty.body


def test_defaults_carry_the_facts_staff_promise_patrons() -> None:
    def body(kind: str) -> str:
        subject, text = nt.default_template(kind)
        return nt.render_text(kind, subject, text, nt.SAMPLE_CONTEXT).body

    assert "30 days or 5 views" in body("article_available")
    assert "ILL account" in body("due_soon") and "is not a renewal" in body("due_soon")
    lost = body("lost_charges")
    assert "$85.00" in lost and "$30.00" in lost and "estimate" in lost and "Bursar" in lost
    assert "Reason: No library was able to lend this item." in body("request_cancelled")
    assert "IFM" in body("lender_lost") and "(Replacement for request #" in body("lender_lost")


def test_unknown_field_is_refused_at_save_time_and_nothing_is_stored(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    admin = actor_at("admin", "METRO")
    with pytest.raises(InvalidInput) as caught:
        nt.save_template(
            demo_rt, admin, "due_soon", "Due {{ due_date }}", "Hello {{ patron_nmae }}"
        )
    message = caught.value.message
    assert "unknown field(s): patron_nmae" in message
    assert "patron_name" in message and "due_date" in message
    with pytest.raises(InvalidInput, match="subject uses unknown field"):
        nt.save_template(demo_rt, admin, "overdue", "{{ fine_amount }}", "Body")
    with demo_rt.db.reading() as s:
        assert s.scalar(select(NoticeTemplate)) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ title.__class__ }}", "reaches inside a field"),
        ("{{ title['x'] }}", "reaches inside a field"),
        ("{% include 'x.txt' %}", "another template"),
        ("{{ title|no_such_filter }}", "cannot be used"),
        ("{% if title %}unclosed", "template error on line 1"),
        ("   ", "needs a body"),
    ],
)
def test_unsafe_or_broken_templates_are_refused(body: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        nt.check_template("overdue", "Overdue", body)


def test_subject_must_be_one_line_and_kind_must_exist() -> None:
    with pytest.raises(InvalidInput, match="single line"):
        nt.check_template("overdue", "Overdue\nBcc: x@example.org", "Body")
    with pytest.raises(InvalidInput, match="no notice kind 'fine'"):
        nt.check_template("fine", "Subject", "Body")


def test_library_wording_is_used_then_reset_to_default(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "METRO")
    with pytest.raises(PermissionDenied):
        nt.save_template(demo_rt, actor_at("office", "WS-ILL"), "overdue", "X", "Y")
    saved = nt.save_template(
        demo_rt,
        admin,
        "overdue",
        "Please return {{ title|upper }}",
        "{{ patron_first_name }}, it was due {{ due_date }} & is {{ days_overdue }} days late.",
    )
    assert saved.customised
    with demo_rt.db.reading() as s:
        rendered = nt.render(
            s,
            "overdue",
            {
                "title": "Silent <Spring>",
                "patron_first_name": "Zoë",
                "due_date": date(2026, 10, 24),
                "days_overdue": 9,
            },
        )
        audit = s.scalar(select(AuditEvent).where(AuditEvent.action == "notice_template.save"))
    assert rendered.subject == "Please return SILENT <SPRING>"
    assert rendered.body == "Zoë, it was due Saturday, 24 October 2026 & is 9 days late."
    assert audit is not None and audit.username == "admin"
    back = nt.reset_template(demo_rt, admin, "overdue")
    assert not back.customised and back.subject == nt.default_template("overdue")[0]
    with pytest.raises(NotFound, match="already uses the default"):
        nt.reset_template(demo_rt, admin, "overdue")
    assert [t.kind for t in nt.list_templates(demo_rt, as_admin(demo_rt))] == list(nt.KINDS)


def test_values_are_shown_as_people_read_them() -> None:
    assert nt.display_value("due_date", "2026-11-06") == "Friday, 6 November 2026"
    assert nt.display_value("pickup_by", date(2026, 11, 12)) == "Thursday, 12 November 2026"
    assert nt.display_value("replacement_amount", Decimal("85")) == "85.00"
    assert nt.display_value("total_amount", "1234.5") == "1,234.50"
    assert nt.display_value("in_library_use_only", "true") is True
    assert nt.display_value("title", None) == ""


@pytest.mark.parametrize("kind", sorted(nt.KINDS))
def test_every_kind_queued_by_other_screens_renders_from_its_links(
    demo_rt: Runtime, kind: str
) -> None:
    """Callers may pass only the links; the outbox fills the rest from the database."""
    spec = nt.KINDS[kind]
    with demo_rt.db.transaction() as s:
        if spec.to_patron:
            patron = s.scalar(select(Patron).where(Patron.patron_id == "T00345678"))
            assert patron is not None
            req = s.scalar(select(IllRequest).where(IllRequest.patron_id == patron.id))
            notice = queue_notice(
                s, kind, at=demo_rt.clock.now(), patron=patron, request_id=req.id if req else None
            )
        else:
            req = s.scalar(select(IllRequest).where(IllRequest.borrower_symbol == "IXA"))
            assert req is not None
            notice = queue_notice(
                s,
                kind,
                at=demo_rt.clock.now(),
                partner_symbol="IXA",
                recipient="ill@ixa.example.org",
                request_id=req.id,
            )
        assert notice is not None and req is not None
        s.flush()
        notice_id, title = notice.id, req.title
    daily_run.prepare_outbox(demo_rt, as_office(demo_rt))
    with demo_rt.db.reading() as s:
        row = s.get(Notice, notice_id)
        assert row is not None
        assert title in row.body or title in row.subject
        assert row.status in (NoticeStatus.QUEUED, NoticeStatus.HELD)
        if row.status is NoticeStatus.HELD:
            assert row.held_reason == daily_run.REVIEW_REASON


def test_names_other_screens_use_are_read_as_the_template_fields() -> None:
    assert nt.canonical_context(
        "renewal_approved",
        {"old_due_date": "2026-11-05", "barcode": "ILL00000018", "due_date": "", "x": None},
    ) == {"previous_due_date": "2026-11-05", "item_barcode": "ILL00000018"}
    assert nt.canonical_context("request_cancelled", {"reason": "Duplicate request."}) == {
        "cancel_reason": "Duplicate request."
    }
    assert nt.canonical_context("renewal_denied", {"reason": "Lender recalled it."}) == {
        "denial_reason": "Lender recalled it."
    }
    both = nt.canonical_context("overdue", {"item_barcode": "A", "barcode": "B"})
    assert both == {"item_barcode": "A"}


def test_renewal_notice_queued_with_other_names_renders_old_and_new_dates(
    demo_rt: Runtime,
) -> None:
    with demo_rt.db.transaction() as s:
        patron = s.scalar(select(Patron).where(Patron.patron_id == "T00123456"))
        notice = queue_notice(
            s,
            "renewal_approved",
            at=demo_rt.clock.now(),
            patron=patron,
            context={
                "title": "Silent Spring",
                "old_due_date": "2026-11-05",
                "due_date": "2026-12-03",
                "barcode": "ILL00000018",
            },
        )
        assert notice is not None
        s.flush()
        notice_id = notice.id
    daily_run.prepare_outbox(demo_rt, as_office(demo_rt))
    view = outbox_review.get_notice(demo_rt, as_office(demo_rt), notice_id)
    assert "Thursday, 3 December 2026 (it was Thursday, 5 November 2026)" in view.body
    assert "band barcode ILL00000018" in view.body
