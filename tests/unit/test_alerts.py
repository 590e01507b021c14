"""The Alert value: one line for a human, plain JSON details, never a secret."""

from __future__ import annotations

import pytest

from glassgate.alerts import Alert, Severity, alert_json


def _alert(**overrides: object) -> Alert:
    fields: dict[str, object] = {
        "kind": "breakglass.activation.requested",
        "severity": Severity.WARNING,
        "summary": "okta-recovery asks for break-glass access (INC-1)",
        "at": 1.0,
    }
    fields.update(overrides)
    return Alert(**fields)  # type: ignore[arg-type]


def test_alert_json_is_plain() -> None:
    alert = _alert(details={"approvals": ["alice"], "n": 1})
    assert alert_json(alert) == {
        "kind": "breakglass.activation.requested",
        "severity": "warning",
        "summary": "okta-recovery asks for break-glass access (INC-1)",
        "at": 1.0,
        "details": {"approvals": ["alice"], "n": 1},
        "runbook": None,
    }


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"summary": ""}, id="case=empty-summary"),
        pytest.param({"summary": "two\nlines"}, id="case=multi-line-summary"),
        pytest.param({"summary": "x" * 301}, id="case=long-summary"),
        pytest.param({"kind": "has space"}, id="case=bad-kind"),
        pytest.param({"at": float("nan")}, id="case=nan-time"),
        pytest.param({"summary": "token Bearer abcdefghijkl"}, id="case=bearer-in-summary"),
        pytest.param({"details": {"password": "x"}}, id="case=secret-key"),
        pytest.param({"details": {"x": "eyJhbGciOi.eyJzdWIiOi.sig"}}, id="case=jwt-value"),
        pytest.param({"details": {"x": object()}}, id="case=not-json"),
    ],
)
def test_alert_refuses_bad_or_secret_fields(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails for its own reason
        _alert(**overrides)


def test_alert_details_are_frozen() -> None:
    alert = _alert(details={"a": 1})
    with pytest.raises(TypeError):
        alert.details["a"] = 2  # type: ignore[index]
