"""Allowed and denied groups for a route. Deny always wins.

Group names are compared as exact strings: no case folding, no Unicode
normalisation, no trimming (``Ａdmins`` and ``admins`` are not ``Admins``).
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.reasons import Reason

__all__ = ["GroupsConfig", "compile_groups"]


@dataclass(frozen=True, slots=True)
class GroupsConfig:
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()


def compile_groups(config: GroupsConfig) -> Check | None:
    if not config.allow and not config.deny:
        return None
    allow, deny = config.allow, config.deny
    ok = Verdict.ok(Reason.GROUPS_OK, "group membership satisfies the route")

    def check(ctx: Context) -> Verdict:
        groups = ctx.principal.groups
        denied = groups & deny
        if denied:
            return Verdict.deny(Reason.GROUP_DENYLISTED, f"member of denied group {sorted(denied)}")
        if allow and groups.isdisjoint(allow):
            return Verdict.deny(Reason.GROUPS_DENIED, f"member of none of {sorted(allow)}")
        return ok

    return check
