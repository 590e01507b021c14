"""Quota arithmetic: the generic cell rate algorithm (GCRA), pure.

The limiter state per key is one number, the theoretical arrival time (TAT).
Adapters keep TATs (in memory, or in Redis with an atomic script that runs this
same arithmetic); this module decides and computes the next state.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.core.decision import Decision, Outcome
from glassgate.core.reasons import Reason

__all__ = ["QuotaResult", "QuotaTier", "gcra", "limit"]

# Float time: (per / rate) is rarely exact, so a whole burst could lose its last
# request to rounding. A microsecond (above float resolution at Unix time) is far
# below any real interval.
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class QuotaTier:
    """``rate`` requests per ``per`` seconds, with up to ``burst`` at once."""

    name: str
    rate: float
    per: float
    burst: int
    key: str = "principal"

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
