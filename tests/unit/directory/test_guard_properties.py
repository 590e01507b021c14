"""Property: the lockout guard holds for any sequence of directory operations.

A hypothesis state machine applies random changes (users created, edited,
suspended, deleted; groups created, re-membered, renamed, deleted; rule sets
replaced; several at once as an import) through ``check_change``. After each
step it checks that

* every protected group kept at least min(minimum, what it had) active members;
* a refused change left the directory exactly as it was;
* the snapshot's incrementally maintained membership equals membership
  recomputed from scratch with plain Python predicates (the rules' meaning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from glassgate.directory.changes import (
    Change,
    DeleteGroup,
    DeleteUser,
    PutGroup,
    PutUser,
    ReplaceRules,
)
from glassgate.directory.guard import LockoutGuard, ProtectedGroup, check_change
from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.directory.state import Directory
from glassgate.errors import DirectoryError

Predicate = Callable[[dict[str, Any], frozenset[str]], bool]
# (CEL, the same meaning in Python, target group)
RULE_POOL: list[tuple[str, Predicate, str]] = [
    ('has(user.dept) && user.dept == "IT"', lambda a, g: a.get("dept") == "IT", "Admins"),
    (
        'has(user.title) && user.title.startsWith("Admin")',
        lambda a, g: str(a.get("title", "")).startswith("Admin"),
        "Admins",
    ),
    ('"Oncall" in groups', lambda a, g: "Oncall" in g, "Admins"),
    ('has(user.dept) && user.dept == "Sales"', lambda a, g: a.get("dept") == "Sales", "Sales"),
    ('!("Sales" in groups)', lambda a, g: "Sales" not in g, "Oncall"),
    ("user.nope == 1", lambda a, g: False, "Admins"),  # always an evaluation error
]
PROTECTED = (ProtectedGroup("Admins", 2), ProtectedGroup("Oncall", 1))
GUARD = LockoutGuard(PROTECTED)
USER_IDS = [f"u{i}" for i in range(8)]
GROUP_NAMES = ["Admins", "Oncall", "Sales", "Admins-old"]

attributes = st.fixed_dictionaries(
    {},
    optional={
        "dept": st.sampled_from(["IT", "Sales", "HR"]),
        "title": st.sampled_from(["Admin", "Admin II", "AE"]),
    },
)
statuses = st.sampled_from(list(UserStatus))
rule_sets = st.lists(st.integers(0, len(RULE_POOL) - 1), unique=True, max_size=4)


def _rules(indexes: list[int]) -> RuleSet:
    return RuleSet.compile(GroupRule(f"r{i}", RULE_POOL[i][0], (RULE_POOL[i][2],)) for i in indexes)


class DirectoryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Directory.empty()
        self.rule_indexes: list[int] = []

    @initialize(admins=st.integers(0, 3), oncall=st.booleans())
    def seed(self, admins: int, oncall: bool) -> None:
        """Often start with Admins at or near its minimum, so refusals are common."""
        changes: list[Change] = [
            PutUser(User(f"u{i}", f"u{i}@example.com", attributes={"dept": "IT"}))
            for i in range(admins)
        ]
        changes += [PutGroup(Group("g-Admins", "Admins")), ReplaceRules(_rules([0]))]
        if oncall:
            changes.append(
                PutGroup(Group("g-Oncall", "Oncall", frozenset({"u0"} if admins else ())))
            )
        self.attempt(changes)

    def attempt(self, changes: list[Change]) -> None:
        before = self.directory
        counts = {g.name: len(before.active_members(g.name)) for g in PROTECTED}
        try:
            after = check_change(GUARD, before, changes)
        except DirectoryError as exc:
            event(f"refused: {exc.code}")
            return  # the old snapshot stays; nothing to undo
        for group in PROTECTED:
            kept = len(after.active_members(group.name))
            assert kept >= min(group.minimum, counts[group.name]), (group, counts, kept)
        event("applied")
        self.directory = after
        for change in changes:
            if isinstance(change, ReplaceRules):
                self.rule_indexes = [int(c.id[1:]) for c in change.rules]

    def _user_change(self, uid: str, status: UserStatus, attrs: dict[str, str]) -> PutUser:
        return PutUser(User(uid, f"{uid}@example.com", status, attrs))

    @rule(uid=st.sampled_from(USER_IDS), status=statuses, attrs=attributes)
    def put_user(self, uid: str, status: UserStatus, attrs: dict[str, str]) -> None:
        self.attempt([self._user_change(uid, status, attrs)])

    @rule(uid=st.sampled_from(USER_IDS))
    def delete_user(self, uid: str) -> None:
        self.attempt([DeleteUser(uid)])

    @rule(name=st.sampled_from(GROUP_NAMES), members=st.sets(st.sampled_from(USER_IDS)))
    def put_group(self, name: str, members: set[str]) -> None:
        existing = self.directory.group_named(name)
        gid = existing.id if existing else f"g-{name}"
        self.attempt([PutGroup(Group(gid, name, frozenset(members) & set(self.directory.users)))])

    @precondition(lambda self: self.directory.group_named("Admins") is not None)
    @rule()
    def rename_admins(self) -> None:
        group = self.directory.group_named("Admins")
        assert group is not None
        if self.directory.group_named("Admins-old") is None:
            self.attempt([PutGroup(replace(group, name="Admins-old"))])

    @rule(name=st.sampled_from(GROUP_NAMES))
    def delete_group(self, name: str) -> None:
        group = self.directory.group_named(name)
        self.attempt([DeleteGroup(group.id if group else f"g-{name}")])

    @rule(indexes=rule_sets)
    def replace_rules(self, indexes: list[int]) -> None:
        self.attempt([ReplaceRules(_rules(indexes))])

    @rule(
        users=st.lists(st.tuples(st.sampled_from(USER_IDS), statuses, attributes), max_size=4),
        deletes=st.lists(st.sampled_from(USER_IDS), max_size=2, unique=True),
    )
    def import_batch(
        self, users: list[tuple[str, UserStatus, dict[str, str]]], deletes: list[str]
    ) -> None:
        changes: list[Change] = [self._user_change(*item) for item in users]
        changes += [DeleteUser(uid) for uid in deletes]
        self.attempt(changes)

    @invariant()
    def membership_matches_a_recomputation_from_scratch(self) -> None:
        d = self.directory
        for uid, user in d.users.items():
            direct = d.direct_groups(uid)
            by_rule = {
                RULE_POOL[i][2]
                for i in self.rule_indexes
                if RULE_POOL[i][1](dict(user.attributes), direct)
            }
            existing = {g.name for g in d.groups.values()}
            assert d.effective_groups(uid) == direct | (by_rule & existing), uid
        for group in d.groups.values():
            expected = {u for u in d.users if group.name in d.effective_groups(u)}
            assert d.effective_members(group.name) == expected


DirectoryMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None
)
test_the_guard_holds_for_any_sequence_of_operations = DirectoryMachine.TestCase
