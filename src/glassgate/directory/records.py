"""What a directory store reads and writes: the stored directory, and the writes
that take it from one snapshot to the next.

``apply`` copies a snapshot's tables and replaces only what changes, so an
unchanged user or group is the very same object in both snapshots: the
difference is found by identity, in one pass, without comparing fields.
Rule matches are not stored: they are recomputed from the rules on load.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.directory.models import Group, User
from glassgate.directory.rules import GroupRule
from glassgate.directory.state import Directory

__all__ = ["DirectoryWrites", "StoredDirectory", "diff"]


@dataclass(frozen=True, slots=True)
class StoredDirectory:
    """Everything a store holds; ``revision`` grows with every commit (by any process)."""

    users: tuple[User, ...]
    groups: tuple[Group, ...]
    rules: tuple[GroupRule, ...]
    revision: int


@dataclass(frozen=True, slots=True)
class DirectoryWrites:
    put_users: tuple[User, ...] = ()
    delete_users: tuple[str, ...] = ()
    put_groups: tuple[Group, ...] = ()
    delete_groups: tuple[str, ...] = ()
    rules: tuple[GroupRule, ...] | None = None  # None: the rules are unchanged

    def __bool__(self) -> bool:
        return bool(
            self.put_users
            or self.delete_users
            or self.put_groups
            or self.delete_groups
            or self.rules is not None
        )


def diff(before: Directory, after: Directory) -> DirectoryWrites:
    old_users, new_users = before.users, after.users
    old_groups, new_groups = before.groups, after.groups
    rules = after.rules.rules
    return DirectoryWrites(
        put_users=tuple(u for uid, u in new_users.items() if old_users.get(uid) is not u),
        delete_users=tuple(sorted(old_users.keys() - new_users.keys())),
        put_groups=tuple(g for gid, g in new_groups.items() if old_groups.get(gid) is not g),
        delete_groups=tuple(sorted(old_groups.keys() - new_groups.keys())),
        rules=None if after.rules is before.rules or rules == before.rules.rules else rules,
    )
