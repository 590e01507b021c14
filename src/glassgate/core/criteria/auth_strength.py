"""Authentication strength from ``amr`` (RFC 8176) and ``acr`` (OIDC Core 2).

A strength level is met when the token's ``acr`` is one of the level's values,
or its ``amr`` holds any of the level's ``amr`` values, or all of ``amr_all``.
Falling short is a step-up, answered with an RFC 9470 challenge naming the
level's ``acr`` values, never a plain deny: the user can fix it by signing in
again with a stronger method.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.decision import Challenge
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason

__all__ = ["StrengthLevel", "compile_auth_strength", "meets"]


@dataclass(frozen=True, slots=True)
class StrengthLevel:
    name: str
    acr: tuple[str, ...] = ()
    amr: frozenset[str] = frozenset()
    amr_all: frozenset[str] = frozenset()


def meets(principal: Principal, level: StrengthLevel) -> bool:
    """Whether the principal's authentication satisfies ``level`` (exact strings)."""
    if principal.acr is not None and principal.acr in level.acr:
        return True
    if not principal.amr.isdisjoint(level.amr):
        return True
    return bool(level.amr_all) and level.amr_all <= principal.amr


def compile_auth_strength(level: StrengthLevel | None, max_age: int | None = None) -> Check | None:
    """``max_age``: the route's auth-age limit, so the one challenge names both."""
    if level is None:
        return None
    challenge = Challenge(acr_values=level.acr, max_age=max_age)
    ok = Verdict.ok(Reason.AUTH_STRENGTH_OK, f"authentication meets '{level.name}'")

    def check(ctx: Context) -> Verdict:
        if meets(ctx.principal, level):
            return ok
        return Verdict.step_up(
            Reason.AUTH_STRENGTH_INSUFFICIENT,
            challenge,
            f"authentication does not meet '{level.name}'",
        )

    return check
