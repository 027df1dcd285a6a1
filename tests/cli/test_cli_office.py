"""The ILL office commands, as a library would script them (--json, exit codes)."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.cli.main import parse, run
from tests.strap_pdf import all_text, barcode_bars, decode_code128


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def one(output: str) -> dict[str, object]:
    (line,) = [json.loads(text) for text in output.splitlines() if text.strip()]
    assert isinstance(line, dict)
    return line


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("--db", database_url, "demo")[0] == 0
    return database_url


def later(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_receive_json_and_strap_pdf(db: str, tmp_path: Path) -> None:
    strap = tmp_path / "strap.pdf"
    code, out, _ = cli(
        "--db", db, "--json", "receive", "20261001", "--lender", "okt", "--due", later(30),
        "--staff", "office", "--lender-barcode", "39000777", "--strap-pdf", str(strap),
    )  # fmt: skip
    assert code == 0
    record = one(out)
    assert record["request_number"] == "20261001"
    assert record["destination"] == "METRO"
    assert record["outcome"] == "transit"
    assert str(record["strap_barcode"]).startswith("ILL")
    pdf = strap.read_bytes()
    assert [decode_code128(s) for s in barcode_bars(pdf)] == [record["strap_barcode"]]
    if os.name == "posix":  # the strap names the patron: owner-only
        assert stat.S_IMODE(strap.stat().st_mode) == 0o600
    code, out, err = cli(
        "--db", db, "--json", "receive", "20261001", "--lender", "OKT", "--due", later(30),
        "--staff", "office",
    )  # fmt: skip
    assert code == 1
    assert one(out)["error"] == "conflict"
    assert "already received" in err


def test_receive_at_the_office_campus_and_in_library_use(db: str) -> None:
    code, out, _ = cli(
        "--db", db, "--json", "receive", "20261002", "--lender", "TXA", "--due", later(20),
        "--in-library-use", "--staff", "office", "--branch", "WS-ILL",
    )  # fmt: skip
    assert code == 0
    record = one(out)
    assert (record["destination"], record["outcome"]) == ("NEC", "hold_shelf")
    assert record["in_library_use_only"] is True


def test_receive_refusals_and_usage(db: str) -> None:
    code, out, err = cli(
        "--db", db, "--json", "receive", "20261003", "--lender", "OKT", "--due", "31/12/2026",
        "--staff", "office",
    )  # fmt: skip
    assert code == 1 and "YYYY-MM-DD" in err
    assert one(out)["error"] == "invalid_input"
    code, _, err = cli(
        "--db", db, "receive", "20261003", "--lender", "OKT", "--due", later(9),
        "--staff", "desk", "--branch", "NEC",
    )  # fmt: skip
    assert code == 1 and "ill_office" in err
    with pytest.raises(SystemExit) as usage:
        parse(["receive", "20261003", "--staff", "office"])
    assert usage.value.code == 2


def test_strap_print_several_in_one_pdf(db: str, tmp_path: Path) -> None:
    out_file = tmp_path / "straps.pdf"
    out_file.write_bytes(b"an older file, readable by all")
    out_file.chmod(0o644)
    code, out, _ = cli(
        "--db", db, "--json", "strap", "print", "20261004", "ILL00000026",
        "--out", str(out_file), "--layout", "strip", "--staff", "office",
    )  # fmt: skip
    assert code == 0
    assert one(out)["straps"] == ["ILL00000018", "ILL00000026"]
    pdf = out_file.read_bytes()
    assert decode_code128(barcode_bars(pdf, 0)[0]) == "ILL00000018"
    assert decode_code128(barcode_bars(pdf, 2)[0]) == "ILL00000026"
    assert "SE" in all_text(pdf, 0)
    if os.name == "posix":  # replaced, and narrowed to its owner
        assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    code, _, err = cli(
        "--db", db, "strap", "print", "20261001", "--out", str(out_file), "--staff", "office"
    )
    assert code == 1 and "not been received" in err


def test_cancel_renewal_and_ship_back(db: str) -> None:
    code, out, _ = cli(
        "--db", db, "--json", "cancel", "20261003", "--reason", "Duplicate request.",
        "--staff", "office",
    )  # fmt: skip
    assert code == 0 and one(out)["status"] == "cancelled"
    code, _, err = cli("--db", db, "cancel", "20261002", "--reason", " ", "--staff", "office")
    assert code == 1 and "needs a reason" in err

    new_due = later(60)
    code, out, _ = cli(
        "--db", db, "--json", "renewal", "20261012", "--approve", "--due", new_due,
        "--staff", "office",
    )  # fmt: skip
    assert code == 0
    record = one(out)
    assert record["new_due_date"] == new_due and record["loan_updated"] is True
    code, out, _ = cli("--db", db, "--json", "renewal", "20261013", "--deny", "--staff", "office")
    assert code == 0 and one(out)["approved"] is False
    code, _, err = cli("--db", db, "renewal", "20261013", "--approve", "--staff", "office")
    assert code == 1 and "--due" in err
    with pytest.raises(SystemExit):
        parse(["renewal", "20261013", "--approve", "--deny", "--staff", "office"])

    code, out, _ = cli("--db", db, "--json", "ship-back", "ILL00000141", "--staff", "office")
    assert code == 0 and one(out)["request_number"] == "20261017"
    code, out, err = cli("--db", db, "--json", "ship-back", "ILL00000141", "--staff", "office")
    assert code == 1 and one(out)["error"] == "conflict"
