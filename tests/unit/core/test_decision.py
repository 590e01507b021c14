"""core.decision: outcomes, their statuses, challenges and the deciding reason."""

from __future__ import annotations

import pytest

from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.reasons import Reason


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        pytest.param(Outcome.ALLOW, 200, id="case=allow"),
        pytest.param(Outcome.UNAUTHENTICATED, 401, id="case=unauthenticated"),
        pytest.param(Outcome.STEP_UP, 401, id="case=step-up"),
        pytest.param(Outcome.DENY, 403, id="case=deny"),
        pytest.param(Outcome.RATE_LIMITED, 429, id="case=rate-limited"),
    ],
)
def test_status(outcome: Outcome, status: int) -> None:
    assert outcome.status == status


def test_every_outcome_has_a_status() -> None:
    assert {outcome.status for outcome in Outcome} == {200, 401, 403, 429, 503}


@pytest.mark.parametrize(
    ("left", "right", "merged"),
    [
        pytest.param(
            Challenge(acr_values=("a",)),
            Challenge(max_age=300),
            Challenge(acr_values=("a",), max_age=300),
            id="case=acr-and-age",
        ),
        pytest.param(
            Challenge(acr_values=("a", "b")),
            Challenge(acr_values=("b", "c")),
            Challenge(acr_values=("a", "b", "c")),
            id="case=acr-union-keeps-order",
        ),
        pytest.param(
            Challenge(max_age=600),
            Challenge(max_age=300),
            Challenge(max_age=300),
            id="case=min-age",
        ),
        pytest.param(Challenge(), Challenge(), Challenge(), id="case=empty"),
    ],
)
def test_challenge_merge(left: Challenge, right: Challenge, merged: Challenge) -> None:
    assert left.merge(right) == merged


def test_reason_is_the_last_reason() -> None:
    decision = Decision(Outcome.DENY, "r", (Reason.ROUTE_OK, Reason.GROUPS_DENIED))
    assert decision.reason is Reason.GROUPS_DENIED
    assert not decision.allowed


def test_reason_without_reasons_is_route_not_found() -> None:
    assert Decision(Outcome.DENY, None, ()).reason is Reason.ROUTE_NOT_FOUND


def test_allowed() -> None:
    assert Decision(Outcome.ALLOW, "r", (Reason.ROUTE_OK,)).allowed
    assert not Decision(Outcome.STEP_UP, "r", (Reason.ROUTE_OK,)).allowed


def test_reasons_are_unique_kebab_case() -> None:
    values = {reason.value for reason in Reason}
    for value in values:
        assert value == value.lower()
        assert "_" not in value
        assert " " not in value
    assert len(values) == len(Reason)
