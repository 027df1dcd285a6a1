"""`illdesk checkin`: one answer per barcode, from arguments or a book-drop batch on stdin."""

from __future__ import annotations

import io
import json

import pytest

from app.cli.main import parse, run
from app.library.runtime import Runtime


def cli(
    *argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, list[dict[str, object]], str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    code = run(parse(list(argv)), out, err)
    text = out.getvalue()
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return code, rows, text, err.getvalue()


KEYS = {"barcode", "outcome", "destination", "patron_id", "patron_name", "title", "instructions"}


def test_json_has_one_object_per_barcode_with_the_documented_keys(
    demo_rt: Runtime, database_url: str
) -> None:
    code, rows, _, _ = cli(
        "checkin",
        "--db",
        database_url,
        "--json",
        "--branch",
        "SE",
        "--staff",
        "desk",
        "ILL00000018",
        "ILL00000091",
    )
    assert code == 0
    assert [r["outcome"] for r in rows] == ["hold_shelf", "return_to_ill_office"]
    assert all(set(r) >= KEYS for r in rows)
    hold = rows[0]
    assert hold["destination"] == "SE"
    assert (hold["patron_id"], hold["patron_name"]) == ("T00345678", "NGUYEN, M.")
    assert isinstance(hold["instructions"], list) and hold["instructions"]
    assert rows[1]["destination"] == "WS-ILL" and rows[1]["patron_id"] is None


def test_stdin_batch_skips_blank_lines_and_keeps_order(
    demo_rt: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, rows, _, _ = cli(
        "--json",
        "checkin",
        "--db",
        database_url,
        "--branch",
        "METRO",
        "--staff",
        "desk",
        "-",
        stdin="ILL00000026\r\n\n31234000000001\n   \nNOPE-1\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert [(r["barcode"], r["outcome"]) for r in rows] == [
        ("ILL00000026", "transit"),
        ("31234000000001", "reshelve"),
        ("NOPE-1", "not_found"),
    ]
    assert rows[0]["destination"] == "WEST"


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 10_000, "\x1b[2J", "1 OR 1=1; DROP TABLE items"],
    ids=["empty", "long", "ctl", "sql"],
)
def test_unusable_barcode_is_an_invalid_scan_object_not_a_traceback(
    demo_rt: Runtime, database_url: str, bad: str
) -> None:
    code, rows, _, err = cli(
        "checkin",
        "--db",
        database_url,
        "--json",
        "--branch",
        "METRO",
        "--staff",
        "desk",
        bad,
        "31234000000001",
    )
    assert code == 1
    assert rows[0]["outcome"] == "invalid_scan"
    assert isinstance(rows[0]["reason"], str) and rows[0]["reason"]
    assert rows[1]["outcome"] == "reshelve"  # the rest of the batch still runs
    assert "Traceback" not in err


def test_text_output_names_outcome_and_instructions(demo_rt: Runtime, database_url: str) -> None:
    code, _, text, _ = cli(
        "checkin", "--db", database_url, "--branch", "WEST", "--staff", "desk", "ILL00000026"
    )
    assert code == 0
    assert text.splitlines()[0] == "ILL00000026  hold_shelf  Put on hold shelf: PEÑA, C."
    assert text.splitlines()[1].startswith("    Put it on the hold shelf")


def test_unknown_branch_or_staff_is_refused_with_exit_1(
    demo_rt: Runtime, database_url: str
) -> None:
    code, rows, _, err = cli(
        "checkin", "--db", database_url, "--json", "--branch", "MOON", "--staff", "desk", "X1"
    )
    assert code == 1 and rows[0]["error"] == "not_found" and "branch" in err
    code, _, _, err = cli(
        "checkin", "--db", database_url, "--branch", "METRO", "--staff", "nobody", "X1"
    )
    assert code == 1 and "Wrong username or password" in err
