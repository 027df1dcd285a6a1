"""Staff accounts and roles: sign-in, lockout, deactivation, OS users, and every role check."""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import json
import pkgutil
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import app
from app.cli.main import parse, run
from app.cli.staff_password import PASSWORD_ENV
from app.demo import DEMO_PASSWORD
from app.library.actors import Actor
from app.library.clock import FixedClock
from app.library.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.library.runtime import Runtime
from app.notices import outbox_review
from app.people import staff_admin
from app.people.staff import (
    LOCKOUT_BASE,
    MAX_FAILED_SIGN_INS,
    actor_for,
    sign_in,
    sign_in_os_user,
    unlock,
)
from db.models import AuditEvent, HoldShelfEntry, Item, ItemKind, Patron, Role, Staff

ActorAt = Callable[[str, str], Actor]
RANKED = (Role.DESK, Role.CTL, Role.ILL_OFFICE, Role.ADMIN)
DEMO_USER = {Role.DESK: "desk", Role.CTL: "ctl", Role.ILL_OFFICE: "office", Role.ADMIN: "admin"}


def _events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.db.reading() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- signing in -------------------------------------------------------------------------


def test_sign_in_gives_an_actor_at_the_branch_and_audits_it(demo_rt: Runtime) -> None:
    actor = sign_in(demo_rt, " Desk ", DEMO_PASSWORD, "metro", "desk-pc-1")
    assert (actor.username, actor.role, actor.branch_code) == ("desk", Role.DESK, "METRO")
    [event] = _events(demo_rt, "staff.sign_in")
    assert (event.username, event.branch_code, event.workstation) == ("desk", "METRO", "desk-pc-1")


def test_only_ill_office_staff_work_at_the_virtual_branch(demo_rt: Runtime) -> None:
    for username in ("desk", "ctl"):
        with pytest.raises(PermissionDenied, match="'ill_office' role"):
            sign_in(demo_rt, username, DEMO_PASSWORD, "WS-ILL")
        with pytest.raises(PermissionDenied, match="virtual branch WS-ILL"):
            actor_for(demo_rt, username, "WS-ILL")
    assert sign_in(demo_rt, "office", DEMO_PASSWORD, "WS-ILL").branch_code == "WS-ILL"
    assert actor_for(demo_rt, "admin", "WS-ILL").role is Role.ADMIN


def test_wrong_passwords_lock_the_account_with_growing_back_off(
    demo_rt: Runtime, clock: FixedClock
) -> None:
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(PermissionDenied, match="Wrong username or password"):
            sign_in(demo_rt, "desk", "not-the-password", "METRO")
    # Locked: even the right password is refused, and the message says for how long.
    with pytest.raises(PermissionDenied, match="locked for 31 more seconds"):
        sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO")
    clock.advance(seconds=LOCKOUT_BASE.total_seconds() + 1)
    with pytest.raises(PermissionDenied, match="Wrong username"):
        sign_in(demo_rt, "desk", "still-wrong", "METRO")
    # The sixth failure doubles the lock.
    with pytest.raises(PermissionDenied, match="locked for 61 more seconds"):
        sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO")
    clock.advance(seconds=61)
    assert sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO").username == "desk"
    with demo_rt.db.reading() as session:
        desk = session.scalar(select(Staff).where(Staff.username == "desk"))
        assert desk is not None and desk.failed_sign_ins == 0 and desk.locked_until is None
    failures = _events(demo_rt, "staff.sign_in_failed")
    assert len(failures) == MAX_FAILED_SIGN_INS + 1
    assert failures[-1].after == {"failed_sign_ins": 6, "locked": True}


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(demo_rt: Runtime) -> None:
    with pytest.raises(PermissionDenied) as unknown:
        sign_in(demo_rt, "nobody", DEMO_PASSWORD, "METRO")
    with pytest.raises(PermissionDenied) as wrong:
        sign_in(demo_rt, "desk", "wrong-password", "METRO")
    assert unknown.value.message == wrong.value.message


