"""The mapped sign-in trusts the operating system's account, never the environment."""

from __future__ import annotations

import os
import pwd

import pytest

from app.library.errors import PermissionDenied
from app.library.runtime import Runtime
from app.people import staff_admin
from app.people.staff import current_os_user, sign_in_os_user
from tests.signed_in import as_admin

FORGED = "it-admin-pc"


@pytest.fixture
def forged_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, FORGED)


def test_the_account_is_the_process_owner_whatever_the_environment_says(
    forged_environment: None,
) -> None:
    assert current_os_user() == pwd.getpwuid(os.geteuid()).pw_name
    assert current_os_user() != FORGED


def test_setting_username_to_an_admins_mapped_account_does_not_sign_in_as_the_admin(
    demo_rt: Runtime, forged_environment: None
) -> None:
    staff_admin.map_os_user(demo_rt, as_admin(demo_rt), "admin", FORGED)
    with pytest.raises(PermissionDenied, match="not mapped"):
        sign_in_os_user(demo_rt, current_os_user(), "NEC")


def test_the_real_account_still_signs_in_as_its_mapping(
    demo_rt: Runtime, forged_environment: None
) -> None:
    staff_admin.map_os_user(demo_rt, as_admin(demo_rt), "admin", FORGED)
    staff_admin.map_os_user(demo_rt, as_admin(demo_rt), "desk", current_os_user())
    actor = sign_in_os_user(demo_rt, current_os_user(), "METRO")
    assert (actor.username, actor.role.value) == ("desk", "desk")
