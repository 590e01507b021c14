"""Maximum age of the authentication event (``auth_time``, OIDC Core 2).

Too old, missing, or in the future beyond the clock skew: step-up with
``max_age`` (RFC 9470 3), so the client re-authenticates instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.criteria.base import Check, Context, Verdict
from glassgate.core.decision import Challenge
from glassgate.core.reasons import Reason

__all__ = ["AuthAgeConfig", "compile_auth_age"]


@dataclass(frozen=True, slots=True)
class AuthAgeConfig:
    max_age: int
    clock_skew: float = 30.0


def compile_auth_age(config: AuthAgeConfig | None) -> Check | None:
    if config is None:
        return None
    max_age, skew = config.max_age, config.clock_skew
    challenge = Challenge(max_age=max_age)
    ok = Verdict.ok(Reason.AUTH_AGE_OK, f"signed in at most {max_age} s ago")

    def check(ctx: Context) -> Verdict:
        auth_time = ctx.principal.auth_time
        if auth_time is None:
            return Verdict.step_up(Reason.AUTH_AGE_EXPIRED, challenge, "the token has no auth_time")
        age = ctx.now - auth_time
        if age < -skew:
            return Verdict.step_up(
                Reason.AUTH_AGE_EXPIRED, challenge, "auth_time lies in the future"
            )
        if age > max_age:
            return Verdict.step_up(
                Reason.AUTH_AGE_EXPIRED, challenge, f"signed in {int(age)} s ago, limit {max_age} s"
            )
        return ok

    return check
