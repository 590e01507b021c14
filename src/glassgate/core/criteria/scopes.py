"""Required OAuth scopes: every listed scope must have been granted (RFC 6750 3.1)."""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.reasons import Reason

__all__ = ["ScopesConfig", "compile_scopes"]


@dataclass(frozen=True, slots=True)
class ScopesConfig:
    required: frozenset[str] = frozenset()


def compile_scopes(config: ScopesConfig) -> Check | None:
    if not config.required:
        return None
    required = config.required
    ok = Verdict.ok(Reason.SCOPES_OK, "all required scopes granted")

    def check(ctx: Context) -> Verdict:
        missing = required - ctx.principal.scopes
        if missing:
            return Verdict.deny(Reason.SCOPES_INSUFFICIENT, f"missing scopes {sorted(missing)}")
        return ok

    return check
