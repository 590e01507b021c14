"""directory.changes: every change builds a new snapshot and re-runs rules where needed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from glassgate.directory.changes import (
    DeleteGroup,
    DeleteUser,
    PutGroup,
    PutUser,
    ReplaceRules,
    apply,
    build,
)
from glassgate.directory.models import Group, User
from glassgate.directory.rules import RuleErrors
from glassgate.directory.state import Directory
from glassgate.errors import DirectoryConflictError, DirectoryNotFoundError
from tests.unit.directory._build import IT_ADMINS, admins_by_rule, rules, user


def test_apply_leaves_the_old_snapshot_untouched() -> None:
    before = admins_by_rule(2)
    after = apply(before, [DeleteUser("admin0")])
    assert before.user("admin0") is not None
    assert after.user("admin0") is None
    assert before.active_members("Admins") == ("admin0@example.com", "admin1@example.com")
    assert after.active_members("Admins") == ("admin1@example.com",)


def test_an_attribute_change_re_runs_the_rules_for_that_user() -> None:
    before = admins_by_rule(2)
    moved = user("admin0", department="Sales", title="Admin")
    after = apply(before, [PutUser(moved)])
    assert "Admins" not in after.effective_groups("admin0")
    assert "Admins" in after.effective_groups("admin1")


def test_user_names_are_unique_ignoring_case() -> None:
    before = admins_by_rule(1)
    with pytest.raises(DirectoryConflictError, match="already used"):
        apply(before, [PutUser(User("other", "ADMIN0@example.com"))])
    renamed = apply(before, [PutUser(User("admin0", "new@example.com"))])
    assert renamed.user_named("NEW@example.com") is not None
    assert renamed.user_named("admin0@example.com") is None


def test_group_names_are_unique_and_members_must_exist() -> None:
    before = admins_by_rule(1)
    with pytest.raises(DirectoryConflictError):
        apply(before, [PutGroup(Group("g-x", "admins"))])
    with pytest.raises(DirectoryNotFoundError, match="not users"):
        apply(before, [PutGroup(Group("g-x", "Ops", frozenset({"ghost"})))])


@pytest.mark.parametrize("change", [DeleteUser("ghost"), DeleteGroup("ghost")])
def test_deleting_what_is_not_there_is_an_error(change: DeleteUser | DeleteGroup) -> None:
    with pytest.raises(DirectoryNotFoundError):
        apply(Directory.empty(), [change])


def test_deleting_a_user_removes_it_from_its_groups() -> None:
    after = apply(admins_by_rule(1, others=2), [DeleteUser("sales0")])
    group = after.group("g-sales")
    assert group is not None
    assert group.members == {"sales1"}
    assert "sales0" not in after.member_of


def test_membership_changes_feed_rules_that_read_groups() -> None:
    people = [user("a"), user("b")]
    oncall = Group("g-oncall", "Oncall", frozenset({"a"}))
    paging = Group("g-paging", "Paging")
    start = build(people, [oncall, paging], rules(("p", '"Oncall" in groups', "Paging")))
    assert start.effective_members("Paging") == {"a"}
    swapped = apply(start, [PutGroup(replace(oncall, members=frozenset({"b"})))])
    assert swapped.effective_members("Paging") == {"b"}
    renamed = apply(start, [PutGroup(replace(oncall, name="Oncall-old"))])
    assert renamed.effective_members("Paging") == frozenset()
    deleted = apply(start, [DeleteGroup("g-oncall")])
    assert deleted.effective_members("Paging") == frozenset()


def test_replacing_rules_re_evaluates_only_what_changed() -> None:
    before = admins_by_rule(2)
    errors = RuleErrors()
    after = apply(before, [ReplaceRules(rules(("it-admins", "user.nope == 1", "Admins")))], errors)
    assert after.effective_members("Admins") == frozenset()
    assert errors.counts == {"it-admins": 4}  # every user, each an error (no 'nope')
    again = apply(after, [ReplaceRules(rules(("it-admins", "user.nope == 1", "Admins")))], errors)
    assert errors.counts == {"it-admins": 4}  # unchanged rules are not evaluated again
    assert again.effective_members("Admins") == frozenset()


def test_rule_groups_that_do_not_exist_are_ignored() -> None:
    directory = build(
        [user("a", department="IT", title="Admin")], [], rules(("r", IT_ADMINS, "Admins"))
    )
    assert directory.effective_groups("a") == frozenset()
    assert directory.matched["a"] == {"r"}


def test_group_named_is_exact_about_case() -> None:
    directory = admins_by_rule(1)
    assert directory.group_named("Admins") is not None
    assert directory.group_named("admins") is None
