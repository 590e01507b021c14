"""Quotas, pure: which bucket a request counts against, and the GCRA arithmetic.

``tier_for`` and ``bucket_key`` are the rules (SPEC C4): which tier a request
counts against and whose bucket it fills. The limiter state per bucket is one
number, the theoretical arrival time (TAT); adapters keep TATs (in memory, or
in Redis with an atomic script that runs this same arithmetic) and ``gcra``
decides and computes the next state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from glassgate.core.decision import Decision, Outcome
from glassgate.core.policy import CompiledRoute
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import IPAddress

__all__ = [
    "STORE_RETRY_AFTER",
    "QuotaResult",
    "QuotaTier",
    "bucket_key",
    "gcra",
    "limit",
    "store_down",
    "tier_for",
]

# Float time: (per / rate) is rarely exact, so a whole burst could lose its last
# request to rounding. A microsecond (above float resolution at Unix time) is far
# below any real interval.
_EPSILON = 1e-6
#: Seconds a client is asked to wait when the quota store is down: an outage, not its quota.
STORE_RETRY_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class QuotaTier:
    """``rate`` requests per ``per`` seconds, with up to ``burst`` at once."""

    name: str
    rate: float
    per: float
    burst: int
    key: str = "principal"
    fail_open: bool = False  # when the store is down: True lets requests through, unmetered

    @property
    def interval(self) -> float:
        return self.per / self.rate

    @property
    def policy_header(self) -> str:
        """The ``RateLimit-Policy`` item (draft-ietf-httpapi-ratelimit-headers)."""
        return f'"{self.name}";q={max(int(self.rate), 1)};w={max(int(self.per), 1)}'


@dataclass(frozen=True, slots=True)
class QuotaResult:
    allowed: bool
    tat: float
    retry_after: float
    remaining: int
    reset_after: float


def gcra(tier: QuotaTier, tat: float | None, now: float) -> QuotaResult:
    """One request against the bucket whose state is ``tat``."""
    interval = tier.interval
    tolerance = interval * (tier.burst - 1)
    current = now if tat is None or tat < now else tat
    new_tat = current + interval
    allow_at = new_tat - tolerance - interval
    if allow_at - now > _EPSILON:
        remaining = 0
        return QuotaResult(False, current, allow_at - now, remaining, current - now)
    remaining = int((tolerance - (new_tat - now - interval)) / interval + _EPSILON)
    return QuotaResult(True, new_tat, 0.0, max(remaining, 0), new_tat - now)


def limit(decision: Decision, result: QuotaResult) -> Decision:
    """Turn an allow into rate-limited when the quota says so."""
    if result.allowed or decision.outcome is not Outcome.ALLOW:
        return decision
    return Decision(
        Outcome.RATE_LIMITED,
        decision.route_id,
        (*decision.reasons, Reason.QUOTA_EXCEEDED),
        retry_after=result.retry_after,
        quota_tier=decision.quota_tier,
    )


def store_down(decision: Decision, tier: QuotaTier) -> Decision:
    """The decision when ``tier``'s bucket could not be counted (the shared store is down).

    A tier that fails closed refuses (UNAVAILABLE: 503, never 429, since the
    client did not exceed anything); one that fails open keeps the allow,
    unmetered, with ``quota-store-unavailable`` among its reasons so that the
    pass is counted and audited.
    """
    reasons = (*decision.reasons, Reason.QUOTA_STORE_UNAVAILABLE)
    if tier.fail_open:
        return Decision(
            decision.outcome,
            decision.route_id,
            reasons,
            quota_tier=decision.quota_tier,
            would_be=decision.would_be,
        )
    return Decision(
        Outcome.UNAVAILABLE,
        decision.route_id,
        reasons,
        retry_after=STORE_RETRY_AFTER,
        quota_tier=decision.quota_tier,
    )


def tier_for(
    decision: Decision,
    route: CompiledRoute | None,
    principal: Principal | None,
    tiers: Mapping[str, QuotaTier],
) -> str | None:
    """The tier a request counts against (SPEC C4), or None: not metered.

    The route's tier (``decision.quota_tier``), except for an API key that
    carries its own tier: the key's tier replaces the route's, on routes with
    or without one, so a machine client's plan follows it wherever its scope
    lets it go. Anonymous routes are never metered, whatever the caller
    presented, and a key whose tier is not configured keeps the route's.
    """
    if principal is None or principal.kind is not CredentialKind.API_KEY:
        return decision.quota_tier
    own = principal.quota_tier
    if own is None or route is None or route.anonymous or own not in tiers:
        return decision.quota_tier
    return own


def bucket_key(tier: QuotaTier, principal: Principal, client_ip: IPAddress) -> str:
    """The bucket: per client address, per API key (its public key id), or per principal.

    An ``api_key`` tier meets a caller without a key (a JWT) on a route: that
    caller is counted per principal, as on a ``principal`` tier. Issuer and
    subject are joined with NUL, which neither can hold, so no two principals
    share a bucket.
    """
    if tier.key == "client_ip":
        return str(client_ip)
    if tier.key == "api_key" and principal.kind is CredentialKind.API_KEY and principal.token_id:
        return f"api-key\x00{principal.token_id}"
    return f"{principal.issuer}\x00{principal.subject}"
