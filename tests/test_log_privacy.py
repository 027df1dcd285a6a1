"""No patron data in log files: a desk's day of commands and services, then the logs scanned."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.demo import DEMO_PASSWORD
from app.library.errors import ServiceError
from app.library.runtime import Runtime
from app.people.patrons import find_patrons, patron_view
from app.people.staff import actor_for, sign_in
from app.records import privacy
from app.records.audit_search import AuditQuery, search_audit
from app.workstation import log_setup
from app.workstation.config import log_dir
from db.engine import Database
from db.models import HoldShelfEntry, Item, Patron, PatronType, Transit
from tests.log_scan import leaks_under
from tests.signed_in import as_desk
from ui.launcher import main as illdesk


def _leaks(folder: Path) -> list[str]:
    return sorted({value for found in leaks_under(folder).values() for value in found})


@pytest.fixture(autouse=True)
def _logging_back_to_normal() -> object:
    yield None
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_illdesk_handler", False):
            root.removeHandler(handler)
            handler.close()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("patron T00123456 at METRO", "patron [campus-id] at METRO"),
        ("lookup t00123456", "lookup [campus-id]"),
        ("mail renee.muller@example.edu bounced", "mail [e-mail] bounced"),
        ("patron barcode 21000123456 scanned", "patron barcode [barcode] scanned"),
        ("ILL dummy 777110346", "ILL dummy [barcode]"),
        ("strap ILL00000125 item 31234000000001 request 20261001", None),
        ("login password=hunter2 ok", "login password=*** ok"),
        ('{"password": "hunter2"}', '{"password": "***"}'),
        ("postgresql://illdesk:hunter2@db/lib", "postgresql://illdesk:***@db/lib"),
        (
            "[SQL: INSERT x]\n[parameters: ('Renée', 'Müller')]",
            "[SQL: INSERT x]\n[parameters: removed]",
        ),
    ],
)
def test_redaction_rules(text: str, shown: str | None) -> None:
    assert log_setup.redact(text) == (text if shown is None else shown)


def test_log_file_and_folder_are_owner_only(tmp_path: Path) -> None:
    path = log_setup.configure_logging(tmp_path / "logs")
    assert path is not None
    logging.getLogger("app.test").warning("hello")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "WARNING app.test: hello" in path.read_text(encoding="utf-8")


def test_sql_text_and_parameters_are_never_logged(tmp_path: Path) -> None:
    log_setup.configure_logging(tmp_path / "logs", level=logging.DEBUG)
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


def _barcodes(url: str) -> tuple[str, str]:
    """A strap in transit to METRO, and a strap on the METRO hold shelf for T00123456."""
    database = Database(url)
    try:
        with database.reading() as session:
            transit = session.scalar(
                select(Item.barcode)
                .join(Transit, Transit.item_id == Item.id)
                .where(Transit.received_at.is_(None), Transit.to_branch_id == Item.home_branch_id)
            )
            hold = session.scalar(
                select(Item.barcode)
                .join(HoldShelfEntry, HoldShelfEntry.item_id == Item.id)
                .join(Patron, Patron.id == HoldShelfEntry.patron_id)
                .where(Patron.patron_id == "T00123456", Item.in_library_use_only.is_(False))
            )
    finally:
        database.dispose()
    assert hold is not None
    return transit or "ILL9999999", hold


def test_a_working_day_leaves_no_patron_data_in_the_logs(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", database_url)
    assert illdesk([*db, "demo"]) == 0
    in_transit, on_hold = _barcodes(database_url)
    desk = ("--branch", "METRO", "--staff", "desk")
    commands = [
        ["checkin", *desk, in_transit, "21000123456", "T00123456"],
        ["checkout", *desk, "--patron", "T00234567", on_hold],  # the wrong patron: refused
        ["checkout", *desk, "--patron", "T00123456", on_hold],
        ["checkin", *desk, on_hold],
        ["audit", "search", "--patron", "T00123456", "--staff", "office", "--branch", "WS-ILL"],
        ["audit", "search", "--patron", "T00999999", "--staff", "office", "--branch", "WS-ILL"],
        ["staff", "role", "desk", "ctl", "--staff", "desk", "--branch", "METRO"],
        ["privacy", "run", "--staff", "admin", "--branch", "NEC"],
        ["charges", "list", "--staff", "office"],
        ["notices", "list", "--staff", "office"],
        ["branches"],
    ]
    codes = [illdesk([*command, *db, "--json"]) for command in commands]
    assert codes[2] == 0 and codes[5] == 1 and codes[6] == 1
    output = capsys.readouterr()
    assert "T00123456" in output.out  # the answers name the patron; the log must not

    # Services the desk window calls, with the same logging.
    log_setup.configure_logging()
    rt = Runtime(Database(database_url))
    try:
        desk_actor = actor_for(rt, "desk", "METRO", "desk-pc")
        patron_view(rt, desk_actor, "T00345678")
        find_patrons(rt, as_desk(rt), "Nguyen")
        search_audit(rt, actor_for(rt, "admin", "NEC"), AuditQuery(patron="21000345678"))
        privacy.run_if_due(rt, desk_actor)
        for password in ("wrong-password", DEMO_PASSWORD):
            try:
                sign_in(rt, "desk", password, "METRO")
            except ServiceError as exc:
                logging.getLogger("ui.sign_in").warning("sign-in refused: %s", exc.message)
        # What the check-in screen logs when the database fails mid-scan: the error
        # quotes the statement's values, here a patron's name, e-mail and IDs.
        try:
            with rt.db.transaction() as session:
                session.add(
                    Patron(
                        patron_id="T00456789",
                        barcode="21000456789",
                        first_name="Carlos",
                        last_name="Peña",
                        name_key="pena carlos",
                        email="carlos.pena@example.edu",
                        patron_type=PatronType.STUDENT,
                    )
                )
        except SQLAlchemyError as exc:
            logging.getLogger("ui.screens.check_in_screen").warning(
                "check-in of %r failed: %s", "21000456789", exc
            )
        else:
            pytest.fail("a duplicate patron was accepted")
        try:
            raise RuntimeError("lookup of T00567890 aisha.rahman@example.edu failed")
        except RuntimeError:
            logging.getLogger("ui.desk_app").exception("unexpected error")
    finally:
        rt.db.dispose()

    folder = log_dir()
    text = (folder / "illdesk.log").read_text(encoding="utf-8")
    # The log did record the day (so an empty log cannot pass), with the data removed.
    assert "check-in of '[barcode]' failed" in text
    assert "[parameters: removed]" in text
    assert "lookup of [campus-id] [e-mail] failed" in text
    assert "sign-in refused: Wrong username or password" in text
    assert _leaks(folder) == []


def test_the_log_scan_finds_a_name_that_slipped_through(tmp_path: Path) -> None:
    """The scanner itself works: redaction cannot catch a bare name, the scan must."""
    (tmp_path / "planted.log").write_text("hold for Müller at METRO\n", encoding="utf-8")
    (tmp_path / "planted.log.1").write_text("sent to jamal.okafor@example.edu\n", encoding="utf-8")
    found = leaks_under(tmp_path, "planted.log*")
    assert sorted(p.name for p in found) == ["planted.log", "planted.log.1"]
    leaks = [value for values in found.values() for value in values]
    assert "Müller" in leaks and "jamal.okafor@example.edu" in leaks and "Jamal" in leaks
    assert "Renée" not in leaks
