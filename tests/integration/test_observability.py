"""Metrics and the access/decision log of a real gateway process, with real IdP tokens.

The log test sends credentials in every place a client can put them and then
searches the whole log output for them: no token, Authorization value or
cookie may appear, only the token hash prefix and the verified jti.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.metrics import scrape
from tests.support.raw_http import send_raw, status_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("observability")
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        routes=[
            {
                "id": "staff",
                "match": {"path": "/staff/*"},
                "upstream": "app",
                "allow": {"groups": ["Staff"]},
            },
            {"id": "public", "match": {"path": "/public/*"}, "upstream": "app"},
        ],
        observability={"metrics_allow": ["127.0.0.1/32", "::1/128"]},
    )
    write_config(workdir / "gateway.yaml", config)
    process = GatewayProcess(workdir / "gateway.yaml", {}, workdir / "gateway.log")
    process.start()
    yield process
    process.stop()


def _access_lines(gw: GatewayProcess, marker: str, count: int) -> list[dict[str, Any]]:
    """The access lines whose path contains ``marker`` (waits: lines follow the response)."""
    deadline = time.monotonic() + 5
    while True:
        lines = []
        for text in gw.log.read_text().splitlines():
            if marker in text and text.startswith("{"):
                line = json.loads(text)
                if "request_id" in line:
                    lines.append(line)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_are_served_to_an_allowed_direct_client(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "glassgate_decisions_total" in response.text
    assert "glassgate_jwks_refreshes_total" in response.text


@pytest.mark.parametrize(
    ("source", "request_text"),
    [
        pytest.param(
            "127.0.0.3", "GET /metrics HTTP/1.1\r\nHost: a\r\n", id="case=outside-allow-list"
        ),
        pytest.param(
            "127.0.0.1",
            "GET /metrics HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.9\r\n",
            id="case=relayed-by-a-proxy",
        ),
        pytest.param(
            "127.0.0.1",
            "GET /metrics HTTP/1.1\r\nHost: a\r\nForwarded: for=203.0.113.9\r\n",
            id="case=forwarded-header",
        ),
        pytest.param(
            "127.0.0.1",
            "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n",
            id="case=not-get",
        ),
    ],
)
def test_metrics_look_absent_to_everyone_else(
    gateway: GatewayProcess, source: str, request_text: str
) -> None:
    raw = send_raw(gateway.port, (request_text + "Connection: close\r\n\r\n").encode(), source)
    assert status_of(raw) == 404
    assert b"glassgate_" not in raw


def test_decisions_are_counted_by_outcome_route_and_reason(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    staff = oidc_provider.token(claims={"sub": "metrics-alice", "groups": ["Staff"]})
    other = oidc_provider.token(claims={"sub": "metrics-bob", "groups": ["Guests"]})
    before = scrape(gateway.url)
    assert (
        httpx.get(
            gateway.url + "/staff/x", headers={"Authorization": f"Bearer {staff}"}
        ).status_code
        == 200
    )
    assert (
        httpx.get(
            gateway.url + "/staff/x", headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 403
    )
    assert (
        httpx.get(
            gateway.url + "/nowhere", headers={"Authorization": f"Bearer {staff}"}
        ).status_code
        == 403
    )
    assert (
        httpx.get(gateway.url + "/public/x", headers={"Authorization": "Bearer a.b.c"}).status_code
        == 401
    )
    after = scrape(gateway.url)

    def delta(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    decisions = "glassgate_decisions_total"
    assert delta(decisions, outcome="deny", route="staff", reason="groups-denied") == 1
    assert delta(decisions, outcome="deny", route="none", reason="route-not-found") == 1
    assert delta(decisions, outcome="unauthenticated", route="public", reason="token-invalid") == 1
    allowed = sum(
        v
        for (name, labels), v in after.items()
        if name == decisions and ("route", "staff") in labels and ("outcome", "allow") in labels
    )
    assert allowed >= 1
    assert (
        delta("glassgate_token_failures_total", detail="token-malformed")
        + delta("glassgate_token_failures_total", detail="token-signature-denied")
        >= 1
    )
    assert delta("glassgate_request_duration_seconds_count", route="staff") == 2
    assert delta("glassgate_decision_duration_seconds_count") == 4
    text = httpx.get(gateway.url + "/metrics").text
    assert "metrics-alice" not in text
    assert "/staff/x" not in text


def test_key_source_upstream_and_reload_state_are_exported(
    gateway: GatewayProcess, upstream: EchoUpstream
) -> None:
    samples = scrape(gateway.url)

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, frozenset(labels.items())))

    assert (value("glassgate_jwks_refreshes_total", issuer="idp") or 0) >= 1
    assert value("glassgate_jwks_refresh_failures_total", issuer="idp") == 0
    assert (value("glassgate_jwks_keys", issuer="idp") or 0) >= 1
    assert (value("glassgate_jwks_last_success_timestamp_seconds", issuer="idp") or 0) > 1e9
    target = f"127.0.0.1:{upstream.port}"
    assert value("glassgate_upstream_target_healthy", upstream="app", target=target) == 1
    assert value("glassgate_config_reloads_total", result="failed") == 0
    assert value("glassgate_ready") == 1


# --- the access / decision log ----------------------------------------------------------------

_COOKIE = "session=c00kie-" + uuid.uuid4().hex
_BASIC = base64.b64encode(b"svc:pa55-" + uuid.uuid4().hex.encode()).decode()


def test_access_log_has_one_line_per_request_with_the_decision(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    marker = uuid.uuid4().hex
    token = oidc_provider.token(claims={"sub": "log-alice", "groups": ["Staff"]})
    denied = oidc_provider.token(claims={"sub": "log-bob", "groups": []})
    httpx.get(f"{gateway.url}/staff/{marker}/ok", headers={"Authorization": f"Bearer {token}"})
    httpx.get(f"{gateway.url}/staff/{marker}/no", headers={"Authorization": f"Bearer {denied}"})
    raw = send_raw(
        gateway.port,
        (
            f"GET /staff/{marker}/twice HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer "
            f"{token}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ).encode(),
    )
    assert status_of(raw) == 400
    lines = _access_lines(gateway, marker, 3)
    by_path = {line.get("path") or line.get("raw_path"): line for line in lines}

    allowed = by_path[f"/staff/{marker}/ok"]
    assert allowed["method"] == "GET"
    assert allowed["route"] == "staff"
    assert allowed["outcome"] == "allow"
    assert allowed["status"] == 200
    assert allowed["subject"] == "log-alice"
    assert allowed["client_ip"] == "127.0.0.1"
    assert allowed["token_hash"] == hashlib.sha256(token.encode()).hexdigest()[:16]
    assert allowed["jti"] == _claims(token)["jti"]
    assert allowed["latency_ms"] >= 0
    assert len(allowed["request_id"]) == 16
    assert allowed["time"].endswith("Z")

    refused = by_path[f"/staff/{marker}/no"]
    assert (refused["outcome"], refused["status"]) == ("deny", 403)
    assert "groups-denied" in refused["reasons"]
    rejected = by_path[f"/staff/{marker}/twice"]  # refused before any decision
    assert (rejected["status"], rejected["route"], rejected["outcome"]) == (400, None, None)
    assert rejected["subject"] is None
    assert rejected["token_hash"] is None


def test_no_credential_or_cookie_ever_reaches_the_log(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    marker = uuid.uuid4().hex
    good = oidc_provider.token(claims={"sub": "secret-carol", "groups": ["Staff"]})
    head, payload, signature = good.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    expired = oidc_provider.token(claims={"sub": "secret-dave", "exp": int(time.time()) - 3600})
    secrets_sent = [good, forged, expired, signature, _COOKIE, _BASIC]
    requests = [
        ("GET", f"/staff/{marker}/1", {"Authorization": f"Bearer {good}", "Cookie": _COOKIE}),
        ("GET", f"/staff/{marker}/2", {"Authorization": f"Bearer {forged}"}),
        ("GET", f"/staff/{marker}/3", {"Authorization": f"Bearer {expired}"}),
        ("GET", f"/staff/{marker}/4", {"Authorization": f"Basic {_BASIC}", "Cookie": _COOKIE}),
        ("GET", f"/staff/{marker}/5?access_token={good}", {}),
        ("POST", f"/public/{marker}/6", {"Authorization": f"Bearer {good}", "X-Api-Key": _BASIC}),
    ]
    for method, path, headers in requests:
        httpx.request(method, gateway.url + path, headers=headers, content=b"x")
    lines = _access_lines(gateway, marker, len(requests))
    assert len(lines) == len(requests)
    text = gateway.log.read_text()
    for secret in secrets_sent:
        assert secret not in text
    lowered = text.lower()
    for word in ("bearer ", "basic ", "authorization", "cookie", "access_token"):
        assert word not in lowered, word
    hashes = {line["token_hash"] for line in lines}
    assert hashlib.sha256(forged.encode()).hexdigest()[:16] in hashes  # refused, still correlatable
