"""The directory as one immutable snapshot: users, groups, rules and who they match.

Effective membership is computed, never stored: a user's groups are its
direct groups plus the groups assigned by the rules it matches (``matched``
keeps, per user, the ids of those rules). Changes (``directory.changes``)
build a new snapshot and leave the old one untouched, so the lockout guard
can compare the two before anything is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from glassgate.directory.models import Group, User
from glassgate.directory.rules import RuleSet

__all__ = ["Directory"]

_NONE: frozenset[str] = frozenset()


class Directory:
    """Read side of a snapshot; build new ones with ``directory.changes.apply``."""

    __slots__ = (
        "_groups",
        "_groups_by_name",
        "_matched",
        "_member_of",
        "_members_cache",
        "_rules",
        "_users",
        "_users_by_name",
    )

    def __init__(
        self,
        users: Mapping[str, User],
        groups: Mapping[str, Group],
        rules: RuleSet,
        matched: Mapping[str, frozenset[str]],
        member_of: Mapping[str, frozenset[str]],
        names: tuple[dict[str, str], dict[str, str]] | None = None,
    ) -> None:
        """Internal: the caller (``changes``) guarantees the indexes agree with the data.

        ``names`` are the userName and group-name indexes (casefolded name ->
        id) when the caller has them already; they are built otherwise.
        """
        self._users = users
        self._groups = groups
        self._rules = rules
        self._matched = matched
        self._member_of = member_of
        if names is None:
            names = (
                {user.key: user.id for user in users.values()},
                {group.name.casefold(): group.id for group in groups.values()},
            )
        self._users_by_name, self._groups_by_name = names
        self._members_cache: dict[str, frozenset[str]] = {}

    @classmethod
    def empty(cls) -> Directory:
        return cls({}, {}, RuleSet(), {}, {})

    # --- plain reads ---------------------------------------------------------------

    @property
    def users(self) -> Mapping[str, User]:
        return MappingProxyType(self._users)

    @property
    def groups(self) -> Mapping[str, Group]:
        return MappingProxyType(self._groups)

    @property
    def rules(self) -> RuleSet:
        return self._rules

    @property
    def matched(self) -> Mapping[str, frozenset[str]]:
        return MappingProxyType(self._matched)

    @property
    def member_of(self) -> Mapping[str, frozenset[str]]:
        return MappingProxyType(self._member_of)

    def user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def group(self, group_id: str) -> Group | None:
        return self._groups.get(group_id)

    def user_named(self, user_name: str) -> User | None:
        user_id = self._users_by_name.get(user_name.casefold())
        return None if user_id is None else self._users[user_id]

    def group_named(self, name: str) -> Group | None:
        """The group called ``name`` exactly (names are unique ignoring case)."""
        group_id = self._groups_by_name.get(name.casefold())
        group = None if group_id is None else self._groups[group_id]
        return group if group is not None and group.name == name else None

    def name_indexes(self) -> tuple[dict[str, str], dict[str, str]]:
        """Copies of the userName and group-name indexes, for ``changes`` to build on."""
        return dict(self._users_by_name), dict(self._groups_by_name)

    def copy_tables(
        self,
    ) -> tuple[
        dict[str, User], dict[str, Group], dict[str, frozenset[str]], dict[str, frozenset[str]]
    ]:
        """Copies of users, groups, matched and member_of, for ``changes`` to build on."""
        return dict(self._users), dict(self._groups), dict(self._matched), dict(self._member_of)

    # --- membership ----------------------------------------------------------------

    def direct_groups(self, user_id: str) -> frozenset[str]:
        """Names of the groups ``user_id`` is a direct member of."""
        groups = self._groups
        return frozenset(groups[gid].name for gid in self._member_of.get(user_id, _NONE))

    def rule_groups(self, user_id: str) -> frozenset[str]:
        """Names of the existing groups that rules assign to ``user_id``."""
        assigned = self._rules.groups_of(self._matched.get(user_id, _NONE))
        return frozenset(name for name in assigned if self.group_named(name) is not None)

    def effective_groups(self, user_id: str) -> frozenset[str]:
        return self.direct_groups(user_id) | self.rule_groups(user_id)

    def effective_members(self, group_name: str) -> frozenset[str]:
        """Ids of every member of ``group_name``, direct or by rule, whatever their status."""
        cached = self._members_cache.get(group_name)
        if cached is not None:
            return cached
        group = self.group_named(group_name)
        if group is None:
            members: frozenset[str] = _NONE
        else:
            rule_ids = self._rules.assigning(group_name)
            by_rule = (uid for uid, hits in self._matched.items() if hits & rule_ids)
            members = group.members | frozenset(by_rule) if rule_ids else group.members
        self._members_cache[group_name] = members
        return members

    def known_members(self) -> Mapping[str, frozenset[str]]:
        """The effective member sets computed so far (group name -> ids)."""
        return MappingProxyType(self._members_cache)

    def seed_members(self, group_name: str, members: frozenset[str]) -> None:
        """Internal: ``changes`` derives a new snapshot's members from the old one's."""
        self._members_cache[group_name] = members

    def active_members(self, group_name: str) -> tuple[str, ...]:
        """userNames of the *active* members of ``group_name``, sorted."""
        users = self._users
        return tuple(
            sorted(
                users[uid].user_name
                for uid in self.effective_members(group_name)
                if users[uid].active
            )
        )

    def names_of(self, user_ids: Iterable[str]) -> tuple[str, ...]:
        """userNames for ``user_ids`` (ids kept for unknown ones), sorted."""
        users = self._users
        return tuple(sorted(users[u].user_name if u in users else u for u in user_ids))
