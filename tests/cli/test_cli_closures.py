"""`illdesk closures`: list, add, remove and public holidays, as Admin does them."""

from __future__ import annotations

from datetime import date

from tests.cli.test_cli_setup import cli, lines

ADMIN = ("--staff", "admin", "--branch", "NEC")


def test_a_new_demo_library_lists_this_year_and_next_years_holidays(database_url: str) -> None:
    assert cli("--db", database_url, "demo")[0] == 0
    year = date.today().year
    code, out, _ = cli("--db", database_url, "closures", "list", "--json")
    assert code == 0
    rows = lines(out)
    assert set(rows[0]) == {"id", "branch", "start_date", "end_date", "reason"}
    new_years = {row["start_date"]: row for row in rows if row["reason"] == "New Year's Day"}
    assert f"{year}-01-01" in new_years and f"{year + 1}-01-01" in new_years
    assert all(row["branch"] is None for row in rows)


def test_add_list_and_remove_a_branch_closure(database_url: str) -> None:
    cli("--db", database_url, "demo")
    code, out, err = cli(
        "--db", database_url, "closures", "add", "2029-03-12", "2029-03-16",
        "--reason", "Spring  break", "--for", "west", *ADMIN, "--json",
    )  # fmt: skip
    assert code == 0, err
    (added,) = lines(out)
    assert added["branch"] == "WEST" and added["reason"] == "Spring break"
    assert added["start_date"] == "2029-03-12" and added["end_date"] == "2029-03-16"
    _, out, _ = cli("--db", database_url, "closures", "list", "--year", "2029", "--for", "WEST",
                    "--json")  # fmt: skip
    assert [row["id"] for row in lines(out)] == [added["id"]]
    _, out, _ = cli("--db", database_url, "closures", "list", "--year", "2029", "--for", "METRO")
    assert "Spring break" not in out
    code, out, _ = cli("--db", database_url, "closures", "remove", str(added["id"]), *ADMIN)
    assert code == 0 and "Removed closure" in out
    _, out, _ = cli("--db", database_url, "closures", "list", "--year", "2029")
    assert out.startswith("No closures.") and "closures holidays YEAR" in out
    _, out, _ = cli("--db", database_url, "closures", "list", "--year", "2029", "--json")
    assert out == ""


def test_one_day_closure_and_clear_refusals(database_url: str) -> None:
    cli("--db", database_url, "demo")
    code, out, _ = cli("--db", database_url, "closures", "add", "2029-04-02", "--reason",
                       "Staff day", *ADMIN, "--json")  # fmt: skip
    assert code == 0 and lines(out)[0]["end_date"] == "2029-04-02"
    code, _, err = cli("--db", database_url, "closures", "add", "2029-04-31", "--reason", "x",
                       *ADMIN)  # fmt: skip
    assert code == 1 and "YYYY-MM-DD" in err
    code, _, err = cli("--db", database_url, "closures", "add", "2029-04-03", "--reason", "x",
                       "--staff", "desk", "--branch", "NEC")  # fmt: skip
    assert code == 1 and "admin" in err
    code, _, err = cli("--db", database_url, "closures", "remove", "99999", *ADMIN)
    assert code == 1 and "no closure number 99999" in err


def test_holidays_for_a_year_are_added_once(database_url: str) -> None:
    cli("--db", database_url, "demo")
    code, out, _ = cli("--db", database_url, "closures", "holidays", "2029", *ADMIN, "--json")
    assert code == 0
    (fill,) = lines(out)
    assert fill["year"] == 2029 and fill["country"] == "US" and fill["already_there"] == 0
    added = {row["date"]: row["name"] for row in fill["added"]}  # type: ignore[union-attr]
    assert added["2029-12-25"] == "Christmas Day"
    code, out, _ = cli("--db", database_url, "closures", "holidays", "2029", *ADMIN)
    assert code == 0 and "Added 0 public holidays for 2029 (US)" in out
