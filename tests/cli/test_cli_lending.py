"""`illdesk lend` and `illdesk ifm`: the lending steps and IFM from a script, with --json."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest

from app.cli.main import parse, run
from app.library.clock import FixedClock
from app.library.runtime import Runtime

OFFICE = ("--branch", "WS-ILL", "--staff", "office")
METRO_CTL = ("--branch", "METRO", "--staff", "ctl")


@pytest.fixture
def cli(
    demo_rt: Runtime, database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """Run one command against the demo database, on the test's clock."""
    monkeypatch.setattr("app.cli.context.SystemClock", lambda: clock)

    def call(*argv: str, stdin: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        code = run(parse(["--db", database_url, "--json", *argv]), out, err)
        rows = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        return code, rows, err.getvalue()

    return call


def test_lend_from_pull_list_to_return(cli: Any, clock: FixedClock) -> None:
    code, rows, _ = cli("lend", "list", "--to-pull", "METRO", *OFFICE)
    assert code == 0
    (row,) = rows
    assert set(row) == {
        "request_number",
        "kind",
        "status",
        "title",
        "borrower_symbol",
        "partner_request_number",
        "item_barcode",
        "item_status",
        "pull_branch",
        "lend_due_date",
        "status_note",
        "checked_out_to_ill",
        "next_step",
    }
    number = row["request_number"]
    assert (row["status"], row["borrower_symbol"], row["pull_branch"]) == (
        "to_pull",
        "TXA",
        "METRO",
    )

    code, rows, _ = cli("lend", "pull", number, *METRO_CTL)
    assert code == 0 and rows[0]["status"] == "pulled"
    code, rows, _ = cli("lend", "checkout", number, "--account", "ILL", *METRO_CTL)
    assert code == 0
    assert rows[0]["checked_out_to_ill"] is True and rows[0]["destination"] == "WS-ILL"
    assert "YELLOW FLAG" in rows[0]["reminder"]
    due = (clock.today() + timedelta(days=30)).isoformat()
    code, rows, _ = cli("lend", "ship", number, "--due", due, *OFFICE)
    assert code == 0 and rows[0]["status"] == "shipped" and rows[0]["lend_due_date"] == due
    code, rows, _ = cli("lend", "returned", number, *OFFICE)
    assert code == 0
    assert (rows[0]["status"], rows[0]["outcome"], rows[0]["destination"]) == (
        "closed",
        "transit",
        "METRO",
    )


def test_create_and_not_on_shelf(cli: Any) -> None:
    code, rows, _ = cli(
        "lend", "create", "--borrower", "ixa", "--their-number", "880011",
        "--item", "Campbell Biology", "--pull-branch", "WEST", *OFFICE,
    )  # fmt: skip
    assert code == 0
    created = rows[0]
    assert (created["status"], created["borrower_symbol"], created["pull_branch"]) == (
        "to_pull",
        "IXA",
        "WEST",
    )
    code, rows, _ = cli(
        "lend", "not-on-shelf", created["request_number"], "--reason", "missing, checked twice",
        "--branch", "WEST", "--staff", "ctl",
    )  # fmt: skip
    assert code == 0
    assert (
        rows[0]["status"] == "not_on_shelf" and rows[0]["status_note"] == "missing, checked twice"
    )


def test_refusals_print_json_and_exit_1(cli: Any) -> None:
    _, (row,), _ = cli("lend", "list", "--to-pull", "METRO", *OFFICE)
    number = row["request_number"]
    code, rows, err = cli("lend", "ship", number, "--due", "next week", *OFFICE)
    assert code == 1 and rows[0]["error"] == "invalid_input" and "YYYY-MM-DD" in err
    code, rows, _ = cli("lend", "pull", number, "--branch", "WEST", "--staff", "ctl")
    assert code == 1 and rows[0]["error"] == "conflict"
    code, rows, _ = cli("lend", "pull", number, "--branch", "METRO", "--staff", "desk")
    assert code == 1 and rows[0]["error"] == "permission_denied"
    code, rows, _ = cli("ifm", "record", number, "--amount", "85.999", *OFFICE)
    assert code == 1 and "two decimals" in rows[0]["message"]
    _, (row,), _ = cli("lend", "list", "--to-pull", "METRO", *OFFICE)
    assert row["status"] == "to_pull"  # nothing changed


def test_overdue_messages_and_ifm_round_trip(cli: Any, tmp_path: Any, clock: FixedClock) -> None:
    code, rows, _ = cli("lend", "overdue", *OFFICE)
    assert code == 0
    stages = {r["borrower_symbol"]: (r["stage"], r["days_overdue"]) for r in rows}
    assert stages == {"IXA": ("overdue", 25), "UIU": ("lost_billable", 45)}
    lost = next(r for r in rows if r["borrower_symbol"] == "UIU")
    (message,) = lost["messages"]
    assert message["kind"] == "lender_lost" and message["status"] == "held"

    body = tmp_path / "body.txt"
    body.write_text("Please start the IFM replacement.", encoding="utf-8")
    code, rows, _ = cli(
        "lend", "message", str(message["notice_id"]), "--subject", "Lost item",
        "--body-file", str(body), *OFFICE,
    )  # fmt: skip
    assert code == 0 and rows[0]["body"] == "Please start the IFM replacement."
    code, rows, _ = cli("lend", "message", str(message["notice_id"]), "--sent", *OFFICE)
    assert code == 0 and rows[0]["status"] == "sent"

    number = lost["request_number"]
    code, rows, _ = cli("ifm", "lost", *OFFICE)
    assert code == 0
    assert {(r["request_number"], r["direction"]) for r in rows} >= {(number, "we_receive")}
    assert "we_pay" in {r["direction"] for r in rows}
    code, rows, _ = cli("ifm", "build", number, "--amount", "$120", *OFFICE)
    assert code == 0
    assert rows[0] == {
        "direction": "we_receive",
        "original_request_number": "9100003",
        "partner_symbol": "UIU",
        "title": "West Texas Oil Towns (Replacement for request #9100003)",
        "verification_note": rows[0]["verification_note"],
        "lender_string": "EXC",
        "use_ifm": True,
        "max_cost": "120.00",
        "currency": "USD",
    }
    assert "replacement cost of a lost item" in rows[0]["verification_note"]
    code, rows, _ = cli("ifm", "record", number, "--amount", "120", *OFFICE)
    assert code == 0 and rows[0]["status"] == "pending"
    tx_id = rows[0]["id"]
    code, rows, _ = cli("ifm", "processed", str(tx_id), "--dummy", "55501234", *OFFICE)
    assert code == 0 and rows[0]["original_status"] == "closed"
    code, rows, _ = cli("ifm", "list", "--status", "processed", *OFFICE)
    assert [r["id"] for r in rows] == [tx_id]
    code, rows, _ = cli("ifm", "balance", *OFFICE)
    assert rows == [
        {
            "kind": "partner",
            "partner_symbol": "UIU",
            "received": "120.00",
            "paid": "0.00",
            "settled": "0.00",
            "balance": "120.00",
            "pending": "0.00",
            "settle": True,
        },
        {
            "kind": "total",
            "partner_symbol": None,
            "received": "120.00",
            "paid": "0.00",
            "settled": "0.00",
            "balance": "120.00",
            "pending": "0.00",
            "settle": True,
            "threshold": "100.00",
        },
    ]

    # The cheque from UIU settles 100.00 of it; an impossible one is refused with a reason.
    for amount, says in (
        ("NaN", "not an amount"),
        ("-100", "negative"),
        ("0", "more than 0.00"),
        ("100.001", "more than two decimals"),
        ("1" * 10_000, "more than the largest amount"),
        ("130.00", "more than the balance"),
    ):
        code, rows, _ = cli(
            "ifm", "settle", "UIU", "--amount", amount, "--reference", "C1", *OFFICE
        )
        assert code == 1 and says in rows[0]["message"], (amount, rows)
    code, rows, _ = cli(
        "ifm", "settle", "uiu", "--amount", "100", "--reference", "CHQ 004512",
        "--date", clock.today().isoformat(), *OFFICE,
    )  # fmt: skip
    assert code == 0
    assert rows == [
        {
            "id": rows[0]["id"],
            "partner_symbol": "UIU",
            "direction": "we_receive",
            "amount": "100.00",
            "reference": "CHQ 004512",
            "settled_on": clock.today().isoformat(),
            "balance_before": "120.00",
            "balance_after": "20.00",
            "created_at": rows[0]["created_at"],
            "created_by": "office",
        }
    ]
    code, listed, _ = cli("ifm", "settlements", "--partner", "UIU", *OFFICE)
    assert code == 0 and listed == rows
    code, rows, _ = cli("ifm", "balance", *OFFICE)
    assert (rows[0]["settled"], rows[0]["balance"], rows[0]["settle"]) == ("100.00", "20.00", False)


@pytest.mark.parametrize(
    ("command", "steps"),
    [
        ("lend", ("create", "list", "pull", "not-on-shelf", "checkout", "ship", "returned")),
        (
            "ifm",
            ("build", "record", "processed", "list", "lost", "balance", "settle", "settlements"),
        ),
    ],
)
def test_every_step_is_documented_in_help(
    command: str, steps: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse([command, "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    for step in steps:
        assert step in help_text
