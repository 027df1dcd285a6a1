"""A shared desk PC can trust its own login: sign in as the mapped computer account."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.library.runtime import Runtime
from app.people.staff import actor_for, current_os_user
from app.people.staff_admin import map_os_user
from app.workstation.config import WorkstationSettings
from tests.gui.waiting import settle
from ui.sign_in import SignInDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def backend() -> str:
    return "sqlite"


def dialog_for(qtbot: QtBot, rt: Runtime, enabled: bool) -> SignInDialog:
    dialog = SignInDialog(rt, WorkstationSettings(os_user_sign_in=enabled))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.branch_box.setCurrentIndex(dialog.branch_box.findData("METRO"))
    return dialog


def test_no_computer_account_button_unless_the_desk_allows_it(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    assert dialog_for(qtbot, demo_rt, enabled=False).os_user_button is None


def test_mapped_computer_account_signs_in_without_a_password(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    admin = actor_for(demo_rt, "admin", "NEC")
    map_os_user(demo_rt, admin, "desk", current_os_user())
    dialog = dialog_for(qtbot, demo_rt, enabled=True)
    assert dialog.os_user_button is not None
    assert current_os_user() in dialog.os_user_button.text()
    dialog.os_user_button.click()
    settle(qtbot)
    assert dialog.actor is not None
    assert (dialog.actor.username, dialog.actor.branch_code) == ("desk", "METRO")


def test_unmapped_computer_account_is_told_to_use_a_password(
    qtbot: QtBot, demo_rt: Runtime
) -> None:
    dialog = dialog_for(qtbot, demo_rt, enabled=True)
    assert dialog.os_user_button is not None
    dialog.os_user_button.click()
    settle(qtbot)
    assert dialog.actor is None and dialog.isVisible()
    assert "not mapped" in dialog.message.text()


def test_a_forged_username_variable_does_not_sign_in_as_the_admin_it_names(
    qtbot: QtBot, demo_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = actor_for(demo_rt, "admin", "NEC")
    map_os_user(demo_rt, admin, "admin", "CAMPUS\\it-admin")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "CAMPUS\\it-admin")
    dialog = dialog_for(qtbot, demo_rt, enabled=True)
    assert dialog.os_user_button is not None
    assert "it-admin" not in dialog.os_user_button.text()
    dialog.os_user_button.click()
    settle(qtbot)
    assert dialog.actor is None and dialog.isVisible()
    assert "not mapped" in dialog.message.text()
