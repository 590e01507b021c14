"""API keys through a real ``glassgate serve`` process, managed with the real CLI.

A key created with ``glassgate apikey create`` reaches its route with its groups,
is denied (403) outside its route scope, is limited (429) by its own quota tier,
and is refused (401) within a few seconds of ``glassgate apikey revoke``, with no
restart. The gateway's own log never carries the key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import ROOT, GatewayProcess
from tests.support.gateway_config import base_config, write_config

pytestmark = pytest.mark.integration

CACHE_TTL = 1.0


@dataclass
class Setup:
    gateway: GatewayProcess
    config: Path
    upstream: EchoUpstream


@pytest.fixture(scope="module")
def setup(oidc_provider: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("api-keys")
    upstream = EchoUpstream()
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        quotas={
            "humans": {"rate": 100, "per": "1s", "burst": 100},
            "machine": {"rate": 1, "per": "60s", "burst": 3, "key": "api_key"},
        },
        routes=[
            {
                "id": "deploy",
                "match": {"path": "/deploy/*"},
                "upstream": "app",
                "allow": {"groups": ["robots"]},
                "quota": "humans",
            },
            {
                "id": "reports",
                "match": {"path": "/reports/*"},
                "upstream": "app",
                "allow": {"groups": ["robots"]},
            },
            {
                "id": "admin",
                "match": {"path": "/admin/*"},
                "upstream": "app",
                "allow": {"groups": ["robots"]},
            },
        ],
        storage={"sqlite": {"path": str(workdir / "glassgate.db")}},
        audit={
            "checkpoint": {
                "key_file": str(workdir / "audit.key"),
                "file": str(workdir / "checkpoints.jsonl"),
            }
        },
        api_keys={"enabled": True, "cache_ttl": f"{CACHE_TTL}s", "negative_cache_ttl": "1s"},
    )
    path = workdir / "gateway.yaml"
    write_config(path, config)
    process = GatewayProcess(path, {}, workdir / "gateway.log")
    process.start()
    yield Setup(process, path, upstream)
    process.stop()
    upstream.close()


def cli(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as an operator would run it: another process, same config."""
    return subprocess.run(
        [sys.executable, "-m", "glassgate", "apikey", *args],
        cwd=ROOT,
        env=setup.gateway.env,  # the config reads ${GLASSGATE_LISTEN}
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_key(setup: Setup, *extra: str) -> str:
    done = cli(setup, "create", "--config", str(setup.config), "--subject", "svc:deployer", *extra)
    assert done.returncode == 0, done.stderr
    assert "only time the key is shown" in done.stderr
    return done.stdout.strip()


def get(setup: Setup, path: str, key: str) -> httpx.Response:
    return httpx.get(setup.gateway.url + path, headers={"Authorization": f"Bearer {key}"})


def test_a_key_reaches_its_route_with_its_groups(setup: Setup) -> None:
    key = create_key(
        setup, "--name", "deployer", "--group", "robots", "--group", "ops", "--route", "deploy"
    )
    setup.upstream.clear()
    answer = get(setup, "/deploy/now", key)
    assert answer.status_code == 200
    (seen,) = setup.upstream.requests
    assert seen.header("x-glassgate-subject") == "svc:deployer"
    assert seen.header("x-glassgate-groups") == "robots"  # only the groups the route names
    assert seen.header("x-glassgate-issuer") == "urn:glassgate:api-key"
    assert seen.header("authorization") is None  # the key is for the gateway alone
    assert seen.header("x-glassgate-identity")  # the upstream verifies this instead


def test_a_key_is_denied_outside_its_scope(setup: Setup) -> None:
    key = create_key(setup, "--name", "scoped", "--group", "robots", "--route", "deploy")
    setup.upstream.clear()
    answer = get(setup, "/admin/x", key)
    assert answer.status_code == 403
    assert answer.json()["reason"] == "route-scope-denied"
    assert setup.upstream.requests == []


def test_a_key_hits_its_own_quota(setup: Setup) -> None:
    key = create_key(
        setup,
        "--name",
        "metered",
        "--group",
        "robots",
        "--route",
        "deploy",
        "--route",
        "reports",
        "--tier",
        "machine",
    )
    # The key's tier replaces the route's generous one, and follows it across routes.
    statuses = [get(setup, "/deploy/x", key).status_code for _ in range(2)]
    statuses.append(get(setup, "/reports/x", key).status_code)
    refused = get(setup, "/reports/x", key)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["ratelimit-policy"] == '"machine";q=1;w=60'
    assert int(refused.headers["retry-after"]) > 0


def test_revoked_keys_are_refused_within_seconds_without_restart(setup: Setup) -> None:
    key = create_key(setup, "--name", "revokee", "--group", "robots", "--route", "deploy")
    assert get(setup, "/deploy/x", key).status_code == 200  # now cached in the gateway
    pid = setup.gateway.proc.pid if setup.gateway.proc else None
    done = cli(setup, "revoke", key[3:15], "--config", str(setup.config))
    assert done.returncode == 0, done.stderr
    revoked_at = time.monotonic()
    while True:
        answer = get(setup, "/deploy/x", key)
        if answer.status_code == 401:
            break
        assert answer.status_code == 200
        assert time.monotonic() - revoked_at < CACHE_TTL + 3, "revocation did not take effect"
        time.sleep(0.1)
    assert time.monotonic() - revoked_at < CACHE_TTL + 3
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert setup.gateway.proc is not None
    assert setup.gateway.proc.pid == pid
    assert setup.gateway.proc.poll() is None  # the same process, never restarted


@pytest.mark.parametrize(
    "credential",
    [
        "gg_",
        "gg_notakey",
        "GG_abcdefgh2345_" + "A" * 43,
        "gg_abcdefgh2345_" + "A" * 43,
        "gg_abcdefgh2345_" + "A" * 42 + "é",
    ],
)
def test_bad_keys_get_401_never_a_crash(setup: Setup, credential: str) -> None:
    answer = httpx.get(
        setup.gateway.url + "/deploy/x",
        headers={b"authorization": f"Bearer {credential}".encode()},
    )
    assert answer.status_code in (400, 401)
    if answer.status_code == 401:
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]


def test_jwts_still_work_beside_keys(setup: Setup, oidc_provider: Any) -> None:
    token = oidc_provider.token(claims={"sub": "alice", "groups": ["robots"]})
    assert get(setup, "/reports/x", token).status_code == 200


def test_the_gateway_log_never_carries_a_key(setup: Setup) -> None:
    key = create_key(setup, "--name", "logged", "--group", "robots", "--route", "deploy")
    get(setup, "/deploy/x", key)
    get(setup, "/admin/x", key)
    deadline = time.monotonic() + 5
    while key[3:15] not in setup.gateway.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = setup.gateway.log.read_text()
    assert key[3:15] in log  # the key id is how logs name the key ...
    assert key[16:] not in log  # ... and the secret is never there
    lines = [json.loads(line) for line in log.splitlines() if key[3:15] in line]
    assert {line.get("jti") for line in lines} == {key[3:15]}
