"""Searching the audit trail, and the patron views it records."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from app.people import staff_admin
from app.records import audit
from app.records.audit_search import AuditQuery, describe, search_audit
from app.records.patron_views import record_patron_view
from db.models import AuditEvent, Branch, Item, Patron, Role, Staff

ActorAt = Callable[[str, str], Actor]


def _ids(rt: Runtime, campus_id: str, item_title: str) -> tuple[int, int, str]:
    with rt.db.reading() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == campus_id))
        item = session.scalar(select(Item).where(Item.title == item_title).order_by(Item.id))
        assert patron is not None and item is not None
        return patron.id, item.id, item.barcode


def _history(rt: Runtime, clock: FixedClock, actor_at: ActorAt) -> tuple[str, str]:
    """desk looks at a patron; a day later office changes an item; admin changes a role."""
    patron_id, item_id, barcode = _ids(rt, "T00123456", "Invisible Cities")
    desk, office = actor_at("desk", "METRO"), actor_at("office", "WS-ILL")
    with rt.db.transaction() as session:
        record_patron_view(session, desk, patron_id, clock.now(), detail="check out")
    clock.advance(days=1)
    with rt.db.transaction() as session:
        audit.record(
            session,
            office,
            "item.note",
            at=clock.now(),
            entity="item",
            entity_id=item_id,
            before={"note": ""},
            after={"note": "spine loose"},
        )
        audit.record(
            session,
            desk,
            "loan.checkout",
            at=clock.now(),
            entity="loan",
            entity_id=1,
            item_id=item_id,
            patron_id=patron_id,
        )
    clock.advance(days=1)
    staff_admin.set_role(rt, actor_at("admin", "NEC"), "ctl", Role.ILL_OFFICE)
    return barcode, "T00123456"


def test_search_by_item_patron_staff_and_dates(
    demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt
) -> None:
    start = clock.today()
    barcode, campus_id = _history(demo_rt, clock, actor_at)
    office = actor_at("office", "WS-ILL")
    utc = clock.now().tzinfo

    by_item = search_audit(demo_rt, office, AuditQuery(item_barcode=barcode), tz=utc)
    assert [r.action for r in by_item.rows] == ["loan.checkout", "item.note"]
    assert {r.item_barcode for r in by_item.rows} == {barcode}
    assert by_item.rows[1].after == {"note": "spine loose"}

    by_staff = search_audit(demo_rt, office, AuditQuery(staff_username="ADMIN"), tz=utc)
    assert [(r.action, r.before, r.after) for r in by_staff.rows] == [
        ("staff.set_role", {"role": "ctl"}, {"role": "ill_office"})
    ]

    second_day = AuditQuery(since=start + timedelta(days=1), until=start + timedelta(days=1))
    assert [r.action for r in search_audit(demo_rt, office, second_day, tz=utc).rows] == [
        "loan.checkout",
        "item.note",
    ]

    by_patron = search_audit(demo_rt, office, AuditQuery(patron=campus_id.lower()), tz=utc)
    actions = [(r.action, r.username) for r in by_patron.rows]
    # The search itself is the newest look at the patron's record.
    assert actions == [
        ("patron.view", "office"),
        ("loan.checkout", "desk"),
        ("patron.view", "desk"),
    ]
    assert {r.patron_campus_id for r in by_patron.rows} == {campus_id}
    assert by_patron.rows[0].detail == "audit trail search"


def test_search_by_patron_barcode_and_a_limit(
    demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt
) -> None:
    _history(demo_rt, clock, actor_at)
    admin = actor_at("admin", "NEC")
    result = search_audit(demo_rt, admin, AuditQuery(patron="21000123456", limit=1))
    assert len(result.rows) == 1 and result.truncated
    assert result.rows[0].action == "patron.view" and result.rows[0].username == "admin"


def test_the_audit_trail_is_for_the_ill_office_and_admins(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    for username in ("desk", "ctl"):  # a desk and a campus team lead
        with pytest.raises(PermissionDenied, match="Searching the audit trail needs the 'ill_off"):
            search_audit(demo_rt, actor_at(username, "NEC"), AuditQuery(patron="T00123456"))
        with pytest.raises(PermissionDenied, match="Searching the audit trail needs"):
            search_audit(demo_rt, actor_at(username, "NEC"), AuditQuery(item_barcode="x"))
    with demo_rt.db.reading() as session:
        views = session.scalars(select(AuditEvent).where(AuditEvent.action == "patron.view"))
        assert not views.all()


def test_bad_searches_say_what_to_fix(demo_rt: Runtime, actor_at: ActorAt) -> None:
    office = actor_at("office", "WS-ILL")
    with pytest.raises(InvalidInput, match="Swap the dates"):
        search_audit(demo_rt, office, AuditQuery(since=date(2026, 11, 5), until=date(2026, 11, 1)))
    with pytest.raises(NotFound, match="No item has the barcode 'ILL9999999'"):
        search_audit(demo_rt, office, AuditQuery(item_barcode="ILL9999999"))
    with pytest.raises(NotFound, match="No patron has the campus ID or barcode 'T99999999'"):
        search_audit(demo_rt, office, AuditQuery(patron="T99999999"))
    with pytest.raises(InvalidInput, match="between 1 and 5000"):
        search_audit(demo_rt, office, AuditQuery(limit=0))


def test_no_service_updates_or_deletes_audit_events() -> None:
    """Append-only from the application's side: no code in app/ or ui/ rewrites the trail,
    except the privacy run, which removes the patron from anonymised loans' events."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("app", "ui"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for needle in ("update(AuditEvent", "delete(AuditEvent", "session.delete(event"):
                allowed = needle == "update(AuditEvent" and path.name == "privacy.py"
                if needle in text and not allowed:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_audit_search_command(demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt) -> None:
    barcode, _ = _history(demo_rt, clock, actor_at)
    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "search", "--item", barcode, "--staff", "office", "--branch", "WS-ILL"]
    code = run(parse([*argv, "--json", "--db", demo_rt.db.url]), out, err)
    assert code == 0, err.getvalue()
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["loan.checkout", "item.note"]
    assert rows[0]["item_barcode"] == barcode
    out, err = io.StringIO(), io.StringIO()
    code = run(parse([*argv, "--from", "yesterday", "--db", demo_rt.db.url]), out, err)
    assert code == 1 and "--from takes a date like 2026-11-02" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    desk = ["audit", "search", "--staff", "desk", "--branch", "METRO", "--db", demo_rt.db.url]
    code = run(parse(desk), out, err)
    assert code == 1 and "needs the 'ill_office' role" in err.getvalue()


