"""Directory changes as values, and ``apply``: old snapshot + changes -> new snapshot.

Every way the directory changes (SCIM, imports, CLI edits, ``rules apply``)
is expressed with these five changes, so the lockout guard sees them all
the same way. ``apply`` is pure: it copies what it touches, then re-evaluates
the rules only where something they read changed (the users touched, or
every user for the rules whose expression, exclusions or state changed).
Several changes applied together (an import) are guarded as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from glassgate.directory.models import Group, User
from glassgate.directory.rules import RuleErrors, RuleSet, matching_rules
from glassgate.directory.state import Directory
from glassgate.errors import DirectoryConflictError, DirectoryNotFoundError

__all__ = [
    "Change",
    "DeleteGroup",
    "DeleteUser",
    "PutGroup",
    "PutUser",
    "ReplaceRules",
    "apply",
    "build",
    "describe",
]

_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PutUser:
    """Create ``user``, or replace the user with its id (status and attributes included)."""

    user: User


@dataclass(frozen=True, slots=True)
class DeleteUser:
    user_id: str


@dataclass(frozen=True, slots=True)
class PutGroup:
    """Create ``group``, or replace the group with its id (name and direct members)."""

    group: Group


@dataclass(frozen=True, slots=True)
class DeleteGroup:
    group_id: str


@dataclass(frozen=True, slots=True)
class ReplaceRules:
    rules: RuleSet


Change = PutUser | DeleteUser | PutGroup | DeleteGroup | ReplaceRules


def describe(changes: Sequence[Change], before: Directory) -> str:
    """A short human phrase for refusals and audit records."""
    if len(changes) != 1:
        return f"{len(changes)} changes"
    change = changes[0]
    if isinstance(change, PutUser):
        old = before.user(change.user.id)
        if old is None:
            return f"creating user {change.user.user_name}"
        if old.status != change.user.status:
            return f"setting user {change.user.user_name} {change.user.status.value}"
        return f"changing user {change.user.user_name}"
    if isinstance(change, DeleteUser):
        user = before.user(change.user_id)
        return f"deleting user {user.user_name if user else change.user_id}"
    if isinstance(change, PutGroup):
        return f"changing group {change.group.name}"
    if isinstance(change, DeleteGroup):
        group = before.group(change.group_id)
        return f"deleting group {group.name if group else change.group_id}"
    return f"replacing the group rules ({len(change.rules)} rule(s))"


class _Draft:
    """Mutable copies of a snapshot's tables while a batch of changes is applied."""

    def __init__(self, base: Directory) -> None:
        self.base = base
        self.users, self.groups, self.matched, self.member_of = base.copy_tables()
        self.rules = base.rules
        self.user_names, self.group_names = base.name_indexes()
        self.dirty: set[str] = set()
        self.deleted: set[str] = set()
        self.changed_rules: set[str] = set()

    def put_user(self, user: User) -> None:
        owner = self.user_names.get(user.key)
        if owner is not None and owner != user.id:
            raise DirectoryConflictError(
                f"userName {user.user_name!r} is already used by user {owner}; "
                "userNames are unique, ignoring case"
            )
        old = self.users.get(user.id)
        if old is not None and old.key != user.key:
            del self.user_names[old.key]
        self.users[user.id] = user
        self.user_names[user.key] = user.id
        self.dirty.add(user.id)
        self.deleted.discard(user.id)

    def delete_user(self, user_id: str) -> None:
        user = self.users.pop(user_id, None)
        if user is None:
            raise DirectoryNotFoundError(f"no user with id {user_id!r}")
        del self.user_names[user.key]
        for group_id in self.member_of.pop(user_id, _NONE):
            group = self.groups[group_id]
            self.groups[group_id] = replace(group, members=group.members - {user_id})
        self.matched.pop(user_id, None)
        self.dirty.discard(user_id)
        self.deleted.add(user_id)

    def put_group(self, group: Group) -> None:
        owner = self.group_names.get(group.name.casefold())
        if owner is not None and owner != group.id:
            raise DirectoryConflictError(
                f"group name {group.name!r} is already used by group {owner}; "
                "group names are unique, ignoring case"
            )
        unknown = sorted(group.members - self.users.keys())
        if unknown:
            raise DirectoryNotFoundError(
                f"group {group.name!r} lists member id(s) that are not users: {unknown[:5]}"
            )
        old = self.groups.get(group.id)
        before = old.members if old is not None else _NONE
        if old is not None:
            del self.group_names[old.name.casefold()]
        renamed = old is not None and old.name != group.name
        self._link(group.id, removed=before - group.members, added=group.members - before)
        self.dirty.update(before | group.members if renamed else before ^ group.members)
        self.groups[group.id] = group
        self.group_names[group.name.casefold()] = group.id

    def delete_group(self, group_id: str) -> None:
        group = self.groups.pop(group_id, None)
        if group is None:
            raise DirectoryNotFoundError(f"no group with id {group_id!r}")
        del self.group_names[group.name.casefold()]
        self._link(group_id, removed=group.members, added=_NONE)
        self.dirty.update(group.members)

    def _link(self, group_id: str, removed: Iterable[str], added: Iterable[str]) -> None:
        for user_id in removed:
            self.member_of[user_id] = self.member_of.get(user_id, _NONE) - {group_id}
        for user_id in added:
            self.member_of[user_id] = self.member_of.get(user_id, _NONE) | {group_id}

    def replace_rules(self, rules: RuleSet) -> None:
        self.changed_rules.update(rules.changed_against(self.rules))
        self.rules = rules

    def direct_names(self, user_id: str) -> list[str]:
        groups = self.groups
        return [groups[gid].name for gid in self.member_of.get(user_id, _NONE)]

    def evaluate(self, errors: RuleErrors) -> None:
        """Re-run the rules where their inputs changed."""
        rules = self.rules
        if self.changed_rules:
            changed = [c for c in rules if c.id in self.changed_rules]
            for user_id, user in self.users.items():
                if user_id in self.dirty:
                    continue
                kept = self.matched.get(user_id, _NONE) - self.changed_rules
                hits = matching_rules(changed, user, self.direct_names(user_id), errors)
                self.matched[user_id] = kept | hits
        for user_id in self.dirty:
            user = self.users[user_id]
            self.matched[user_id] = matching_rules(rules, user, self.direct_names(user_id), errors)

    def snapshot(self) -> Directory:
        member_of = {uid: gids for uid, gids in self.member_of.items() if gids}
        names = (self.user_names, self.group_names)
        after = Directory(self.users, self.groups, self.rules, self.matched, member_of, names)
        if not self.changed_rules:
            self._carry_members(after)
        return after

    def _carry_members(self, after: Directory) -> None:
        """Effective members the base knew, updated for the users touched (no rule changed).

        Only for groups that are still the same group under the same name;
        anything else is computed afresh when asked.
        """
        touched = self.dirty | self.deleted
        for name, members in self.base.known_members().items():
            old, new = self.base.group_named(name), after.group_named(name)
            if old is None or new is None or old.id != new.id:
                continue
            added = {uid for uid in self.dirty if name in after.effective_groups(uid)}
            after.seed_members(name, (members - touched) | frozenset(added))


