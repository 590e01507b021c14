"""criteria.scopes: every required scope must have been granted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.base import Context, Effect
from glassgate.core.criteria.scopes import ScopesConfig, compile_scopes
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]


def test_no_scopes_compiles_to_no_check() -> None:
    assert compile_scopes(ScopesConfig()) is None


@pytest.mark.parametrize(
    ("granted", "effect"),
    [
        pytest.param({"read", "write"}, Effect.PASS, id="case=all-granted"),
        pytest.param({"read", "write", "admin"}, Effect.PASS, id="case=superset"),
        pytest.param({"read"}, Effect.DENY, id="case=one-missing"),
        pytest.param(set(), Effect.DENY, id="case=none"),
        pytest.param({"read write"}, Effect.DENY, id="case=space-joined-string"),
        pytest.param({"READ", "WRITE"}, Effect.DENY, id="case=case-differs"),
    ],
)
def test_required_scopes(make_context: MakeContext, granted: set[str], effect: Effect) -> None:
    check = compile_scopes(ScopesConfig(frozenset({"read", "write"})))
    assert check is not None
    verdict = check(make_context(scopes=granted))
    assert verdict.effect is effect
    assert verdict.reason is (
        Reason.SCOPES_OK if effect is Effect.PASS else Reason.SCOPES_INSUFFICIENT
    )


def test_detail_lists_missing_scopes(make_context: MakeContext) -> None:
    check = compile_scopes(ScopesConfig(frozenset({"read", "write"})))
    assert check is not None
    assert "write" in check(make_context(scopes={"read"})).detail
