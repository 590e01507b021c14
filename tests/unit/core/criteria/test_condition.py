"""criteria.condition: a CEL expression that must be exactly ``true``; anything else denies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.base import Context, Effect
from glassgate.core.criteria.condition import (
    activation,
    compile_condition,
    compile_expression,
)
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]


def _effect(make_context: MakeContext, source: str, **context: object) -> tuple[Effect, Reason]:
    check = compile_condition(compile_expression(source))
    assert check is not None
    verdict = check(make_context(**context))
    return verdict.effect, verdict.reason


def test_no_condition_compiles_to_no_check() -> None:
    assert compile_condition(None) is None


def test_compile_keeps_source() -> None:
    assert compile_expression("true").source == "true"


@pytest.mark.parametrize(
    ("source", "context", "effect"),
    [
        pytest.param("true", {}, Effect.PASS, id="case=true"),
        pytest.param("false", {}, Effect.DENY, id="case=false"),
        pytest.param("1", {}, Effect.DENY, id="case=number-is-not-true"),
        pytest.param("'true'", {}, Effect.DENY, id="case=string-is-not-true"),
        pytest.param("[true]", {}, Effect.DENY, id="case=list-is-not-true"),
        pytest.param("null", {}, Effect.DENY, id="case=null"),
        pytest.param("claims.missing == 1", {}, Effect.DENY, id="case=missing-claim-error"),
        pytest.param("1 / 0 == 1", {}, Effect.DENY, id="case=division-by-zero"),
        pytest.param("unknown_variable", {}, Effect.DENY, id="case=unknown-variable"),
        pytest.param(
            "claims.department == 'finance'",
            {"claims": {"department": "finance"}},
            Effect.PASS,
            id="case=claim-equal",
        ),
        pytest.param(
            "claims.department == 'finance'",
            {"claims": {"department": "sales"}},
            Effect.DENY,
            id="case=claim-differs",
        ),
        pytest.param(
            "'Admins' in principal.groups", {"groups": {"Admins"}}, Effect.PASS, id="case=group-in"
        ),
        pytest.param(
            "'Admins' in principal.groups",
            {"groups": {"admins"}},
            Effect.DENY,
            id="case=group-exact",
        ),
        pytest.param(
            "request.method == 'GET' && request.path.startsWith('/reports/')",
            {"path": "/reports/q1"},
            Effect.PASS,
            id="case=request",
        ),
        pytest.param(
            "request.ip == '10.0.0.1'", {"ip": "10.0.0.1"}, Effect.PASS, id="case=request-ip"
        ),
        pytest.param("risk.score < 50", {"risk": {"score": 10}}, Effect.PASS, id="case=risk"),
        pytest.param("risk.score < 50", {"risk": {"score": 90}}, Effect.DENY, id="case=risk-high"),
        pytest.param(
            "now - principal.auth_time < 60",
            {"auth_time": 1_700_000_000 - 30},
            Effect.PASS,
            id="case=now-and-auth-time",
        ),
    ],
)
def test_condition(
    make_context: MakeContext, source: str, context: dict[str, object], effect: Effect
) -> None:
    got, reason = _effect(make_context, source, **context)
    assert got is effect
    assert reason is (Reason.CONDITION_OK if effect is Effect.PASS else Reason.CONDITION_DENIED)


def test_evaluation_error_is_not_echoed(make_context: MakeContext) -> None:
    check = compile_condition(compile_expression("claims.secret_claim == 'x'"))
    assert check is not None
    verdict = check(make_context(claims={}))
    assert verdict.effect is Effect.DENY
    assert "secret_claim" not in verdict.detail


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("1 +", id="case=dangling-operator"),
        pytest.param("claims.x ==", id="case=missing-operand"),
        pytest.param("'unterminated", id="case=unterminated-string"),
        pytest.param("", id="case=empty"),
    ],
)
def test_syntax_error_raises_value_error(source: str) -> None:
    with pytest.raises(ValueError, match="Syntax error"):
        compile_expression(source)


def test_activation_shape(make_context: MakeContext) -> None:
    ctx = make_context(
        groups={"b", "a"},
        scopes={"s"},
        amr={"pwd", "mfa"},
        acr=None,
        auth_time=None,
        claims={"sub": "alice"},
        ip="2001:db8::1",
        method="POST",
        path="/x",
        host="api.example",
        now=12.7,
    )
    assert activation(ctx) == {
        "claims": {"sub": "alice"},
        "principal": {
            "sub": "alice",
            "groups": ["a", "b"],
            "scopes": ["s"],
            "amr": ["mfa", "pwd"],
            "acr": "",
            "auth_time": 0,
        },
        "request": {"method": "POST", "path": "/x", "host": "api.example", "ip": "2001:db8::1"},
        "risk": {},
        "now": 12,
    }
