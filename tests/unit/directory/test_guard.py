"""directory.guard: every kind of change that would leave Admins short is refused."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from glassgate.directory.changes import (
    Change,
    DeleteGroup,
    DeleteUser,
    PutGroup,
    PutUser,
    ReplaceRules,
)
from glassgate.directory.guard import LockoutGuard, ProtectedGroup, check_change
from glassgate.directory.models import Group, UserStatus
from glassgate.directory.state import Directory
from glassgate.errors import LockoutRefusedError
from tests.unit.directory._build import GUARD, admins_by_rule, admins_direct, rules, user


def _admin(directory: Directory, uid: str):  # type: ignore[no-untyped-def]
    found = directory.user(uid)
    assert found is not None
    return found


CASES = {
    "suspend": lambda d: [PutUser(replace(_admin(d, "admin0"), status=UserStatus.SUSPENDED))],
    "deprovision": lambda d: [
        PutUser(replace(_admin(d, "admin0"), status=UserStatus.DEPROVISIONED))
    ],
    "delete-user": lambda d: [DeleteUser("admin0")],
    "attribute-change": lambda d: [PutUser(user("admin0", department="Sales", title="Admin"))],
    "rule-change": lambda d: [ReplaceRules(rules(("it-admins", 'user.title == "Root"', "Admins")))],
    "rule-removed": lambda d: [ReplaceRules(rules())],
    "delete-group": lambda d: [DeleteGroup("g-admins")],
    "rename-group": lambda d: [PutGroup(replace(d.group("g-admins"), name="Admins-old"))],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_changes_that_leave_admins_short_are_refused(case: str) -> None:
    before = admins_by_rule(2)  # exactly the minimum
    with pytest.raises(LockoutRefusedError) as info:
        check_change(GUARD, before, CASES[case](before))
    error = info.value
    assert (error.group, error.minimum) == ("Admins", 2)
    assert len(error.remaining) < 2
    assert "Admins" in str(error)
    assert "at least 2" in str(error)


def test_the_same_changes_pass_when_enough_admins_remain() -> None:
    before = admins_by_rule(3)
    after = check_change(GUARD, before, [DeleteUser("admin0")])
    assert after.active_members("Admins") == ("admin1@example.com", "admin2@example.com")


def test_patch_removing_direct_members_is_refused() -> None:
    before = admins_direct(2)
    group = before.group("g-admins")
    assert group is not None
    with pytest.raises(LockoutRefusedError, match=re.escape("would keep 1 (admin1@example.com)")):
        check_change(GUARD, before, [PutGroup(replace(group, members=frozenset({"admin1"})))])


def test_an_import_is_guarded_as_one_change() -> None:
    before = admins_by_rule(3)
    batch: list[Change] = [DeleteUser("admin0"), DeleteUser("admin1")]
    with pytest.raises(LockoutRefusedError) as info:
        check_change(GUARD, before, batch, action="import of people.csv")
    assert "refused import of people.csv" in str(info.value)
    assert info.value.shortfalls[0].losing == ("admin0@example.com", "admin1@example.com")


def test_a_group_already_short_may_gain_but_not_lose() -> None:
    before = admins_direct(1)
    group = before.group("g-admins")
    assert group is not None
    grown = check_change(GUARD, check_change(GUARD, before, [PutUser(user("new"))]), [])
    assert grown.active_members("Admins") == ("admin0@example.com",)
    with pytest.raises(LockoutRefusedError, match="nobody"):
        check_change(
            GUARD, before, [PutUser(replace(_admin(before, "admin0"), status=UserStatus.SUSPENDED))]
        )


def test_suspended_members_never_count() -> None:
    before = admins_direct(3)
    suspended = check_change(
        GUARD, before, [PutUser(replace(_admin(before, "admin2"), status=UserStatus.SUSPENDED))]
    )
    assert "admin2" in suspended.effective_members("Admins")
    with pytest.raises(LockoutRefusedError):
        check_change(GUARD, suspended, [DeleteUser("admin1")])


def test_every_short_group_is_named() -> None:
    guard = LockoutGuard([ProtectedGroup("Admins", 2), ProtectedGroup("Sales", 2)])
    before = admins_by_rule(2, others=2)
    with pytest.raises(LockoutRefusedError) as info:
        check_change(guard, before, [DeleteUser("admin0"), DeleteUser("sales0")])
    assert [s.group for s in info.value.shortfalls] == ["Admins", "Sales"]


@pytest.mark.parametrize(
    "text", ["Admins", "Admins>=0", "Admins>=-1", ">=2", "Admins>=99999", "Admins >= two"]
)
def test_protected_group_settings_are_checked(text: str) -> None:
    with pytest.raises(ValueError, match="protected group"):
        ProtectedGroup.parse(text)


def test_protected_groups_parse_and_are_not_repeated() -> None:
    assert ProtectedGroup.parse(" Platform Admins >= 3 ") == ProtectedGroup("Platform Admins", 3)
    with pytest.raises(ValueError, match="twice"):
        LockoutGuard([ProtectedGroup("A", 1), ProtectedGroup("A", 2)])


def test_creating_groups_and_users_from_nothing_is_allowed() -> None:
    after = check_change(
        GUARD,
        Directory.empty(),
        [PutUser(user("a")), PutGroup(Group("g", "Admins", frozenset({"a"})))],
    )
    assert after.active_members("Admins") == ("a@example.com",)
