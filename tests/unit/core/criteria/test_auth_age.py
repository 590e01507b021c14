"""criteria.auth_age: auth_time no older than max_age, not in the future beyond the skew."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.auth_age import AuthAgeConfig, compile_auth_age
from glassgate.core.criteria.base import Context, Effect
from glassgate.core.decision import Challenge
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]

NOW = 1_700_000_000


def test_no_limit_compiles_to_no_check() -> None:
    assert compile_auth_age(None) is None


@pytest.mark.parametrize(
    ("age", "effect"),
    [
        pytest.param(0, Effect.PASS, id="case=just-now"),
        pytest.param(299, Effect.PASS, id="case=fresh"),
        pytest.param(300, Effect.PASS, id="case=exactly-max-age"),
        pytest.param(301, Effect.STEP_UP, id="case=one-second-too-old"),
        pytest.param(86_400, Effect.STEP_UP, id="case=a-day-old"),
        pytest.param(-30, Effect.PASS, id="case=future-within-skew"),
        pytest.param(-31, Effect.STEP_UP, id="case=future-beyond-skew"),
        pytest.param(-86_400, Effect.STEP_UP, id="case=far-future"),
    ],
)
def test_auth_age(make_context: MakeContext, age: int, effect: Effect) -> None:
    check = compile_auth_age(AuthAgeConfig(max_age=300, clock_skew=30.0))
    assert check is not None
    verdict = check(make_context(auth_time=NOW - age, now=float(NOW)))
    assert verdict.effect is effect
    if effect is Effect.PASS:
        assert verdict.reason is Reason.AUTH_AGE_OK
        assert verdict.challenge is None
    else:
        assert verdict.reason is Reason.AUTH_AGE_EXPIRED
        assert verdict.challenge == Challenge(max_age=300)


def test_missing_auth_time_steps_up(make_context: MakeContext) -> None:
    check = compile_auth_age(AuthAgeConfig(max_age=300))
    assert check is not None
    verdict = check(make_context(auth_time=None))
    assert (verdict.effect, verdict.reason) == (Effect.STEP_UP, Reason.AUTH_AGE_EXPIRED)
    assert verdict.challenge == Challenge(max_age=300)
    assert "no auth_time" in verdict.detail


def test_fractional_now_just_past_the_limit_steps_up(make_context: MakeContext) -> None:
    check = compile_auth_age(AuthAgeConfig(max_age=300, clock_skew=0.0))
    assert check is not None
    verdict = check(make_context(auth_time=NOW, now=NOW + 300.5))
    assert verdict.effect is Effect.STEP_UP


def test_default_skew_is_30_seconds(make_context: MakeContext) -> None:
    check = compile_auth_age(AuthAgeConfig(max_age=300))
    assert check is not None
    assert check(make_context(auth_time=NOW + 30, now=float(NOW))).effect is Effect.PASS
    assert check(make_context(auth_time=NOW + 31, now=float(NOW))).effect is Effect.STEP_UP


def test_detail_states_the_age(make_context: MakeContext) -> None:
    check = compile_auth_age(AuthAgeConfig(max_age=300))
    assert check is not None
    assert "301 s ago" in check(make_context(auth_time=NOW - 301, now=float(NOW))).detail
    assert "0 s ago" in check(make_context(auth_time=NOW + 5, now=float(NOW))).detail