def test_the_change_is_shown_in_words(
    demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt
) -> None:
    _history(demo_rt, clock, actor_at)
    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "search", "--user", "admin", "--staff", "admin", "--branch", "NEC"]
    assert run(parse([*argv, "--db", demo_rt.db.url]), out, err) == 0
    assert (
        out.getvalue()
        .rstrip()
        .endswith(
            "staff.set_role           staff account Chris Teamlead (ctl) role: ctl → ill_office"
        )
    )
    office = actor_at("office", "WS-ILL")
    [note] = search_audit(demo_rt, office, AuditQuery(staff_username="office")).rows
    assert describe(note) == "note: (empty) → spine loose"


def test_office_and_admin_search_by_patron_and_each_search_is_audited(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    with demo_rt.db.reading() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == "T00123456"))
        assert patron is not None
    for username, branch in (("office", "WS-ILL"), ("admin", "NEC")):
        search_audit(demo_rt, actor_at(username, branch), AuditQuery(patron="T00123456"))
    with demo_rt.db.reading() as session:
        searches = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "patron.view", AuditEvent.detail == "audit trail search")
            .order_by(AuditEvent.id)
        ).all()
    assert [(e.username, e.branch_code, e.patron_id, e.entity_id) for e in searches] == [
        ("office", "WS-ILL", patron.id, patron.id),
        ("admin", "NEC", patron.id, patron.id),
    ]


def test_ids_in_an_event_are_shown_as_branch_codes_staff_names_and_barcodes(
    demo_rt: Runtime, clock: FixedClock, actor_at: ActorAt
) -> None:
    _, item_id, barcode = _ids(demo_rt, "T00123456", "Invisible Cities")
    desk = actor_at("desk", "METRO")
    with demo_rt.db.transaction() as session:
        branch = {b.code: b.id for b in session.scalars(select(Branch))}
        ctl = session.scalar(select(Staff.id).where(Staff.username == "ctl"))
        before = {"status": "on_loan", "branch_id": branch["NEC"]}
        after = {
            "status": "in_transit",
            "branch_id": branch["METRO"],
            "destination_id": branch["NEC"],
            "staff_id": ctl,
            "item_id": item_id,
            "to_branch_id": 999999,  # a branch since removed: its id, marked as one
        }
        audit.record(
            session, desk, "check_in", at=clock.now(), entity="item", entity_id=item_id,
            item_id=item_id, before=before, after=after, detail="route_home",
        )  # fmt: skip
    office = actor_at("office", "WS-ILL")
    [row] = search_audit(
        demo_rt, office, AuditQuery(staff_username="desk", item_barcode=barcode)
    ).rows
    assert describe(row) == (
        "status: on_loan → in_transit; branch: NEC → METRO; destination: NEC; "
        f"staff: Chris Teamlead (ctl); item: {barcode}; to branch: #999999; route_home"
    )
    assert row.staff_name == "Dana Desk (desk)"
    assert row.before == before and row.after == after  # the stored values, untouched

    out, err = io.StringIO(), io.StringIO()
    argv = ["audit", "search", "--user", "desk", "--item", barcode, "--json"]
    who = ["--staff", "office", "--branch", "WS-ILL", "--db", demo_rt.db.url]
    assert run(parse([*argv, *who]), out, err) == 0, err.getvalue()
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["before"] == before and record["after"] == after  # keys kept as they were
    assert record["branch_code"] == "METRO" and record["username"] == "desk"
    assert record["staff_name"] == "Dana Desk (desk)"
    assert record["details"].startswith("status: on_loan → in_transit; branch: NEC → METRO")
    assert record["about"] == ""
