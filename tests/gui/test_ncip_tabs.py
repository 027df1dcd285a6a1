"""The ILL office's NCIP traffic tab and Admin's NCIP partners tab, on the same services the
responder and `illdesk ncip` use."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from app.ncip.partners import allow_partner
from app.ncip.responder import respond
from tests.gui.waiting import settle
from ui.admin.ncip_partners_tab import NcipPartnersTab
from ui.desk_session import DeskSession
from ui.screens.ncip_tab import NcipTab

MakeSession = Callable[[str, str], DeskSession]
LOOKUP = (
    b'<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="x"><LookupUser>'
    b"<InitiationHeader><FromAgencyId><AgencyId>RESHARE</AgencyId></FromAgencyId>"
    b"<ToAgencyId><AgencyId>EXC</AgencyId></ToAgencyId></InitiationHeader>"
    b"<UserId><UserIdentifierValue>%s</UserIdentifierValue></UserId></LookupUser></NCIPMessage>"
)


def cells(table: QTableWidget, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_admin_allows_and_denies_a_partner(qtbot: QtBot, desk_session: MakeSession) -> None:
    tab = NcipPartnersTab(desk_session("admin", "NEC"))
    qtbot.addWidget(tab)
    tab.agency_edit.setText("reshare")
    tab.secret_edit.setText("a-long-shared-secret-value")
    tab.networks_edit.setText("192.0.2.0/24, 10.0.0.1")
    tab.allow()
    settle(qtbot)
    assert tab.secret_edit.text() == ""
    assert cells(tab.table, 0) == ["RESHARE"]
    assert cells(tab.table, 3) == ["192.0.2.0/24, 10.0.0.1/32"]
    assert "may send" in tab.feedback.text()
    tab.deny()
    settle(qtbot)
    assert cells(tab.table, 1) == ["no"]
    tab.agency_edit.setText("not an agency")
    tab.allow()
    settle(qtbot)
    assert "agency id" in tab.feedback.text()


def test_office_sees_the_traffic_and_todays_failures(
    qtbot: QtBot, desk_session: MakeSession
) -> None:
    admin = desk_session("admin", "NEC")
    allow_partner(admin.rt, admin.actor, "RESHARE")
    respond(admin.rt, LOOKUP % b"T00123456", remote_addr="127.0.0.1")
    respond(admin.rt, LOOKUP % b"T99999999", remote_addr="127.0.0.1")
    tab = NcipTab(desk_session("office", "WS-ILL"))
    qtbot.addWidget(tab)
    tab.activate()
    settle(qtbot)
    assert cells(tab.table, 3) == ["problem", "ok"]
    assert cells(tab.table, 4) == ["Unknown User", ""]
    assert "1 failed" in tab.summary.text()
    assert "T99999999" not in "".join("".join(cells(tab.table, c)) for c in range(6))
