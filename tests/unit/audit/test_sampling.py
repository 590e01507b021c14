from __future__ import annotations

import pytest

from glassgate.audit.sampling import is_sampleable, sample
from tests.support.audit import event


def test_allowed_ordinary_traffic_is_sampled_by_the_draw() -> None:
    allowed = event(0)
    assert sample(allowed, 0.1, draw=0.5) is None
    kept = sample(allowed, 0.1, draw=0.05)
    assert kept is not None
    assert kept.sample_rate == 0.1


def test_full_rate_keeps_everything_unmarked() -> None:
    assert sample(event(0), 1.0, draw=0.99) == event(0)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"outcome": "deny"}, id="case=denial"),
        pytest.param({"outcome": "step-up"}, id="case=step-up"),
        pytest.param({"outcome": "unauthenticated"}, id="case=unauthenticated"),
        pytest.param({"outcome": "rate-limited"}, id="case=rate-limited"),
        pytest.param({"privileged": True}, id="case=privileged-decision"),
        pytest.param({"type": "breakglass.use", "outcome": "allow"}, id="case=breakglass"),
        pytest.param({"type": "admin.route-update", "outcome": "allow"}, id="case=admin"),
        pytest.param({"type": "config.reload", "outcome": "allow"}, id="case=config-reload"),
        pytest.param({"details": {"would_be": "deny"}}, id="case=report-only-would-deny"),
    ],
)
def test_never_sampled(overrides: dict[str, object]) -> None:
    candidate = event(0, **overrides)
    assert not is_sampleable(candidate)
    assert sample(candidate, 0.0, draw=0.999) is candidate


def test_report_only_would_allow_is_sampleable() -> None:
    assert is_sampleable(event(0, details={"would_be": "allow"}))


def test_rate_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        sample(event(0), 1.5, draw=0.1)
