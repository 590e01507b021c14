"""The only place a Decision becomes an HTTP answer.

RFC 6750 3: every 401 carries ``WWW-Authenticate: Bearer``; an invalid token adds
``error="invalid_token"``, a missing scope on a 403 ``error="insufficient_scope"``.
RFC 9470 3: a step-up is a 401 with ``error="insufficient_user_authentication"``
and the ``acr_values`` / ``max_age`` the client must bring back.
Rate limits: ``Retry-After`` (RFC 9110 10.2.3) and the IETF RateLimit headers;
a quota store outage on a tier that fails closed: 503 with ``Retry-After``.
Bodies are small JSON documents with a stable ``error`` and ``reason``; they
never echo the token or any claim.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.quota import QuotaResult, QuotaTier
from glassgate.core.reasons import Reason
from glassgate.errors import RequestRejectedError
from glassgate.types import Headers

__all__ = [
    "Answer",
    "answer_for_audit_failure",
    "answer_for_decision",
    "answer_for_rejection",
    "answer_for_unavailable_credential",
    "answer_forbidden",
    "step_up_challenge",
    "with_rate_limit",
]


_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")
_RETRY_AFTER_SECONDS = b"5"  # a store or IdP outage: try again soon, not at once


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Headers
    body: bytes


def _body(error: str, reason: str) -> bytes:
    return json.dumps({"error": error, "reason": reason}, separators=(",", ":")).encode()


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def step_up_challenge(challenge: Challenge | None) -> bytes:
    """The RFC 9470 ``WWW-Authenticate`` value (the gate's step-up, a grant approver's too)."""
    parts = ['Bearer error="insufficient_user_authentication"']
    parts.append('error_description="a stronger or more recent authentication is required"')
    if challenge is not None and challenge.acr_values:
        parts.append(f'acr_values="{_quote(" ".join(challenge.acr_values))}"')
    if challenge is not None and challenge.max_age is not None:
        parts.append(f'max_age="{challenge.max_age}"')
    return ", ".join(parts).encode()


def _challenge(decision: Decision) -> bytes:
    if decision.outcome is Outcome.STEP_UP:
        return step_up_challenge(decision.challenge)
    if decision.reason is Reason.TOKEN_INVALID:
        return b'Bearer error="invalid_token"'
    return b"Bearer"


def answer_for_decision(
    decision: Decision, quota: tuple[QuotaTier, QuotaResult] | None = None
) -> Answer:
    """The answer for a decision that is not ALLOW (the proxy forwards those).

    The status is the outcome's own (``Outcome.status``, the one table); this
    function adds only the headers and body each status needs.
    """
    outcome = decision.outcome
    if outcome is Outcome.ALLOW:  # never answer an allow as a refusal, nor a refusal as 200
        raise ValueError("an allowed decision is forwarded, not answered")
    status = outcome.status
    reason = str(decision.reason)
    headers: Headers = [_JSON, _NO_STORE]
    if outcome in (Outcome.UNAUTHENTICATED, Outcome.STEP_UP):
        headers.append((b"www-authenticate", _challenge(decision)))
        error = "insufficient_user_authentication" if outcome is Outcome.STEP_UP else "unauthorized"
        return Answer(status, headers, _body(error, reason))
    if outcome is Outcome.RATE_LIMITED:
        retry = max(1, math.ceil(decision.retry_after or 1))
        headers.append((b"retry-after", str(retry).encode()))
        headers.extend(rate_limit_headers(quota))
        return Answer(status, headers, _body("rate_limited", reason))
    if outcome is Outcome.UNAVAILABLE:  # a store outage: the client may retry soon
        retry = max(1, math.ceil(decision.retry_after or 1))
        headers.append((b"retry-after", str(retry).encode()))
        return Answer(status, headers, _body("temporarily_unavailable", reason))
    if reason == Reason.SCOPES_INSUFFICIENT:
        headers.append((b"www-authenticate", b'Bearer error="insufficient_scope"'))
    return Answer(status, headers, _body("forbidden", reason))


_RATE_LIMIT_NAMES = frozenset({b"ratelimit-policy", b"ratelimit"})


def with_rate_limit(headers: Headers, quota: tuple[QuotaTier, QuotaResult] | None) -> Headers:
    """An allowed answer's ``headers`` with the quota's, on every metered response.

    The upstream's own ``RateLimit`` headers are replaced on a metered route:
    the client is held to the gateway's quota, and two answers would conflict.
    """
    if quota is None:
        return headers
    kept = [h for h in headers if h[0] not in _RATE_LIMIT_NAMES]
    return kept + rate_limit_headers(quota)


def rate_limit_headers(quota: tuple[QuotaTier, QuotaResult] | None) -> Headers:
    """``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers)."""
    if quota is None:
        return []
    tier, result = quota
    reset = max(0, math.ceil(result.reset_after))
    return [
        (b"ratelimit-policy", tier.policy_header.encode()),
        (b"ratelimit", f'"{tier.name}";r={result.remaining};t={reset}'.encode()),
    ]


def answer_for_rejection(error: RequestRejectedError) -> Answer:
    """Malformed client input: a 4xx/501 with the error's code, never a 5xx."""
    return Answer(error.status, [_JSON, _NO_STORE], _body("bad_request", error.code))


def answer_forbidden(reason: str) -> Answer:
    """403 for a refusal made after the decision (a break-glass body guard, say)."""
    return Answer(403, [_JSON, _NO_STORE], _body("forbidden", reason))


def answer_for_audit_failure() -> Answer:
    """The audit record could not be written: refuse (503), never act unrecorded."""
    headers: Headers = [_JSON, _NO_STORE, (b"retry-after", _RETRY_AFTER_SECONDS)]
    return Answer(503, headers, _body("audit_unavailable", "audit-unavailable"))


def answer_for_unavailable_credential() -> Answer:
    """A credential that matters could not be checked now: 503 with ``Retry-After``.

    Never a 401: that would tell the client its credential is bad when the
    gateway simply could not ask (the key store or the IdP is down).
    """
    headers: Headers = [_JSON, _NO_STORE, (b"retry-after", _RETRY_AFTER_SECONDS)]
    return Answer(503, headers, _body("temporarily_unavailable", "credential-check-unavailable"))
