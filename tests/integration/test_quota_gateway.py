"""Quotas through a real gateway: a burst, then 429 with Retry-After and RateLimit headers.

Buckets are per principal (issuer and subject) on a ``principal`` tier, and per
client address on a ``client_ip`` tier; refused requests never reach the upstream.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.metrics import sample

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("quota")
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        quotas={
            "small": {"rate": 1, "per": "60s", "burst": 3},
            "per-address": {"rate": 1, "per": "60s", "burst": 2, "key": "client_ip"},
        },
        routes=[
            {"id": "metered", "match": {"path": "/metered/*"}, "upstream": "app", "quota": "small"},
            {
                "id": "by-ip",
                "match": {"path": "/by-ip/*"},
                "upstream": "app",
                "quota": "per-address",
            },
        ],
    )
    write_config(workdir / "gateway.yaml", config)
    process = GatewayProcess(workdir / "gateway.yaml", {}, workdir / "gateway.log")
    process.start()
    yield process
    process.stop()


def _get(gw: GatewayProcess, path: str, token: str) -> httpx.Response:
    return httpx.get(gw.url + path, headers={"Authorization": f"Bearer {token}"})


def test_burst_then_429_with_retry_after_and_ratelimit_headers(
    gateway: GatewayProcess, oidc_provider: Any, upstream: EchoUpstream
) -> None:
    token = oidc_provider.token(claims={"sub": "quota-alice"})
    upstream.clear()
    statuses = [_get(gateway, "/metered/x", token).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = _get(gateway, "/metered/x", token)
    assert refused.status_code == 429
    assert refused.json() == {"error": "rate_limited", "reason": "quota-exceeded"}
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-policy"] == '"small";q=1;w=60'
    match = re.fullmatch(r'"small";r=(\d+);t=(\d+)', refused.headers["ratelimit"])
    assert match is not None
    assert int(match.group(1)) == 0
    assert 170 <= int(match.group(2)) <= 180  # the bucket drains fully in three intervals
    assert len(upstream.requests) == 3  # the refused request never arrived


def test_each_principal_has_its_own_bucket(gateway: GatewayProcess, oidc_provider: Any) -> None:
    alice = oidc_provider.token(claims={"sub": "bucket-alice"})
    bob = oidc_provider.token(claims={"sub": "bucket-bob"})
    alice_again = oidc_provider.token(claims={"sub": "bucket-alice"})  # another token, same subject
    assert [_get(gateway, "/metered/a", alice).status_code for _ in range(3)] == [200] * 3
    assert _get(gateway, "/metered/a", alice_again).status_code == 429
    assert [_get(gateway, "/metered/b", bob).status_code for _ in range(3)] == [200] * 3
    assert _get(gateway, "/metered/b", bob).status_code == 429


def test_a_client_ip_tier_shares_one_bucket_between_subjects(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    carol = oidc_provider.token(claims={"sub": "ip-carol"})
    dave = oidc_provider.token(claims={"sub": "ip-dave"})
    assert _get(gateway, "/by-ip/x", carol).status_code == 200
    assert _get(gateway, "/by-ip/x", dave).status_code == 200
    assert _get(gateway, "/by-ip/x", carol).status_code == 429


def test_quota_refusals_are_counted_and_logged(gateway: GatewayProcess, oidc_provider: Any) -> None:
    token = oidc_provider.token(claims={"sub": "quota-erin"})
    before = sample(gateway.url, "glassgate_quota_rejections_total", tier="small")
    for _ in range(4):
        _get(gateway, "/metered/erin", token)
    assert sample(gateway.url, "glassgate_quota_rejections_total", tier="small") == before + 1
    deadline = time.monotonic() + 5
    while True:
        lines = [
            json.loads(line)
            for line in gateway.log.read_text().splitlines()
            if '"subject":"quota-erin"' in line
        ]
        if len(lines) == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [(line["outcome"], line["status"]) for line in lines][-1] == ("rate-limited", 429)
    assert lines[-1]["reasons"][-1] == "quota-exceeded"