def test_passwords_never_reach_the_audit_trail(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "NEC")
    sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO")
    with pytest.raises(PermissionDenied):
        sign_in(demo_rt, "desk", "typo-secret-123", "METRO")
    staff_admin.create_staff(demo_rt, admin, "pat", "Pat New", Role.DESK, "first-secret-456")
    staff_admin.reset_password(demo_rt, admin, "pat", "second-secret-789")
    with demo_rt.db.reading() as session:
        text = json.dumps(
            [[e.before, e.after, e.detail] for e in session.scalars(select(AuditEvent))]
        )
    for secret in (DEMO_PASSWORD, "typo-secret-123", "first-secret-456", "second-secret-789"):
        assert secret not in text
    assert "$argon2" not in text


def test_unlock_after_idle_needs_the_same_persons_password(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    actor = actor_at("office", "WS-ILL")
    with pytest.raises(PermissionDenied, match="Wrong password"):
        unlock(demo_rt, actor, "not-mine")
    again = unlock(demo_rt, actor, DEMO_PASSWORD)
    assert (again.username, again.branch_code, again.workstation) == (
        "office",
        "WS-ILL",
        "test-desk",
    )
    assert len(_events(demo_rt, "staff.unlock")) == 1
    assert len(_events(demo_rt, "staff.sign_in_failed")) == 1


def test_an_account_without_a_password_unlocks_by_signing_in_again(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    admin = actor_at("admin", "NEC")
    staff_admin.create_staff(demo_rt, admin, "kiosk", "Kiosk", Role.DESK, "temporary-pass")
    with demo_rt.db.transaction() as session:
        kiosk = session.scalar(select(Staff).where(Staff.username == "kiosk"))
        assert kiosk is not None
        kiosk.password_hash = None
    staff_admin.map_os_user(demo_rt, admin, "kiosk", "metro-kiosk")
    actor = sign_in_os_user(demo_rt, "metro-kiosk", "METRO")
    with pytest.raises(PermissionDenied, match="no password: it signs in with its computer"):
        unlock(demo_rt, actor, "anything")


# --- administering accounts -------------------------------------------------------------


def test_admin_creates_staff_who_can_sign_in(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "NEC")
    account = staff_admin.create_staff(
        demo_rt, admin, "Sam.Reyes", "Sam Reyes", Role.CTL, "a long password"
    )
    assert (account.username, account.role, account.active) == ("sam.reyes", Role.CTL, True)
    assert sign_in(demo_rt, "sam.reyes", "a long password", "SE").role is Role.CTL
    with pytest.raises(Conflict, match=r"already a staff account 'sam\.reyes'"):
        staff_admin.create_staff(demo_rt, admin, "sam.reyes", "Again", Role.DESK, "password123")
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        staff_admin.create_staff(demo_rt, admin, "kim", "Kim", Role.DESK, "short")
    with pytest.raises(InvalidInput, match="letters, digits"):
        staff_admin.create_staff(demo_rt, admin, "kim lee", "Kim", Role.DESK, "password123")


def test_admin_sets_roles_and_the_change_is_audited(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "NEC")
    account = staff_admin.set_role(demo_rt, admin, "desk", Role.ILL_OFFICE)
    assert account.role is Role.ILL_OFFICE
    assert actor_for(demo_rt, "desk", "WS-ILL").role is Role.ILL_OFFICE
    [event] = _events(demo_rt, "staff.set_role")
    assert (event.before, event.after, event.username) == (
        {"role": "desk"},
        {"role": "ill_office"},
        "admin",
    )
    with pytest.raises(NotFound, match="no staff account 'ghost'"):
        staff_admin.set_role(demo_rt, admin, "ghost", Role.DESK)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    admin = actor_at("admin", "NEC")
    with pytest.raises(Conflict, match="no active administrator"):
        staff_admin.set_role(demo_rt, admin, "admin", Role.DESK)
    with pytest.raises(InvalidInput, match="signed in with"):
        staff_admin.deactivate(demo_rt, admin, "admin")
    staff_admin.set_role(demo_rt, admin, "office", Role.ADMIN)
    other = actor_at("office", "NEC")
    assert staff_admin.set_role(demo_rt, other, "admin", Role.DESK).role is Role.DESK


def test_deactivated_staff_cannot_sign_in_until_reactivated(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    admin = actor_at("admin", "NEC")
    assert staff_admin.deactivate(demo_rt, admin, "desk").active is False
    with pytest.raises(PermissionDenied, match="'desk' is deactivated"):
        sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO")
    # Without the right password, a deactivated account looks like any wrong password.
    with pytest.raises(PermissionDenied, match="Wrong username or password"):
        sign_in(demo_rt, "desk", "guessing-123", "METRO")
    with pytest.raises(PermissionDenied, match="no active staff account 'desk'"):
        actor_for(demo_rt, "desk", "METRO")
    staff_admin.reactivate(demo_rt, admin, "desk")
    assert sign_in(demo_rt, "desk", DEMO_PASSWORD, "METRO").username == "desk"
    assert [e.action for e in _events(demo_rt, "staff.deactivate")] == ["staff.deactivate"]
    assert len(_events(demo_rt, "staff.activate")) == 1


def test_reset_password_replaces_the_old_one_and_lifts_a_lockout(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(PermissionDenied):
            sign_in(demo_rt, "ctl", "wrong-password", "SE")
    admin = actor_at("admin", "NEC")
    accounts = {a.username: a for a in staff_admin.staff_accounts(demo_rt, admin)}
    assert accounts["ctl"].locked_until is not None
    staff_admin.reset_password(demo_rt, admin, "ctl", "brand new secret")
    with pytest.raises(PermissionDenied, match="Wrong username"):
        sign_in(demo_rt, "ctl", DEMO_PASSWORD, "SE")
    assert sign_in(demo_rt, "ctl", "brand new secret", "SE").username == "ctl"
    with pytest.raises(InvalidInput, match="at least 8"):
        staff_admin.reset_password(demo_rt, admin, "ctl", "1234567")


def test_os_user_mapping_signs_in_without_a_password(demo_rt: Runtime, actor_at: ActorAt) -> None:
    admin = actor_at("admin", "NEC")
    with pytest.raises(PermissionDenied, match="'dd-metro' is not mapped"):
        sign_in_os_user(demo_rt, "dd-metro", "METRO")
    assert staff_admin.map_os_user(demo_rt, admin, "desk", "dd-metro").os_user == "dd-metro"
    actor = sign_in_os_user(demo_rt, "dd-metro", "METRO", "pc-7")
    assert (actor.username, actor.branch_code) == ("desk", "METRO")
    with pytest.raises(PermissionDenied, match="'ill_office' role"):
        sign_in_os_user(demo_rt, "dd-metro", "WS-ILL")
    with pytest.raises(Conflict, match="already signs in as 'desk'"):
        staff_admin.map_os_user(demo_rt, admin, "ctl", "dd-metro")
    with pytest.raises(InvalidInput, match="no spaces"):
        staff_admin.map_os_user(demo_rt, admin, "ctl", "two words")
    staff_admin.deactivate(demo_rt, admin, "desk")
    with pytest.raises(PermissionDenied, match="deactivated"):
        sign_in_os_user(demo_rt, "dd-metro", "METRO")
    staff_admin.map_os_user(demo_rt, admin, "desk", None)
    with pytest.raises(PermissionDenied, match="not mapped"):
        sign_in_os_user(demo_rt, "dd-metro", "METRO")


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda rt, a: staff_admin.staff_accounts(rt, a), "Managing staff accounts"),
        (
            lambda rt, a: staff_admin.create_staff(rt, a, "x1", "X", Role.DESK, "password1"),
            "Adding staff",
        ),
        (lambda rt, a: staff_admin.set_role(rt, a, "desk", Role.ADMIN), "Changing a staff role"),
        (
            lambda rt, a: staff_admin.reset_password(rt, a, "desk", "password1"),
            "Resetting a password",
        ),
        (lambda rt, a: staff_admin.deactivate(rt, a, "desk"), "Deactivating or reactivating"),
        (lambda rt, a: staff_admin.reactivate(rt, a, "desk"), "Deactivating or reactivating"),
        (lambda rt, a: staff_admin.map_os_user(rt, a, "desk", "u1"), "Mapping a computer"),
    ],
)
def test_staff_administration_needs_the_admin_role(
    demo_rt: Runtime,
    actor_at: ActorAt,
    call: Callable[[Runtime, Actor], object],
    what: str,
) -> None:
    for username in ("desk", "ctl", "office"):
        with pytest.raises(PermissionDenied, match=f"{what}.* needs the 'admin' role"):
            call(demo_rt, actor_at(username, "NEC"))
    call(demo_rt, actor_at("admin", "NEC"))


# --- every protected service ------------------------------------------------------------


def _app_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(app.__path__, "app."):
        if not info.name.startswith("app.cli"):
            names.append(info.name)
    return sorted(names)


def _require_role(node: ast.stmt) -> Role | None:
    """The role of a statement `actor.require(Role.X, ...)`, else None."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return None
    func = node.value.func
    if not (isinstance(func, ast.Attribute) and func.attr == "require" and node.value.args):
        return None
    role = node.value.args[0]
    if isinstance(role, ast.Attribute) and isinstance(role.value, ast.Name):
        return Role[role.attr]
    return None


def _first_statement_checks() -> list[tuple[str, str, Role]]:
    """Public services whose first statement is the role check (docstring aside)."""
    found = []
    for name in _app_modules():
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            body = list(node.body)
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            role = _require_role(body[0]) if body else None
            if role is not None:
                found.append((name, node.name, role))
    return found


def _all_require_sites() -> set[tuple[str, str]]:
    """(module, function) of every `.require(` call in app/, nested or not."""
    sites = set()
    for name in _app_modules():
        module = importlib.import_module(name)
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr == "require"
                    ):
                        sites.add((name, node.name))
    return sites


FIRST_STATEMENT_CHECKS = _first_statement_checks()


def test_the_role_check_survey_found_the_protected_services() -> None:
    found = {(module, fn) for module, fn, _ in FIRST_STATEMENT_CHECKS}
    assert ("app.people.staff_admin", "set_role") in found
    assert ("app.records.audit_search", "search_audit") in found
    assert len(found) >= 10


@pytest.mark.parametrize(
    ("module_name", "function_name", "needed"),
    FIRST_STATEMENT_CHECKS,
    ids=[f"{m.removeprefix('app.')}.{f}" for m, f, _ in FIRST_STATEMENT_CHECKS],
)
def test_every_protected_service_refuses_lower_roles_before_doing_anything(
    demo_rt: Runtime, actor_at: ActorAt, module_name: str, function_name: str, needed: Role
) -> None:
    """Called by each lower role, the service refuses and names the role it needs.

    Every other argument is None: the check must come before the service reads them.
    """
    function = getattr(importlib.import_module(module_name), function_name)
    signature = inspect.signature(function)
    lower = RANKED[: RANKED.index(needed)]
    for role in lower:
        actor = actor_at(DEMO_USER[role], "NEC")
        args: dict[str, object] = {}
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            if parameter.name == "actor":
                args[parameter.name] = actor
            elif parameter.name == "rt":
                args[parameter.name] = demo_rt
            elif parameter.default is parameter.empty:
                args[parameter.name] = None
        with pytest.raises(PermissionDenied) as refused:
            function(**args)
        assert f"needs the '{needed.value}' role" in refused.value.message
        assert f"you are signed in as '{role.value}'" in refused.value.message


# Services that run before anyone is signed in: they make the actor, or show the sign-in.
NO_ACTOR_YET = {
    ("app.people.own_login", "sign_in_os_user_connected"),
    ("app.people.staff", "sign_in"),
    ("app.people.staff", "sign_in_os_user"),
    ("app.people.staff", "actor_for"),
    ("app.people.staff", "sign_in_facts"),
    ("app.people.own_login", "sign_in_connected"),
    # The NCIP responder: the partner named in each message is its actor (`ncip:AGENCY`).
    ("app.ncip.responder", "respond"),
    ("app.ncip.http_server", "make_app"),
    # Who may run the daily jobs on this connection: asked to choose the actor (the
    # service's, or the staff member's), so before there is one; they read no library data.
    ("app.daily", "who_runs"),
    ("app.daily", "service_role_name"),
}


def _services() -> list[tuple[str, str, inspect.Signature]]:
    """Public functions of app/ whose first parameter is the runtime."""
    found = []
    for name in _app_modules():
        module = importlib.import_module(name)
        for fn_name, fn in vars(module).items():
            if fn_name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != name:
                continue
            signature = inspect.signature(fn)
            first = next(iter(signature.parameters), None)
            if first == "rt":
                found.append((name, fn_name, signature))
    return found


def test_every_service_names_its_actor_right_after_the_runtime() -> None:
    """`(rt, actor, ...)`: who acts is never optional, reads of patron data included."""
    services = _services()
    assert len(services) >= 100
    named = {(module, fn) for module, fn, _ in services}
    assert ("app.money.charge_views", "list_charges") in named
    assert named >= NO_ACTOR_YET
    wrong = sorted(
        f"{module}.{fn}{signature}"
        for module, fn, signature in services
        if (module, fn) not in NO_ACTOR_YET and list(signature.parameters)[1:2] != ["actor"]
    )
    assert wrong == [], "These services do not take the actor second: " + ", ".join(wrong)


@pytest.mark.parametrize(
    ("module_name", "function_name"),
    [
        ("app.lending.ifm", "list_transactions"),
        ("app.lending.ifm", "lost_requests"),
        ("app.lending.ifm", "ledger"),
        ("app.notices.outbox_review", "list_notices"),
        ("app.notices.outbox_review", "get_notice"),
        ("app.borrowing.patron_import", "import_patrons"),
        ("app.borrowing.request_import", "import_requests"),
        ("app.people.staff", "list_staff"),
        ("app.demo", "load_demo"),
    ],
)
def test_the_reads_of_office_data_are_among_the_protected_services(
    module_name: str, function_name: str
) -> None:
    protected = {(module, fn) for module, fn, _ in FIRST_STATEMENT_CHECKS}
    assert (module_name, function_name) in protected


def test_reading_a_patrons_notice_is_recorded_as_a_view(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    from app.notices.outbox import queue_notice

    with demo_rt.db.transaction() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == "T00123456"))
        notice = queue_notice(session, "request_cancelled", at=demo_rt.clock.now(), patron=patron)
        assert notice is not None
        session.flush()
        notice_id = notice.id
    office = actor_at("office", "WS-ILL")
    assert [n.id for n in outbox_review.list_notices(demo_rt, office)] == [notice_id]
    assert not _events(demo_rt, "patron.view")  # a list of notices is no look at one patron
    outbox_review.get_notice(demo_rt, office, notice_id)
    views = [
        (e.username, e.detail) for e in _events(demo_rt, "patron.view") if e.detail == "notice"
    ]
    assert views == [("office", "notice")]


def test_the_command_line_names_who_looked_at_a_patrons_charges(
    demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)
    code, rows, _ = _cli(
        "charges", "list", "--patron", "T00890123", "--json", "--db", demo_rt.db.url,
        "--staff", "office",
    )  # fmt: skip
    assert code == 0 and len(rows) == 2
    [event] = _events(demo_rt, "patron.view")
    assert (event.username, event.detail) == ("office", "charges")


def _held_for(rt: Runtime, campus_id: str) -> str:
    """The strap of a borrowed item waiting on a hold shelf for this patron (not ILU)."""
    with rt.db.reading() as session:
        barcode = session.scalar(
            select(Item.barcode)
            .join(HoldShelfEntry, HoldShelfEntry.item_id == Item.id)
            .join(Patron, Patron.id == HoldShelfEntry.patron_id)
            .where(Patron.patron_id == campus_id, Item.in_library_use_only.is_(False))
        )
        assert barcode is not None
        return barcode


def test_checkout_overrides_need_the_ill_office(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    from app.desk.checkout import check_out

    barcode = _held_for(demo_rt, "T00123456")
    # Not on the hold shelf for this patron: only the ILL office may override.
    for username in ("desk", "ctl"):
        with pytest.raises(PermissionDenied, match="not on the hold shelf here needs the "):
            check_out(demo_rt, actor_at(username, "METRO"), "T00234567", barcode, override=True)
    # The lender's date has passed: likewise.
    with demo_rt.db.transaction() as session:
        item = session.scalar(select(Item).where(Item.barcode == barcode))
        assert item is not None
        item.lender_due_date = clock.today() - timedelta(days=1)
    with pytest.raises(PermissionDenied, match="lender due date has passed needs the 'ill_office'"):
        check_out(demo_rt, actor_at("desk", "METRO"), "T00123456", barcode, override=True)
    result = check_out(demo_rt, actor_at("office", "METRO"), "T00123456", barcode, override=True)
    assert result.due_date is not None


def test_recording_a_recall_needs_the_ill_office(demo_rt: Runtime, actor_at: ActorAt) -> None:
    from app.desk.loan_changes import change_due_date

    # Renée Müller has ILL00000091 (request 20261012) checked out until 23 November.
    for username, branch in (("desk", "METRO"), ("ctl", "METRO")):
        with pytest.raises(PermissionDenied, match="Recording a recall"):
            change_due_date(
                demo_rt, actor_at(username, branch), "ILL00000091", date(2026, 11, 12), "x",
                recall=True,
            )  # fmt: skip
    change = change_due_date(
        demo_rt, actor_at("office", "WS-ILL"), "20261012", date(2026, 11, 12), "x", recall=True
    )
    assert change.due_date == date(2026, 11, 12) and change.patron_told


def test_checking_out_to_the_ill_account_needs_a_team_lead(
    demo_rt: Runtime, actor_at: ActorAt
) -> None:
    from app.desk.checkout import check_out

    with demo_rt.db.reading() as session:
        own = session.scalar(
            select(Item.barcode).where(Item.kind == ItemKind.OWNED).order_by(Item.id)
        )
        assert own is not None
    with pytest.raises(PermissionDenied, match="ILL account needs the 'ctl' role"):
        check_out(demo_rt, actor_at("desk", "METRO"), "777110346", own)
    # A team lead passes the role check (the answer then depends on the lending request).
    check_out(demo_rt, actor_at("ctl", "METRO"), "777110346", own)


def test_changing_the_lender_date_of_a_waiting_item_needs_the_ill_office(
    demo_rt: Runtime, actor_at: ActorAt, clock: FixedClock
) -> None:
    from app.desk.loan_changes import change_due_date

    barcode = _held_for(demo_rt, "T00123456")  # on the hold shelf: no checkout to change
    earlier = clock.today() + timedelta(days=2)
    with pytest.raises(NotFound, match="The ILL office changes the lender's date"):
        change_due_date(demo_rt, actor_at("desk", "METRO"), barcode, earlier, "Lender recalled")
    change = change_due_date(
        demo_rt, actor_at("office", "METRO"), barcode, earlier, "Lender recalled"
    )
    assert change.due_date == earlier


# Role checks that depend on the situation, each exercised by the test named here.
CONDITIONAL_CHECKS: dict[tuple[str, str], str] = {
    ("app.people.staff", "_actor_at"): "test_only_ill_office_staff_work_at_the_virtual_branch",
    ("app.people.staff", "add_staff"): "test_staff_administration_needs_the_admin_role",
    ("app.desk.checkout", "_ill_plan"): "test_checkout_overrides_need_the_ill_office",
    ("app.desk.checkout_lending", "lending_plan"): (
        "test_checking_out_to_the_ill_account_needs_a_team_lead"
    ),
    ("app.desk.loan_changes", "change_due_date"): "test_recording_a_recall_needs_the_ill_office",
}


def test_every_role_check_in_app_is_covered_by_a_test() -> None:
    first = {(module, fn) for module, fn, _ in FIRST_STATEMENT_CHECKS}
    uncovered = sorted(_all_require_sites() - first - set(CONDITIONAL_CHECKS))
    assert uncovered == [], (
        "These services check a role in the middle of their work; add a scenario test "
        "and list it in CONDITIONAL_CHECKS: " + ", ".join(f"{m}.{f}" for m, f in uncovered)
    )
    names = set(globals())
    assert all(test in names for test in CONDITIONAL_CHECKS.values())


# --- command line -----------------------------------------------------------------------


def _cli(*argv: str, stdin: str | None = None) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        import sys

        saved = sys.stdin
        sys.stdin = io.StringIO(stdin)
    try:
        code = run(parse(list(argv)), out, err)
    finally:
        if stdin is not None:
            sys.stdin = saved
    rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return code, rows, err.getvalue()


@pytest.fixture
def demo_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line signs --staff in: the demo staff's password, as a script gives it."""
    monkeypatch.setenv(PASSWORD_ENV, DEMO_PASSWORD)


@pytest.mark.usefixtures("demo_password")
def test_staff_commands_for_administrators(demo_rt: Runtime) -> None:
    db = demo_rt.db.url
    admin = ("--staff", "admin", "--branch", "NEC", "--json", "--db", db)
    code, rows, _ = _cli("staff", "role", "desk", "ctl", *admin)
    assert code == 0 and rows[0]["role"] == "ctl"
    code, rows, _ = _cli("staff", "reset-password", "desk", *admin, stdin="fresh password 1\n")
    assert code == 0 and rows[0]["username"] == "desk" and "fresh" not in json.dumps(rows)
    assert sign_in(demo_rt, "desk", "fresh password 1", "METRO").role is Role.CTL
    code, rows, _ = _cli("staff", "map-os-user", "desk", "dd", *admin)
    assert code == 0 and rows[0]["os_user"] == "dd"
    code, rows, _ = _cli("staff", "deactivate", "desk", *admin)
    assert code == 0 and rows[0]["active"] is False
    code, rows, _ = _cli("staff", "activate", "desk", *admin)
    assert code == 0 and rows[0]["active"] is True
    code, rows, err = _cli("staff", "reset-password", "desk", *admin, stdin="\n")
    assert code == 1 and rows[0]["error"] == "invalid_input" and "standard input" in err


@pytest.mark.usefixtures("demo_password")
def test_staff_commands_refuse_non_admins_and_say_which_role(demo_rt: Runtime) -> None:
    code, rows, err = _cli(
        "staff", "role", "ctl", "admin", "--staff", "office", "--branch", "NEC", "--json",
        "--db", demo_rt.db.url,
    )  # fmt: skip
    assert code == 1
    assert rows == [
        {
            "error": "permission_denied",
            "message": "Changing a staff role needs the 'admin' role; you are signed in as "
            "'ill_office'. Ask a colleague with that role, or an administrator.",
        }
    ]
    assert "'admin' role" in err
