"""The directory as text for ``glassgate directory users | groups | show``: tables and JSON.

Groups show their direct members, their rule members and how many are
active, next to the protected minimum where there is one; ``show`` explains
where each of a user's groups comes from (direct, or which rule).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from glassgate.directory.guard import LockoutGuard
from glassgate.directory.models import Group, User, attributes_json
from glassgate.directory.state import Directory
from glassgate.types import JSONValue

__all__ = ["GroupView", "UserView", "groups_table", "show", "users_table"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "(none)\n"
    cells = [list(header), *([cell[:60] for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(line.rstrip() for line in lines) + "\n"


@dataclass(frozen=True, slots=True)
class UserView:
    user: User
    groups: tuple[tuple[str, bool, tuple[str, ...]], ...]  # (name, direct?, rule ids)

    @classmethod
    def of(cls, d: Directory, user: User) -> UserView:
        direct = d.direct_groups(user.id)
        by_rule: dict[str, list[str]] = {}
        for rule_id in sorted(d.matched.get(user.id, frozenset())):
            compiled = d.rules.get(rule_id)
            for name in compiled.rule.assign if compiled is not None else ():
                if d.group_named(name) is not None:
                    by_rule.setdefault(name, []).append(rule_id)
        names = sorted(direct | by_rule.keys(), key=str.casefold)
        return cls(user, tuple((n, n in direct, tuple(by_rule.get(n, ()))) for n in names))

    def json(self) -> dict[str, JSONValue]:
        user = self.user
        return {
            "id": user.id,
            "userName": user.user_name,
            "status": user.status.value,
            "externalId": user.external_id,
            "attributes": attributes_json(user.attributes),
            "groups": {n: {"direct": d, "rules": list(r)} for n, d, r in self.groups},
            "version": user.version,
        }

    def text(self) -> str:
        user = self.user
        external = f", externalId {user.external_id}" if user.external_id else ""
        lines = [f"{user.user_name}  ({user.status.value}, id {user.id}{external})", "attributes:"]
        lines += [f"  {k}: {v}" for k, v in sorted(user.attributes.items())] or ["  (none)"]
        lines.append("groups:")
        for name, direct, rules in self.groups:
            origin = (["direct"] if direct else []) + [f"rule {rule}" for rule in rules]
            lines.append(f"  {name}  ({', '.join(origin)})")
        if not self.groups:
            lines.append("  (none)")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class GroupView:
    group: Group
    direct: tuple[str, ...]  # userNames
    by_rule: tuple[str, ...]
    active: int
    minimum: int | None
    rules: tuple[str, ...]

    @classmethod
    def of(cls, d: Directory, group: Group, guard: LockoutGuard) -> GroupView:
        members = d.effective_members(group.name)
        return cls(
            group,
            d.names_of(group.members),
            d.names_of(members - group.members),
            len(d.active_members(group.name)),
            next((g.minimum for g in guard.protected if g.name == group.name), None),
            tuple(sorted(d.rules.assigning(group.name))),
        )

    def json(self) -> dict[str, JSONValue]:
        return {
            "id": self.group.id,
            "name": self.group.name,
            "externalId": self.group.external_id,
            "direct_members": list(self.direct),
            "rule_members": list(self.by_rule),
            "filled_by_rules": list(self.rules),
            "active_members": self.active,
            "protected_minimum": self.minimum,
        }

    def row(self) -> tuple[str, ...]:
        protected = "-" if self.minimum is None else f">= {self.minimum}"
        counts = (len(self.direct), len(self.by_rule), self.active)
        return (self.group.name, self.group.id, *map(str, counts), protected)

    def text(self) -> str:
        protected = "" if self.minimum is None else f"; protected: at least {self.minimum}"
        return (
            f"{self.group.name}  (id {self.group.id}; {self.active} active member(s){protected})\n"
            f"filled by rules: {', '.join(self.rules) or 'none'}\n"
            f"direct members: {', '.join(self.direct) or 'none'}\n"
            f"rule members: {', '.join(self.by_rule) or 'none'}\n"
        )


def users_table(d: Directory) -> str:
    rows = [
        (u.user_name, u.status.value, u.id, ",".join(sorted(d.effective_groups(u.id))) or "-")
        for u in sorted(d.users.values(), key=lambda u: u.key)
    ]
    return _table(("USERNAME", "STATUS", "ID", "GROUPS"), rows)


def groups_table(d: Directory, guard: LockoutGuard) -> str:
    groups = sorted(d.groups.values(), key=lambda g: g.name.casefold())
    rows = [GroupView.of(d, group, guard).row() for group in groups]
    return _table(("GROUP", "ID", "DIRECT", "BY RULE", "ACTIVE", "PROTECTED"), rows)


def show(d: Directory, name: str, guard: LockoutGuard, as_json: bool) -> str | None:
    """A user (by userName or id) or else a group (by name or id); None if neither."""
    user = d.user_named(name) or d.user(name)
    group = d.group_named(name) or d.group(name)
    view: UserView | GroupView
    if user is not None:
        view = UserView.of(d, user)
    elif group is not None:
        view = GroupView.of(d, group, guard)
    else:
        return None
    if as_json:
        return json.dumps(view.json(), indent=2, ensure_ascii=False) + "\n"
    return view.text()