def apply(
    directory: Directory, changes: Sequence[Change], errors: RuleErrors | None = None
) -> Directory:
    """The snapshot after ``changes``, in order. ``directory`` itself is not modified.

    Raises ``DirectoryConflictError`` (a taken userName or group name) or
    ``DirectoryNotFoundError`` (an unknown id, a member that is not a user).
    Rule evaluation failures are counted in ``errors``.
    """
    draft = _Draft(directory)
    for change in changes:
        if isinstance(change, PutUser):
            draft.put_user(change.user)
        elif isinstance(change, DeleteUser):
            draft.delete_user(change.user_id)
        elif isinstance(change, PutGroup):
            draft.put_group(change.group)
        elif isinstance(change, DeleteGroup):
            draft.delete_group(change.group_id)
        else:
            draft.replace_rules(change.rules)
    draft.evaluate(errors if errors is not None else RuleErrors())
    return draft.snapshot()


def build(
    users: Iterable[User],
    groups: Iterable[Group] = (),
    rules: RuleSet | None = None,
    errors: RuleErrors | None = None,
) -> Directory:
    """A snapshot from scratch (loading from storage, tests, imports into nothing)."""
    changes: list[Change] = [PutUser(user) for user in users]
    changes.extend(PutGroup(group) for group in groups)
    if rules is not None:
        changes.append(ReplaceRules(rules))
    return apply(Directory.empty(), changes, errors)
