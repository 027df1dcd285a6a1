"""The command line's audit trail: who added staff, who read patron data, the first admin."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app.cli.main import parse, run
from app.cli.staff_password import PASSWORD_ENV
from app.library.runtime import Runtime
from app.money import charge_views
from db.models import AuditEvent, Patron, Staff
from tests.signed_in import as_office

FIRST_PASSWORD = "first-admin-pw"


def cli(
    *argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, list[dict[str, object]], str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    rows = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return code, rows, err.getvalue()


def _events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        found = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        session.expunge_all()
        return list(found)


def test_the_first_administrator_of_an_empty_database_needs_no_staff(
    rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    add = ("--db", database_url, "--json", "staff", "add", "Root", "--name", "Rita Root")
    code, _, err = cli(*add, "--role", "desk", stdin="", monkeypatch=monkeypatch)
    assert code == 1 and "--role admin" in err  # nobody could add the next account
    code, rows, _ = cli(
        *add,
        "--role",
        "admin",
        "--password-stdin",
        stdin=FIRST_PASSWORD + "\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and rows[0]["username"] == "root"
    (event,) = _events(rt, "staff.add")
    assert event.username == "root" and event.after == {"username": "root", "role": "admin"}
    assert "first administrator" in event.detail

    # Now there is staff: the exception is over.
    code, rows, err = cli(
        "--db", database_url, "--json", "staff", "add", "sam", "--name", "S", "--role", "admin"
    )
    assert code == 1 and rows[0]["error"] == "staff_needed" and "--staff" in err
    with rt.db.reading() as session:
        assert session.scalars(select(Staff.username)).all() == ["root"]


def test_staff_add_names_the_administrator_who_added(demo_rt: Runtime, database_url: str) -> None:
    code, _, _ = cli(
        "--db", database_url, "staff", "add", "newbie", "--name", "N. Ewbie", "--role", "desk",
        "--staff", "admin", "--branch", "NEC",
    )  # fmt: skip
    assert code == 0
    (event,) = _events(demo_rt, "staff.add")
    assert (event.username, event.branch_code) == ("admin", "NEC")
    assert event.after == {"username": "newbie", "role": "desk"}


def test_staff_add_on_a_database_with_staff_needs_an_administrator(
    demo_rt: Runtime, database_url: str
) -> None:
    add = ("--db", database_url, "staff", "add", "newbie", "--name", "N", "--role", "admin")
    code, _, err = cli(*add)
    assert code == 1 and "--staff" in err
    code, _, err = cli(*add, "--staff", "office")
    assert code == 1 and "'admin' role" in err
    assert _events(demo_rt, "staff.add") == []


def test_demo_on_a_database_with_staff_needs_an_administrator(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    code, _, err = cli("--db", database_url, "demo", "--reset")
    assert code == 1 and "needs --staff" in err


def _patron_views(rt: Runtime) -> dict[int, AuditEvent]:
    return {e.patron_id: e for e in _events(rt, "patron.view") if e.patron_id is not None}


def _patron_row_ids(rt: Runtime, campus_ids: set[str]) -> set[int]:
    with rt.db.reading() as session:
        return set(session.scalars(select(Patron.id).where(Patron.patron_id.in_(campus_ids))))


def test_listing_charges_and_the_bursar_preview_record_who_saw_which_patrons(
    demo_rt: Runtime, database_url: str
) -> None:
    office = as_office(demo_rt)
    listed = charge_views.list_charges(demo_rt, office)
    assert listed, "the demo library has open charges"
    shown = {c.patron_id for c in listed}

    code, rows, _ = cli("--db", database_url, "--json", "charges", "list", "--staff", "office")
    assert code == 0 and {r["patron_id"] for r in rows} == shown
    views = _patron_views(demo_rt)
    assert set(views) == _patron_row_ids(demo_rt, shown)
    assert {(e.username, e.detail) for e in views.values()} == {
        ("office", "command line: charges list")
    }

    code, rows, _ = cli("--db", database_url, "--json", "bursar", "preview", "--staff", "admin",
                        "--branch", "NEC")  # fmt: skip
    assert code == 0 and rows  # one to report, one held back in the demo library
    previewed = [e for e in _events(demo_rt, "patron.view") if e.detail.endswith("preview")]
    assert {e.patron_id for e in previewed} == _patron_row_ids(
        demo_rt, {str(r["patron_id"]) for r in rows}
    )
    assert {e.username for e in previewed} == {"admin"}


def test_notices_list_and_audit_search_record_who_looked(
    demo_rt: Runtime, database_url: str
) -> None:
    code, _, _ = cli("--db", database_url, "notices", "run", "--staff", "office")
    assert code in (0, 1)
    code, rows, _ = cli("--db", database_url, "--json", "notices", "list", "--staff", "office")
    assert code == 0
    patrons = {str(r["patron_id"]) for r in rows if r.get("patron_id")}
    views = [e for e in _events(demo_rt, "patron.view") if e.detail.endswith("notices list")]
    assert patrons, "the daily run queues notices to demo patrons"
    assert {e.patron_id for e in views} == _patron_row_ids(demo_rt, patrons)
    assert {e.username for e in views} == {"office"}

    code, rows, _ = cli(
        "--db", database_url, "--json", "audit", "search", "--staff", "admin", "--branch", "NEC",
        "--limit", "1000",
    )  # fmt: skip
    assert code == 0
    searched = [e for e in _events(demo_rt, "patron.view") if e.detail.endswith("audit search")]
    assert {e.username for e in searched} == {"admin"}
    assert {e.patron_id for e in searched} >= {e.patron_id for e in views}
