"""examples/reference.yaml against REFERENCE-POLICY.md section 4, case by case.

The cases live in examples/reference-cases.yaml. Each one builds an
AccessRequest and a Principal directly and asks ``core.engine.decide``: this pins
the policy itself, below token verification and HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import yaml

from glassgate.config.load import LoadedConfig, load_config
from glassgate.core.decision import Challenge, Decision, Outcome
from glassgate.core.engine import decide
from glassgate.core.paths import canonical_path
from glassgate.core.principal import Principal
from glassgate.core.request import AccessRequest
from glassgate.errors import PathRejectedError

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "examples" / "reference.yaml"
CASES_FILE = ROOT / "examples" / "reference-cases.yaml"

ENV = {
    "GLASSGATE_ISSUER": "http://127.0.0.1:9400",
    "GLASSGATE_AUDIENCE": "api://gateway",
    "GLASSGATE_UPSTREAM": "http://127.0.0.1:9000",
    "GLASSGATE_LISTEN": "127.0.0.1:8080",
}

PATH_REJECTED = "path-rejected"

# One case per row of REFERENCE-POLICY.md section 4 must stay in the vector file.
REQUIRED_CASES = frozenset(
    {
        "public-any-token",
        "publicity",
        "public-admin",
        "upper-case-admin",
        "unknown-path-admin-token",
        "reports-analyst",
        "reports-contractor",
        "reports-analyst-and-contractor-deny-wins",
        "reports-neither",
        "admin-without-admins",
        "admin-without-mfa",
        "admin-mfa-301-seconds-old",
        "admin-auth-time-in-the-future-beyond-leeway",
        "admin-mfa-fresh",
        "admin-fullwidth-lookalike",
        "admin-lowercase-lookalike",
        "admin-trailing-space-lookalike",
        "breakglass-from-other-address",
        "breakglass-without-group",
        "breakglass-wrong-acr",
        "breakglass-all-good",
    }
)


def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    return data


VECTORS = _vectors()
NOW: int = VECTORS["now"]
CASES: list[dict[str, Any]] = VECTORS["cases"]


@pytest.fixture(scope="module")
def reference() -> LoadedConfig:
    return load_config(REFERENCE, env=ENV)


def _principal(claims: Mapping[str, Any] | None) -> Principal | None:
    if claims is None:
        return None
    age = claims["auth_age_seconds"]
    return Principal(
        subject=claims["sub"],
        issuer=ENV["GLASSGATE_ISSUER"],
        groups=frozenset(claims["groups"]),
        amr=frozenset(claims["amr"]),
        acr=claims["acr"],
        auth_time=None if age is None else NOW - age,
        claims=dict(claims),
    )


def _request(request: Mapping[str, str]) -> AccessRequest:
    return AccessRequest(
        method=request["method"],
        path=canonical_path(request["path"]),
        client_ip=ip_address(request["ip"]),
    )


def _decide(reference: LoadedConfig, case: Mapping[str, Any]) -> Decision:
    return decide(
        reference.compiled.policy, _request(case["request"]), _principal(case["claims"]), NOW
    )


def test_reference_config_takes_the_environment(reference: LoadedConfig) -> None:
    config = reference.config
    assert config.listen == ENV["GLASSGATE_LISTEN"]
    assert config.issuers[0].issuer == ENV["GLASSGATE_ISSUER"]
    assert config.issuers[0].audiences == (ENV["GLASSGATE_AUDIENCE"],)
    assert config.issuers[0].algorithms == ("RS256", "ES256")
    assert config.issuers[0].leeway <= 60
    assert config.upstreams[0].targets == (ENV["GLASSGATE_UPSTREAM"],)
    assert config.trusted_proxies == ()
    assert [route.id for route in config.routes] == ["public", "reports", "admin", "breakglass"]


def test_reference_config_loads_with_its_defaults_but_the_issuer() -> None:
    config = load_config(REFERENCE, env={"GLASSGATE_ISSUER": "http://127.0.0.1:9400"}).config
    assert config.issuers[0].issuer == "http://127.0.0.1:9400"
    assert config.listen == "127.0.0.1:8080"
    assert config.issuers[0].audiences == ("api://gateway",)


def test_vector_file_covers_every_row() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names are unique"
    assert set(names) >= REQUIRED_CASES
    outcomes = {case["expect"]["outcome"] for case in CASES}
    stateful = (Outcome.RATE_LIMITED, Outcome.UNAVAILABLE)  # they need a quota store's state
    assert outcomes == {*(o.value for o in Outcome if o not in stateful), PATH_REJECTED}
    routes = {case["expect"]["route"] for case in CASES}
    assert routes == {"public", "reports", "admin", "breakglass", None}


@pytest.mark.parametrize("case", [pytest.param(c, id=f"case={c['name']}") for c in CASES])
def test_reference_case(reference: LoadedConfig, case: Mapping[str, Any]) -> None:
    expect = case["expect"]
    if expect["outcome"] == PATH_REJECTED:
        with pytest.raises(PathRejectedError):
            _request(case["request"])
        return
    decision = _decide(reference, case)
    assert decision.outcome.value == expect["outcome"]
    assert decision.route_id == expect["route"]
    assert decision.would_be is None
    if decision.outcome is Outcome.STEP_UP:
        # Decision.reason is the last reason, which may be a later -ok (see test_engine).
        assert expect["reason"] in decision.reasons
        assert decision.challenge is not None
    else:
        assert decision.reason.value == expect["reason"]
        assert decision.challenge is None
    if "challenge" in expect:
        wanted = expect["challenge"]
        assert decision.challenge == Challenge(tuple(wanted["acr_values"]), wanted["max_age"])
