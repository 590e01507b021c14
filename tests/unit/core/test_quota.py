"""core.quota: GCRA arithmetic over one theoretical arrival time, and ``limit()``."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgate.core.decision import Decision, Outcome
from glassgate.core.policy import CompiledRoute
from glassgate.core.principal import CredentialKind, Principal
from glassgate.core.quota import (
    STORE_RETRY_AFTER,
    QuotaResult,
    QuotaTier,
    bucket_key,
    gcra,
    limit,
    store_down,
    tier_for,
)
from glassgate.core.reasons import Reason
from glassgate.tokens.api_keys import API_KEY_ISSUER

NOW = 1_700_000_000.0


def _burst(
    tier: QuotaTier, now: float, tat: float | None = None
) -> tuple[list[QuotaResult], float | None]:
    """Send requests at one instant until one is refused; return every result and the TAT."""
    results: list[QuotaResult] = []
    for _ in range(tier.burst + 5):
        result = gcra(tier, tat, now)
        results.append(result)
        if not result.allowed:
            break
        tat = result.tat
    return results, tat


def test_interval_and_policy_header() -> None:
    tier = QuotaTier("standard", rate=10, per=60, burst=5)
    assert tier.interval == 6.0
    assert tier.policy_header == '"standard";q=10;w=60'


def test_burst_then_limited() -> None:
    tier = QuotaTier("t", rate=2, per=1, burst=4)  # interval 0.5 s
    results, _ = _burst(tier, NOW)
    assert [r.allowed for r in results] == [True, True, True, True, False]
    assert [r.remaining for r in results] == [3, 2, 1, 0, 0]
    assert results[-1].retry_after == 0.5


def test_refusal_leaves_state_unchanged() -> None:
    tier = QuotaTier("t", rate=1, per=1, burst=1)
    first = gcra(tier, None, NOW)
    refused = gcra(tier, first.tat, NOW)
    assert not refused.allowed
    assert refused.tat == first.tat
    again = gcra(tier, refused.tat, NOW)
    assert (again.allowed, again.retry_after) == (False, refused.retry_after)


def test_retry_after_is_accurate() -> None:
    tier = QuotaTier("t", rate=1, per=4, burst=2)  # interval 4 s
    results, tat = _burst(tier, NOW)
    refused = results[-1]
    assert refused.retry_after == 4.0
    assert refused.reset_after == 8.0
    assert not gcra(tier, tat, NOW + refused.retry_after - 0.001).allowed
    assert gcra(tier, tat, NOW + refused.retry_after).allowed


def test_recovery_after_one_interval_is_one_request() -> None:
    tier = QuotaTier("t", rate=2, per=1, burst=4)
    _, tat = _burst(tier, NOW)
    later = NOW + tier.interval
    first = gcra(tier, tat, later)
    assert first.allowed
    assert not gcra(tier, first.tat, later).allowed


def test_full_recovery_after_the_whole_window() -> None:
    tier = QuotaTier("t", rate=2, per=1, burst=4)
    _, tat = _burst(tier, NOW)
    results, _ = _burst(tier, NOW + 2.0, tat)
    assert sum(r.allowed for r in results) == 4


def test_idle_time_does_not_accumulate_beyond_the_burst() -> None:
    tier = QuotaTier("t", rate=2, per=1, burst=4)
    _, tat = _burst(tier, NOW)
    results, _ = _burst(tier, NOW + 3600.0, tat)
    assert sum(r.allowed for r in results) == 4


def test_steady_rate_is_never_limited() -> None:
    tier = QuotaTier("t", rate=4, per=1, burst=1)
    tat = None
    for i in range(20):
        result = gcra(tier, tat, NOW + i * 0.25)
        assert result.allowed
        tat = result.tat


_powers = st.integers(min_value=-6, max_value=6).map(lambda e: 2.0**e)


@settings(max_examples=150, deadline=None)
@given(
    per=_powers,
    rate=_powers,
    burst=st.integers(min_value=1, max_value=20),
    now=st.integers(min_value=0, max_value=2_000_000_000).map(float),
)
def test_exactly_burst_requests_at_one_instant(
    per: float, rate: float, burst: int, now: float
) -> None:
    # Binary fractions keep the arithmetic exact; see the xfail below for other rates.
    tier = QuotaTier("t", rate=rate, per=per, burst=burst)
    results, tat = _burst(tier, now)
    assert [r.allowed for r in results] == [True] * burst + [False]
    assert [r.remaining for r in results[:-1]] == list(range(burst - 1, -1, -1))
    assert results[-1].retry_after == tier.interval
    assert gcra(tier, tat, now + tier.interval).allowed


@pytest.mark.parametrize(
    ("rate", "per", "burst", "now"),
    [
        pytest.param(3, 1, 3, 1000.0, id="case=3-per-second"),
        pytest.param(10, 1, 10, 1000.0, id="case=10-per-second"),
        pytest.param(5, 1, 5, NOW, id="case=5-per-second-at-unix-time"),
        pytest.param(7, 3, 7, NOW, id="case=7-per-3-seconds"),
    ],
)
def test_burst_is_exact_for_any_rate(rate: float, per: float, burst: int, now: float) -> None:
    tier = QuotaTier("t", rate=rate, per=per, burst=burst)
    results, _ = _burst(tier, now)
    assert [r.allowed for r in results] == [True] * burst + [False]
    assert results[-1].retry_after == pytest.approx(tier.interval, abs=1e-5)


# --- limit() -----------------------------------------------------------------------------------

_ALLOW = Decision(Outcome.ALLOW, "app", (Reason.ROUTE_OK, Reason.GROUPS_OK), quota_tier="t")
_REFUSED = QuotaResult(allowed=False, tat=NOW + 5, retry_after=2.5, remaining=0, reset_after=5)
_ACCEPTED = QuotaResult(allowed=True, tat=NOW + 1, retry_after=0.0, remaining=3, reset_after=1)


def test_limit_turns_allow_into_rate_limited() -> None:
    assert limit(_ALLOW, _REFUSED) == Decision(
        Outcome.RATE_LIMITED,
        "app",
        (Reason.ROUTE_OK, Reason.GROUPS_OK, Reason.QUOTA_EXCEEDED),
        retry_after=2.5,
        quota_tier="t",
    )


def test_limit_keeps_an_allow_within_quota() -> None:
    assert limit(_ALLOW, _ACCEPTED) is _ALLOW


@pytest.mark.parametrize(
    "outcome", [Outcome.DENY, Outcome.STEP_UP, Outcome.UNAUTHENTICATED, Outcome.RATE_LIMITED]
)
def test_limit_never_changes_a_non_allow(outcome: Outcome) -> None:
    decision = Decision(outcome, "app", (Reason.ROUTE_OK,))
    assert limit(decision, _REFUSED) is decision


# --- which tier, whose bucket (SPEC C4) -----------------------------------------------

TIERS = {
    "route-tier": QuotaTier("route-tier", rate=10, per=1, burst=10),
    "machine": QuotaTier("machine", rate=1, per=1, burst=1, key="api_key"),
}
ALLOWED = Decision(Outcome.ALLOW, "r", (Reason.ROUTE_OK,), quota_tier="route-tier")
UNMETERED = Decision(Outcome.ALLOW, "r", (Reason.ROUTE_OK,))
ROUTE = CompiledRoute("r", ())
ANONYMOUS = CompiledRoute("r", (), anonymous=True)
PERSON = Principal("alice", "https://idp", quota_tier="machine")  # a JWT: its tier is ignored
KEY = Principal(
    "svc:ci", API_KEY_ISSUER, kind=CredentialKind.API_KEY, token_id="k1", quota_tier="machine"
)


@pytest.mark.parametrize(
    ("decision", "route", "principal", "expected"),
    [
        pytest.param(ALLOWED, ROUTE, None, "route-tier", id="case=no-principal-route-tier"),
        pytest.param(ALLOWED, ROUTE, PERSON, "route-tier", id="case=jwt-keeps-route-tier"),
        pytest.param(ALLOWED, ROUTE, KEY, "machine", id="case=key-tier-replaces-route-tier"),
        pytest.param(UNMETERED, ROUTE, KEY, "machine", id="case=key-tier-on-unmetered-route"),
        pytest.param(UNMETERED, ANONYMOUS, KEY, None, id="case=anonymous-never-metered"),
        pytest.param(ALLOWED, None, KEY, "route-tier", id="case=no-route-keeps-decision"),
        pytest.param(
            ALLOWED,
            ROUTE,
            replace(KEY, quota_tier="gone"),
            "route-tier",
            id="case=unconfigured-key-tier-keeps-route-tier",
        ),
        pytest.param(
            UNMETERED, ROUTE, replace(KEY, quota_tier=None), None, id="case=key-without-tier"
        ),
    ],
)
def test_tier_for(
    decision: Decision, route: CompiledRoute | None, principal: Principal | None, expected: str
) -> None:
    assert tier_for(decision, route, principal, TIERS) == expected


CLIENT = ip_address("198.51.100.7")


@pytest.mark.parametrize(
    ("key", "principal", "expected"),
    [
        pytest.param("client_ip", KEY, "198.51.100.7", id="case=client-ip"),
        pytest.param("api_key", KEY, "api-key\x00k1", id="case=per-key"),
        pytest.param("api_key", PERSON, "https://idp\x00alice", id="case=api-key-tier-meets-a-jwt"),
        pytest.param(
            "api_key",
            replace(KEY, token_id=None),
            f"{API_KEY_ISSUER}\x00svc:ci",
            id="case=key-without-id-counts-per-principal",
        ),
        pytest.param("principal", KEY, f"{API_KEY_ISSUER}\x00svc:ci", id="case=principal"),
    ],
)
def test_bucket_key(key: str, principal: Principal, expected: str) -> None:
    tier = QuotaTier("t", rate=1, per=1, burst=1, key=key)
    assert bucket_key(tier, principal, CLIENT) == expected


def test_one_subject_at_two_issuers_fills_two_buckets() -> None:
    tier = QuotaTier("t", rate=1, per=1, burst=1)
    first, second = Principal("x", "https://idp-1"), Principal("x", "https://idp-2")
    assert bucket_key(tier, first, CLIENT) != bucket_key(tier, second, CLIENT)
    assert bucket_key(tier, first, CLIENT) == bucket_key(tier, replace(first), CLIENT)


# --- store_down: the tier's when_store_down -----------------------------------------------------


def test_a_tier_that_fails_closed_answers_unavailable_not_rate_limited() -> None:
    allow = Decision(Outcome.ALLOW, "api", (Reason.ROUTE_OK,), quota_tier="std")
    down = store_down(allow, QuotaTier("std", rate=1, per=1, burst=1))
    assert down.outcome is Outcome.UNAVAILABLE
    assert down.outcome.status == 503
    assert down.reason is Reason.QUOTA_STORE_UNAVAILABLE
    assert down.retry_after == STORE_RETRY_AFTER
    assert (down.route_id, down.quota_tier) == ("api", "std")


def test_a_tier_that_fails_open_keeps_the_allow_and_says_why() -> None:
    would_be = Decision(Outcome.DENY, "api", (Reason.GROUPS_DENIED,))
    allow = Decision(
        Outcome.ALLOW, "api", (Reason.REPORT_ONLY,), quota_tier="std", would_be=would_be
    )
    passed = store_down(allow, QuotaTier("std", rate=1, per=1, burst=1, fail_open=True))
    assert passed.allowed
    assert passed.reasons == (Reason.REPORT_ONLY, Reason.QUOTA_STORE_UNAVAILABLE)
    assert (passed.quota_tier, passed.would_be, passed.retry_after) == ("std", would_be, None)
