"""adapters.http.identity_out from vectors (tests/vectors/http/identity_out.yaml), and the
one audience rule of ``upstream_identity``, shared by the proxy and forward-auth doors."""

from __future__ import annotations

import base64
import json
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import yaml

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import (
    forwardable,
    identity_headers,
    is_stripped,
    upstream_identity,
)
from glassgate.adapters.http.inbound import RequestFacts
from glassgate.core.decision import Decision, Outcome
from glassgate.core.policy import CompiledRoute
from glassgate.core.principal import Principal
from glassgate.core.reasons import Reason
from glassgate.core.request import AccessRequest
from glassgate.tokens.downstream import IdentitySigner
from tests.support.clock import NOW

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "http" / "identity_out.yaml"
_DATA: dict[str, Any] = yaml.safe_load(VECTORS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", _DATA["stripped"])
def test_stripped(name: str) -> None:
    assert is_stripped(name.encode())
    assert forwardable([(name.encode(), b"v")]) == []


@pytest.mark.parametrize("name", _DATA["kept"])
def test_kept(name: str) -> None:
    assert not is_stripped(name.encode())
    assert forwardable([(name.encode(), b"v")]) == [(name.encode(), b"v")]


def test_headers_named_in_connection_are_stripped_too() -> None:
    headers = [(b"connection", b"close, X-Secret"), (b"x-secret", b"1"), (b"accept", b"*/*")]
    assert forwardable(headers) == [(b"accept", b"*/*")]


def test_an_api_key_never_reaches_the_upstream_but_a_jwt_does() -> None:
    # Judged on the credential itself, whatever became of it (issue 11 F).
    key = [(b"authorization", b"Bearer gg_x"), (b"accept", b"*/*")]
    assert forwardable(key) == [(b"accept", b"*/*")]
    jwt = [(b"authorization", b"Bearer eyJhbGciOi.x.y"), (b"accept", b"*/*")]
    assert forwardable(jwt) == jwt


def _principal(spec: dict[str, Any] | None) -> Principal | None:
    if spec is None:
        return None
    return Principal(spec["subject"], spec["issuer"], groups=frozenset(spec.get("groups", ())))


@pytest.mark.parametrize("case", [pytest.param(c, id=f"case={c['id']}") for c in _DATA["identity"]])
def test_identity_vector(case: dict[str, Any]) -> None:
    spec = case["request"]
    request = AccessRequest("GET", "/", ip_address(spec["client_ip"]), spec["host"])
    headers = identity_headers(
        _principal(case["principal"]),
        request,
        frozenset(case.get("forward_groups", ())),
        None,
        case["scheme"],
    )
    assert headers == [(n.encode(), v.encode()) for n, v in case["expect"]]


# --- upstream_identity: one audience rule for both doors ---------------------------------

SIGNER = IdentitySigner("glassgate-test")
ALICE = Principal("alice", "https://idp", groups=frozenset({"staff", "other"}))


def _result(principal: Principal | None, route: CompiledRoute) -> GateResult:
    request = AccessRequest("GET", "/x", ip_address("198.51.100.7"), "api.example")
    facts = RequestFacts(request, "/x", b"", None, False, False, None)
    decision = Decision(Outcome.ALLOW, route.id, (Reason.ROUTE_OK,))
    return GateResult(decision, facts, principal, route, NOW)


def _claims(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    token = dict(headers)[b"x-glassgate-identity"].decode()
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.mark.parametrize(
    ("route", "audience"),
    [
        pytest.param(CompiledRoute("orders", (), upstream="shop"), "shop", id="case=upstream"),
        pytest.param(CompiledRoute("orders", ()), "orders", id="case=no-upstream-route-id"),
    ],
)
def test_audience_is_the_upstream_else_the_route(route: CompiledRoute, audience: str) -> None:
    claims = _claims(upstream_identity(_result(ALICE, route), route, SIGNER, "https"))
    assert claims["aud"] == audience
    assert claims["sub"] == "alice"
    assert claims["iat"] == int(NOW)  # issued at the decision time, not a second clock read


def test_only_the_route_s_groups_are_asserted() -> None:
    route = CompiledRoute("r", (), upstream="u", forward_groups=frozenset({"staff"}))
    headers = upstream_identity(_result(ALICE, route), route, SIGNER, "https")
    assert dict(headers)[b"x-glassgate-groups"] == b"staff"
    assert _claims(headers).get("groups") == ["staff"]


def test_anonymous_gets_no_identity() -> None:
    route = CompiledRoute("open", (), upstream="u", anonymous=True)
    headers = upstream_identity(_result(None, route), route, SIGNER, "http")
    assert {name for name, _ in headers} == {
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
