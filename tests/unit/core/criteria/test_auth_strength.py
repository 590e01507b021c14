"""criteria.auth_strength: amr / acr against a strength level; short means step-up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from glassgate.core.criteria.auth_strength import StrengthLevel, compile_auth_strength, meets
from glassgate.core.criteria.base import Context, Effect
from glassgate.core.decision import Challenge
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason

MakeContext = Callable[..., Context]

MFA = StrengthLevel("mfa", amr=frozenset({"mfa"}))
BREAKGLASS = StrengthLevel("breakglass", acr=("urn:example:loa:breakglass",))
PHISHING_RESISTANT = StrengthLevel(
    "phishing_resistant", acr=("phr", "phrh"), amr_all=frozenset({"mfa", "hwk"})
)


def _principal(amr: tuple[str, ...] = (), acr: str | None = None) -> Principal:
    return Principal(subject="s", issuer="i", amr=frozenset(amr), acr=acr)


@pytest.mark.parametrize(
    ("level", "amr", "acr", "expected"),
    [
        pytest.param(MFA, ("pwd", "mfa"), None, True, id="case=mfa-in-amr"),
        pytest.param(MFA, ("pwd",), None, False, id="case=password-only"),
        pytest.param(MFA, (), None, False, id="case=no-amr"),
        pytest.param(MFA, ("MFA",), None, False, id="case=amr-case"),
        pytest.param(MFA, ("mfa ",), None, False, id="case=amr-trailing-space"),
        pytest.param(MFA, ("pwd mfa",), None, False, id="case=amr-joined"),
        pytest.param(MFA, ("pwd",), "urn:example:loa:2fa", False, id="case=acr-not-listed"),
        pytest.param(BREAKGLASS, (), "urn:example:loa:breakglass", True, id="case=acr-listed"),
        pytest.param(BREAKGLASS, ("mfa", "hwk"), None, False, id="case=amr-cannot-stand-in"),
        pytest.param(BREAKGLASS, (), "URN:example:loa:breakglass", False, id="case=acr-case"),
        pytest.param(BREAKGLASS, (), "urn:example:loa:breakglass ", False, id="case=acr-space"),
        pytest.param(
            BREAKGLASS, ("urn:example:loa:breakglass",), None, False, id="case=acr-in-amr"
        ),
        pytest.param(PHISHING_RESISTANT, ("mfa", "hwk"), None, True, id="case=amr-all"),
        pytest.param(PHISHING_RESISTANT, ("mfa",), None, False, id="case=amr-all-partial"),
        pytest.param(PHISHING_RESISTANT, ("pwd",), "phrh", True, id="case=acr-alternative"),
        pytest.param(StrengthLevel("empty"), ("mfa", "hwk"), "phr", False, id="case=empty-level"),
    ],
)
def test_meets(level: StrengthLevel, amr: tuple[str, ...], acr: str | None, expected: bool) -> None:
    assert meets(_principal(amr, acr), level) is expected


def test_no_level_compiles_to_no_check() -> None:
    assert compile_auth_strength(None) is None


def test_met_level_passes(make_context: MakeContext) -> None:
    check = compile_auth_strength(MFA)
    assert check is not None
    verdict = check(make_context(amr={"pwd", "mfa"}))
    assert (verdict.effect, verdict.reason) == (Effect.PASS, Reason.AUTH_STRENGTH_OK)
    assert verdict.challenge is None


def test_short_strength_is_step_up_with_the_level_acr_values(make_context: MakeContext) -> None:
    check = compile_auth_strength(BREAKGLASS)
    assert check is not None
    verdict = check(make_context(acr="urn:example:loa:2fa", amr={"mfa"}))
    assert (verdict.effect, verdict.reason) == (Effect.STEP_UP, Reason.AUTH_STRENGTH_INSUFFICIENT)
    assert verdict.challenge == Challenge(acr_values=("urn:example:loa:breakglass",))
    assert "breakglass" in verdict.detail


def test_amr_only_level_steps_up_without_acr_values(make_context: MakeContext) -> None:
    check = compile_auth_strength(MFA)
    assert check is not None
    verdict = check(make_context(amr={"pwd"}))
    assert verdict.effect is Effect.STEP_UP
    assert verdict.challenge == Challenge()
