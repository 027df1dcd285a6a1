"""CSV imports: idempotent, every bad row reported by line, strict mode imports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.borrowing.imports import import_patrons, import_requests, read_csv
from app.library.errors import InvalidInput
from app.library.runtime import Runtime
from db.models import IllRequest, Patron
from tests.signed_in import as_office

HEADER = "patron_id,barcode,first_name,last_name,email,patron_type,home_branch\n"
REQ_HEADER = (
    "request_number,kind,patron_id,pickup_branch,title,author,article_title,"
    "article_author,volume,issue,issue_date,pages,lender\n"
)


def count(rt: Runtime, model: type[Patron] | type[IllRequest]) -> int:
    with rt.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_patrons_import_then_reimport_updates_without_duplicating(demo_rt: Runtime) -> None:
    before = count(demo_rt, Patron)
    text = HEADER + (
        "T01000001,21001000001,Ana,Ruiz,ana.ruiz@example.edu,student,METRO\n"
        "t01000002,,Lê,Văn,le.van@example.edu,Faculty,nec\n"
    )
    report = import_patrons(demo_rt, as_office(demo_rt), text)
    assert (report.inserted, report.updated, report.errors) == (2, 0, [])
    again = import_patrons(demo_rt, as_office(demo_rt), text.replace("Ana,Ruiz", "Ana María,Ruiz"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    assert count(demo_rt, Patron) == before + 2
    with demo_rt.db.reading() as session:
        patron = session.scalar(select(Patron).where(Patron.patron_id == "T01000002"))
        assert patron is not None and patron.name_key == "van le"


def test_bad_rows_are_listed_by_line_and_good_rows_go_in(demo_rt: Runtime) -> None:
    text = HEADER + (
        "T01000001,,Ana,Ruiz,ana.ruiz@example.edu,student,METRO\n"
        "T01000003,,Bo,Li,not-an-email,student,METRO\n"
        "T01000004,,Cy,Ng,cy@example.edu,wizard,METRO\n"
        "T01000005,,Di,Oh,di@example.edu,student,MOON\n"
        "T01000006,too,few\n"
        "DROP TABLE patrons;--,,X,Y,x@example.edu,student,METRO\n"
        "T01000007,,Ed\x07,Po,ed@example.edu,student,METRO\n"
        f"T01000008,,{'x' * 10_000},Po,ed@example.edu,student,METRO\n"
    )
    report = import_patrons(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 1
    assert [e.line for e in report.errors] == [3, 4, 5, 6, 7, 8, 9]
    messages = " | ".join(e.message for e in report.errors)
    for expected in ("e-mail", "patron_type", "MOON", "fields", "campus ID", "control", "longer"):
        assert expected in messages


def test_strict_import_writes_nothing_when_any_row_is_bad(demo_rt: Runtime) -> None:
    before = count(demo_rt, Patron)
    text = HEADER + (
        "T01000001,,Ana,Ruiz,ana.ruiz@example.edu,student,METRO\n"
        "T01000003,,Bo,Li,not-an-email,student,METRO\n"
    )
    report = import_patrons(demo_rt, as_office(demo_rt), text, strict=True)
    assert not report.committed and report.inserted == 0 and len(report.errors) == 1
    assert count(demo_rt, Patron) == before


def test_a_missing_column_refuses_the_whole_file(demo_rt: Runtime) -> None:
    with pytest.raises(InvalidInput, match="lacks the column"):
        import_patrons(demo_rt, as_office(demo_rt), "patron_id,first_name\nT01000001,Ana\n")


def test_requests_import_is_idempotent_and_checks_references(demo_rt: Runtime) -> None:
    before = count(demo_rt, IllRequest)
    text = REQ_HEADER + (
        "30000001,loan,T00123456,METRO,Moby-Dick,Melville,,,,,,,OKT\n"
        "30000002,copy,T00234567,NEC,Journal of Things,,On Stuff,A. Writer,12,3,2021,4-9,TXA\n"
        "30000003,loan,T99999999,METRO,Unknown patron,,,,,,,,OKT\n"
        "30000004,dvd,T00123456,METRO,Wrong kind,,,,,,,,OKT\n"
    )
    report = import_requests(demo_rt, as_office(demo_rt), text)
    assert report.inserted == 2 and [e.line for e in report.errors] == [4, 5]
    assert import_requests(demo_rt, as_office(demo_rt), text).inserted == 0
    assert count(demo_rt, IllRequest) == before + 2


def test_non_utf8_and_binary_files_get_a_clear_refusal(tmp_path: Path, demo_rt: Runtime) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        HEADER.encode() + "T01000001,,Zoé,X,z@example.edu,student,METRO\n".encode("latin-1")
    )
    with pytest.raises(InvalidInput, match="CSV UTF-8"):
        read_csv(latin)
    with pytest.raises(InvalidInput, match="NUL"):
        import_patrons(demo_rt, as_office(demo_rt), HEADER + "\x00\x00\n")
    with pytest.raises(InvalidInput, match="Cannot read"):
        read_csv(tmp_path / "missing.csv")
