"""config.compile: a validated config becomes core objects once, at load time."""

from __future__ import annotations

from ipaddress import ip_address
from textwrap import dedent

import pytest

from glassgate.config import compile as compile_module
from glassgate.config.load import load_config_text
from glassgate.core.criteria import CRITERIA_ORDER
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.engine import decide
from glassgate.core.policy import CompiledRoute, Policy
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.errors import ConfigError

ISSUER = "http://127.0.0.1:9400"
NOW = 1_700_000_000.0

CONFIG = """\
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
    leeway: 20s
  - id: partner
    issuer: https://partner.example
    audiences: [api://gateway]
    leeway: 45s
networks:
  office: [10.1.0.0/16, 10.2.0.0/16]
quotas:
  standard: {rate: 10, per: 1m, burst: 5, key: client_ip}
auth_strength:
  mfa: {amr: [otp]}
routes:
  - id: everything
    match: {path: /everything/*}
    issuers: [partner]
    quota: standard
    enforcement: report-only
    allow: {groups: [A], networks: [office]}
    deny: {groups: [B], networks: [10.1.9.0/24]}
    require:
      scopes: [read]
      time_window: {timezone: UTC}
      condition: "true"
      auth_strength: mfa
      max_auth_age: 5m
  - id: plain
    match: {path: /plain, methods: [GET], hosts: [api.example]}
    pilot_groups: [Pilot]
"""


def _load(text: str = CONFIG) -> Policy:
    return load_config_text(text, "gate.yaml", {}).compiled.policy


def _route(policy: Policy, path: str, method: str = "GET", host: str = "") -> CompiledRoute:
    _, route = policy.routes.lookup(method, host, path)
    assert route is not None
    return route


def test_criteria_are_compiled_in_the_documented_order() -> None:
    route = _route(_load(), "/everything/x")
    assert [c.name for c in route.criteria] == [
        "network",
        "groups",
        "scopes",
        "time_window",
        "condition",
        "auth_strength",
        "auth_age",
    ]
    assert tuple(c.name for c in route.criteria) == CRITERIA_ORDER


def test_a_criterion_missing_from_criteria_order_fails_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compile_module, "CRITERIA_ORDER", ("network", "groups"))
    with pytest.raises(ValueError, match="CRITERIA_ORDER"):
        _load()


def test_route_attributes() -> None:
    policy = _load()
    everything = _route(policy, "/everything")
    assert everything.issuers == frozenset({"https://partner.example"})
    assert everything.quota_tier == "standard"
    assert everything.report_only
    assert everything.upstream is None
    plain = _route(policy, "/plain", "GET", "api.example")
    assert plain.criteria == ()
    assert plain.pilot_groups == frozenset({"Pilot"})
    assert not plain.report_only
    assert policy.routes.lookup("POST", "api.example", "/plain")[1] is None
    assert policy.routes.lookup("GET", "other.example", "/plain")[1] is None


def test_quota_tiers() -> None:
    tiers = load_config_text(CONFIG, "gate.yaml", {}).compiled.quota_tiers
    tier = tiers["standard"]
    assert (tier.name, tier.rate, tier.per, tier.burst, tier.key) == (
        "standard",
        10,
        60.0,
        5,
        "client_ip",
    )


def _principal(**kw: object) -> Principal:
    base: dict[str, object] = {
        "subject": "alice",
        "issuer": "https://partner.example",
        "groups": frozenset({"A"}),
        "scopes": frozenset({"read"}),
        "amr": frozenset({"otp"}),
        "auth_time": int(NOW) - 10,
    }
    base.update(kw)
    return Principal(**base)  # type: ignore[arg-type]


def _decide(principal: Principal, ip: str = "10.2.0.1") -> Decision:
    """The enforced decision (the route is report-only, so that is ``would_be``)."""
    request = AccessRequest("GET", "/everything/x", ip_address(ip))
    decision = decide(_load(), request, principal, NOW)
    return decision.would_be or decision


@pytest.mark.parametrize(
    ("principal", "ip", "expected"),
    [
        pytest.param(
            _principal(), "10.2.0.1", (Outcome.ALLOW, Reason.AUTH_AGE_OK), id="case=all-ok"
        ),
        pytest.param(
            _principal(), "10.3.0.1", (Outcome.DENY, Reason.NETWORK_DENIED), id="case=named-network"
        ),
        pytest.param(
            _principal(), "10.1.9.9", (Outcome.DENY, Reason.NETWORK_DENIED), id="case=deny-cidr"
        ),
        pytest.param(
            _principal(groups=frozenset({"A", "B"})),
            "10.2.0.1",
            (Outcome.DENY, Reason.GROUP_DENYLISTED),
            id="case=deny-group",
        ),
        pytest.param(
            _principal(scopes=frozenset()),
            "10.2.0.1",
            (Outcome.DENY, Reason.SCOPES_INSUFFICIENT),
            id="case=scopes",
        ),
        pytest.param(
            _principal(amr=frozenset({"mfa"})),
            "10.2.0.1",
            (Outcome.STEP_UP, Reason.AUTH_STRENGTH_INSUFFICIENT),
            id="case=configured-level-replaces-default",
        ),
    ],
)
def test_compiled_criteria_decide(
    principal: Principal, ip: str, expected: tuple[Outcome, Reason]
) -> None:
    outcome, reason = expected
    decision = _decide(principal, ip)
    assert decision.outcome is outcome
    assert reason in decision.reasons


def test_max_auth_age_and_skew_come_from_config() -> None:
    # max_auth_age 5m = 300 s; the skew is the largest issuer leeway (45 s).
    assert _decide(_principal(auth_time=int(NOW) - 300)).outcome is Outcome.ALLOW
    old = _decide(_principal(auth_time=int(NOW) - 301))
    assert (old.outcome, old.reason, old.challenge) == (
        Outcome.STEP_UP,
        Reason.AUTH_AGE_EXPIRED,
        Challenge(max_age=300),
    )
    assert _decide(_principal(auth_time=int(NOW) + 45)).outcome is Outcome.ALLOW
    assert _decide(_principal(auth_time=int(NOW) + 46)).outcome is Outcome.STEP_UP


def test_default_strength_levels_are_available() -> None:
    text = CONFIG.replace("auth_strength:\n  mfa: {amr: [otp]}\n", "").replace(
        "auth_strength: mfa", "auth_strength: phishing_resistant"
    )
    policy = _load(text)
    request = AccessRequest("GET", "/everything/x", ip_address("10.2.0.1"))
    ok = decide(policy, request, _principal(amr=frozenset({"mfa", "hwk"})), NOW)
    assert ok.would_be is None
    assert ok.allowed
    short = decide(policy, request, _principal(amr=frozenset({"mfa"})), NOW).would_be
    assert short is not None
    assert short.outcome is Outcome.STEP_UP
    assert short.challenge is not None
    assert "phr" in short.challenge.acr_values


def test_route_limited_to_an_empty_named_network_admits_nobody() -> None:
    text = dedent(
        """\
        version: 1
        issuers: [{id: idp, issuer: "http://127.0.0.1:9400", audiences: [api://gateway]}]
        networks:
          lockdown: []
        routes:
          - id: r
            match: {path: /r/*}
            allow: {networks: [lockdown]}
        """
    )
    request = AccessRequest("GET", "/r/x", ip_address("203.0.113.9"))
    principal = Principal(subject="alice", issuer=ISSUER)
    try:
        policy = _load(text)
    except ConfigError:
        return  # refusing the config is an acceptable fix too
    assert decide(policy, request, principal, NOW).outcome is Outcome.DENY
