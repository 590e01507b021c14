"""Simulation first: what a new rule set would do, before anything changes (SPEC C6).

``simulate`` applies the new rules to a copy of the directory and reports,
for every user whose effective groups would differ, which groups they gain
and which they lose; for every protected group, its active members now and
after; the lockout guard's verdict; and the rules that failed to evaluate for
some users or that assign a group that does not exist. Only the rules whose
matching changed are evaluated, so a simulation over 100,000 users costs one
pass of those rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from glassgate.directory.changes import ReplaceRules, apply
from glassgate.directory.guard import LockoutGuard
from glassgate.directory.rules import RuleErrors, RuleSet
from glassgate.directory.state import Directory
from glassgate.errors import Shortfall

__all__ = ["Delta", "MembershipChange", "ProtectedOutcome", "Simulation", "simulate"]


class Delta(StrEnum):
    GAIN = "gain"
    LOSS = "loss"


@dataclass(frozen=True, slots=True)
class MembershipChange:
    user_id: str
    user_name: str
    status: str
    group: str
    delta: Delta


@dataclass(frozen=True, slots=True)
class ProtectedOutcome:
    group: str
    minimum: int
    before: tuple[str, ...]  # userNames of active members now
    after: tuple[str, ...]  # ... and after the change

    @property
    def short(self) -> bool:
        return len(self.after) < self.minimum


@dataclass(frozen=True)
class Simulation:
    users: int
    changed_rules: tuple[str, ...]
    changes: tuple[MembershipChange, ...]
    protected: tuple[ProtectedOutcome, ...]
    shortfalls: tuple[Shortfall, ...]
    errors: RuleErrors = field(default_factory=RuleErrors)
    missing_groups: tuple[tuple[str, str], ...] = ()  # (rule id, group) pairs

    @property
    def allowed(self) -> bool:
        """Whether ``rules apply`` would pass the lockout guard."""
        return not self.shortfalls

    def per_group(self, mark_inactive: bool = False) -> dict[str, tuple[list[str], list[str]]]:
        """Group -> (userNames gaining, userNames losing), in userName order.

        ``mark_inactive`` appends the status to users who are not active
        (they do not count towards a protected group's minimum).
        """
        table: dict[str, tuple[list[str], list[str]]] = {}
        for change in self.changes:
            gains, losses = table.setdefault(change.group, ([], []))
            name = change.user_name
            if mark_inactive and change.status != "active":
                name = f"{name} ({change.status})"
            (gains if change.delta is Delta.GAIN else losses).append(name)
        return {group: table[group] for group in sorted(table)}


def simulate(before: Directory, rules: RuleSet, guard: LockoutGuard) -> Simulation:
    """What replacing ``before``'s rules with ``rules`` would do. Nothing is changed."""
    errors = RuleErrors()
    after = apply(before, [ReplaceRules(rules)], errors)
    changed = rules.changed_against(before.rules) | _reassigned(before.rules, rules)
    changes = _membership_changes(before, after, changed) if changed else []
    protected = tuple(
        ProtectedOutcome(
            group.name,
            group.minimum,
            before.active_members(group.name),
            after.active_members(group.name),
        )
        for group in guard.protected
    )
    missing = tuple(
        (compiled.id, name)
        for compiled in rules
        for name in compiled.rule.assign
        if after.group_named(name) is None
    )
    return Simulation(
        users=len(before.users),
        changed_rules=tuple(sorted(changed)),
        changes=tuple(changes),
        protected=protected,
        shortfalls=guard.shortfalls(before, after),
        errors=errors,
        missing_groups=missing,
    )


def _reassigned(old: RuleSet, new: RuleSet) -> frozenset[str]:
    """Rules that match the same users but assign other groups."""
    return frozenset(
        c.id
        for c in new
        if (prev := old.get(c.id)) is not None and prev.rule.assign != c.rule.assign
    )


def _membership_changes(
    before: Directory, after: Directory, rule_ids: frozenset[str]
) -> list[MembershipChange]:
    found: list[MembershipChange] = []
    for user_id, user in before.users.items():
        was = before.matched.get(user_id, frozenset())
        now = after.matched.get(user_id, frozenset())
        if not (was | now) & rule_ids:
            continue
        direct = before.direct_groups(user_id)
        old = before.rule_groups(user_id) - direct
        new = after.rule_groups(user_id) - direct
        for group in sorted(new - old):
            found.append(
                MembershipChange(user_id, user.user_name, user.status.value, group, Delta.GAIN)
            )
        for group in sorted(old - new):
            found.append(
                MembershipChange(user_id, user.user_name, user.status.value, group, Delta.LOSS)
            )
    found.sort(key=lambda c: (c.group, c.delta.value, c.user_name.casefold()))
    return found
