"""The ILL office's charges panel: declare lost, change with a reason, lost item back, bursar."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.library.actors import Actor
from app.library.runtime import Runtime
from app.money import charge_views
from app.workstation.config import WorkstationSettings
from tests.gui.waiting import settle
from tests.money.test_charges import checked_out_barcode, lost_barcode
from tests.signed_in import as_office
from ui.desk_session import DeskSession
from ui.screens.charges_panel import ChargesPanel

ActorAt = Callable[[str, str], Actor]


def click(panel: ChargesPanel, name: str) -> None:
    button = panel.findChild(QPushButton, name)
    assert button is not None, name
    button.click()


def make_panel(qtbot: QtBot, rt: Runtime, actor: Actor) -> ChargesPanel:
    panel = ChargesPanel(DeskSession(rt, actor, WorkstationSettings()))
    qtbot.addWidget(panel)
    panel.show()
    settle(qtbot)
    return panel


def test_declare_lost_then_reduce_with_a_reason(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt
) -> None:
    panel = make_panel(qtbot, demo_rt, actor_at("office", "WS-ILL"))
    assert panel.table.rowCount() == 2  # the demo's lost item
    panel.lost_barcode.setText(checked_out_barcode(demo_rt, "T00123456"))
    panel.lost_replacement.setText("abc")
    click(panel, "declareLostButton")
    settle(qtbot)
    assert "not an amount" in panel.feedback.text()
    panel.lost_replacement.setText("64.00")
    click(panel, "declareLostButton")
    settle(qtbot)
    assert panel.feedback.property("tone") == "good"
    assert panel.patron_filter.text() == "T00123456"
    assert panel.table.rowCount() == 2
    fee_key = next(k for k, c in panel.charges.items() if c.kind.value == "processing_fee")
    panel.table.select_key(fee_key)
    panel.change_amount.setText("10")
    click(panel, "reduceChargeButton")
    settle(qtbot)
    assert "needs a reason" in panel.feedback.text()
    panel.change_reason.setText("Patron returned the strap")
    click(panel, "reduceChargeButton")
    settle(qtbot)
    assert "reduced from $30.00 to $10.00" in panel.feedback.text()
    assert panel.reminder.text() == ""


def test_lost_item_back_offers_removal_and_reminds_about_the_bursar(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt, tmp_path: Path
) -> None:
    panel = make_panel(qtbot, demo_rt, actor_at("office", "WS-ILL"))
    assert "1 charge(s), $30.00" in panel.bursar_preview.text()
    panel.bursar_file.setText(str(tmp_path / "bursar.csv"))
    click(panel, "bursarExportButton")
    settle(qtbot)
    assert "marked reported" in panel.feedback.text()
    with open(tmp_path / "bursar.csv", encoding="utf-8", newline="") as handle:
        assert [r["amount"] for r in csv.DictReader(handle)] == ["30.00"]
    panel.returned_barcode.setText(lost_barcode(demo_rt))
    click(panel, "checkReturnedButton")
    settle(qtbot)
    assert "Remove them" in panel.offer_label.text()
    assert "lift the transcript hold" in panel.offer_label.text()
    assert panel.remove_returned.isEnabled()
    click(panel, "removeReturnedChargesButton")
    settle(qtbot)
    assert "2 charge(s) removed" in panel.feedback.text()
    assert "bursar" in panel.reminder.text()
    assert charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123") == ()
    click(panel, "checkReturnedButton")
    settle(qtbot)
    assert panel.offer_label.text() == "This item has no open charges."


def test_desk_staff_see_the_refusal_in_the_message_line(
    qtbot: QtBot, demo_rt: Runtime, actor_at: ActorAt
) -> None:
    panel = make_panel(qtbot, demo_rt, actor_at("desk", "SE"))
    panel.table.select_key(next(iter(panel.charges)))
    panel.change_reason.setText("trying")
    click(panel, "removeChargeButton")
    settle(qtbot)
    assert "ill_office" in panel.feedback.text()
    assert len(charge_views.list_charges(demo_rt, as_office(demo_rt), patron_id="T00890123")) == 2
