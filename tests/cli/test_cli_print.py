"""Pull slips and printed office lists, read back from the PDF."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.cli.main import parse, run
from db.engine import Database
from db.models import Transit
from tests.strap_pdf import all_text, barcode_bars, decode_code128, pages


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(database_url: str) -> str:
    assert cli("--db", database_url, "demo")[0] == 0
    return database_url


def test_one_pull_slip_per_item_with_the_barcode_to_scan(db: str, tmp_path: Path) -> None:
    target = tmp_path / "metro.pdf"
    code, out, _ = cli(
        "--db", db, "--json", "pull-slips", "--branch", "METRO", "--staff", "ctl",
        "--out", str(target),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {"branch": "METRO", "slips": 1, "pdf": str(target)}
    pdf = target.read_bytes()
    assert len(pages(pdf)) == 1
    text = all_text(pdf)
    assert "PULL FOR LENDING" in text and "Campus METRO" in text
    assert "Handbook of Texas Music" in text
    assert "Borrower: TXA" in text and "Their request: 9100000" in text
    assert "Due date: set when shipped" in text
    assert "Call number: not recorded" in text
    (bars,) = barcode_bars(pdf)
    barcode = decode_code128(bars)
    assert f"Item barcode: {barcode}" in text


def test_a_desk_account_cannot_print_pull_slips(db: str, tmp_path: Path) -> None:
    code, _, err = cli(
        "--db", db, "pull-slips", "--branch", "METRO", "--staff", "desk",
        "--out", str(tmp_path / "x.pdf"),
    )  # fmt: skip
    assert code == 1 and "role" in err
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    ("which", "extra", "title"),
    [
        ("transit", ("--days", "0"), "In transit longer than 0 days"),
        ("hold-shelf", (), "On the hold shelf past pickup-by"),
        ("discrepancies", (), "Due-date discrepancies to review"),
    ],
)
def test_office_lists_on_paper(
    db: str, tmp_path: Path, which: str, extra: tuple[str, ...], title: str
) -> None:
    target = tmp_path / f"{which}.pdf"
    code, out, _ = cli(
        "--db", db, "--json", "office-list", which, *extra, "--staff", "office",
        "--out", str(target),
    )  # fmt: skip
    assert code == 0
    record = json.loads(out)
    assert record["list"] == which
    text = all_text(target.read_bytes())
    assert title in text
    assert f"{record['rows']} rows" in text


def test_transit_list_counts_only_the_old_ones(db: str, tmp_path: Path) -> None:
    database = Database(db)
    with database.transaction() as session:  # one transit sent ten days ago
        transit = session.query(Transit).filter(Transit.received_at.is_(None)).first()
        assert transit is not None
        transit.started_at -= timedelta(days=10)
    database.dispose()
    _, out, _ = cli("--db", db, "--json", "office-list", "transit", "--days", "9",
                    "--staff", "office", "--out", str(tmp_path / "a.pdf"))  # fmt: skip
    _, later, _ = cli("--db", db, "--json", "office-list", "transit", "--days", "3650",
                      "--staff", "office", "--out", str(tmp_path / "b.pdf"))  # fmt: skip
    assert json.loads(out)["rows"] == 1
    assert json.loads(later)["rows"] == 0
    assert "Nothing on this list." in all_text((tmp_path / "b.pdf").read_bytes())
