"""The compiled policy's invariants, and alert summaries that never break on a missing value."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from glassgate.alerts import Severity
from glassgate.workflows.events import Event
from glassgate.workflows.notices import alert_for
from glassgate.workflows.policy import BreakglassPolicy


@pytest.mark.parametrize(
    "fields",
    [
        {"quorum": 0},
        {"session_ttl": 0.0},
        {"session_ttl": 1900.0, "max_session": 1800.0},
        {"max_session": 3601.0},
    ],
)
def test_policy_invariants(fields: dict[str, object]) -> None:
    base: dict[str, object] = {
        "accounts": {},
        "custodians": frozenset(),
        "quorum": 1,
        "recovery_routes": (),
    }
    with pytest.raises(ValueError):  # noqa: PT011
        BreakglassPolicy(**{**base, **fields})  # type: ignore[arg-type]


def test_custodian_networks() -> None:
    anywhere = BreakglassPolicy({}, frozenset(), 1, ())
    assert anywhere.custodian_may_sign_in(ip_address("192.0.2.1"))
    office = BreakglassPolicy(
        {}, frozenset(), 1, (), custodian_networks=(ip_network("10.0.0.0/8"),)
    )
    assert office.custodian_may_sign_in(ip_address("10.1.1.1"))
    assert not office.custodian_may_sign_in(ip_address("192.0.2.1"))


def test_alert_summaries() -> None:
    event = Event("activation.requested", 5.0, "breakglass:ops", "ops", {})
    alert = alert_for(event, "README.md#x")
    assert alert is not None
    assert alert.summary == "break-glass: ops asks for activation (-)"
    assert alert.severity is Severity.WARNING
    assert alert_for(Event("identity.created", 5.0, "cli:root", "ops"), "x") is None
