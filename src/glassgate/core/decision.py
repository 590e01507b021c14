"""Outcome and Decision, and the precedence ladder that orders them.

The ladder, applied once per request (``core.engine._decide``, in this order):

1. the route that matches is anonymous     -> ALLOW (anonymous-ok)
2. no valid credential (none, or invalid)  -> UNAUTHENTICATED (401), whether or not a
                                              route matches: an anonymous caller learns
                                              nothing about which routes exist
3. no route matches the request            -> DENY (route-not-found, or method-denied
                                              when only the method differs; default deny;
                                              breakglass-out-of-scope for a break-glass session)
4. the route's issuers, or the credential's own route scope (API keys, break-glass
   sessions), exclude it                   -> DENY (issuer-denied, route-scope-denied,
                                              breakglass-out-of-scope)
5. any deny-type criterion fails           -> DENY (403); deny always wins over step-up
6. only strength / age criteria fall short -> STEP_UP (401 with an RFC 9470 challenge)
7. otherwise                               -> ALLOW, and then the gate counts the quota:
   the quota is exhausted                  -> RATE_LIMITED (429 with retry_after;
                                              ``core.quota.limit``)
   the quota store cannot be asked         -> UNAVAILABLE (503) on a tier that fails
                                              closed, else ALLOW (``core.quota.store_down``)

A report-only route (or a principal outside the route's pilot groups) gets
ALLOW with ``would_be`` holding the decision that enforcement would have made.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from glassgate.core.reasons import Reason

__all__ = ["Challenge", "Decision", "Outcome"]


class Outcome(StrEnum):
    ALLOW = "allow"
    UNAUTHENTICATED = "unauthenticated"
    STEP_UP = "step-up"
    DENY = "deny"
    RATE_LIMITED = "rate-limited"
    UNAVAILABLE = "unavailable"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Outcome.ALLOW: 200,
    Outcome.UNAUTHENTICATED: 401,
    Outcome.STEP_UP: 401,
    Outcome.DENY: 403,
    Outcome.RATE_LIMITED: 429,
    Outcome.UNAVAILABLE: 503,
}


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the client must bring back (RFC 9470 section 3)."""

    acr_values: tuple[str, ...] = ()
    max_age: int | None = None

    def merge(self, other: Challenge) -> Challenge:
        acr = self.acr_values + tuple(v for v in other.acr_values if v not in self.acr_values)
        ages = [a for a in (self.max_age, other.max_age) if a is not None]
        return Challenge(acr_values=acr, max_age=min(ages) if ages else None)


@dataclass(frozen=True, slots=True)
class Decision:
    """The single result of policy evaluation; carries the route id and reasons."""

    outcome: Outcome
    route_id: str | None
    reasons: tuple[Reason, ...]
    challenge: Challenge | None = None
    retry_after: float | None = None
    quota_tier: str | None = None
    would_be: Decision | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOW

    @property
    def reason(self) -> Reason:
        """The deciding reason: the last one recorded."""
        return self.reasons[-1] if self.reasons else Reason.ROUTE_NOT_FOUND
