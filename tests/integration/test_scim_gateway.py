"""SCIM and the directory through a real ``glassgate serve`` (console listener), real CLI.

- scim2-tester's compliance checks (scim2-cli ``scim2 --url ... test``) run
  against ``/scim/v2`` on the console; the build fails on any check that
  passed before (``tests/vectors/scim/compliance-baseline.txt``).
- The IdP suspending the last-but-one admin over SCIM is refused with a SCIM
  409, a ``directory.lockout.refused`` audit record and a critical alert
  delivered to the ``alerts:`` webhook (the break-glass sinks), pointing to
  the break-glass procedure; a CLI edit doing the same is refused and alerted
  through the same sinks.
- With ``directory.merge_groups`` the gate enforces a group that the token
  does not carry but the directory gives the caller (by issuer + subject).
"""

from __future__ import annotations

import json
import os
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
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import base_config, write_config
from tests.support.scim_compliance import compare, parse_cli, read_baseline, summary

pytestmark = pytest.mark.integration

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@dataclass
class Setup:
    gateway: GatewayProcess
    config: Path
    scim: str
    token: str
    issuer: Any
    hooks: EchoUpstream  # the alerts webhook


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSGATE_LISTEN": "127.0.0.1:1"}  # the CLI never listens
    return subprocess.run(
        [sys.executable, "-m", "glassgate", *args, "--config", str(config)],
        cwd=config.parent, capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def setup(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("scim")
    console = f"127.0.0.1:{free_port()}"
    hooks = EchoUpstream()
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        routes=[
            {
                "id": "ops",
                "match": {"path": "/ops/*"},
                "upstream": "app",
                "allow": {"groups": ["Ops"]},
            }
        ],
        console={"enabled": True, "listen": console},
        scim={"enabled": True},
        directory={
            "protected_groups": {"Admins": 2},
            "merge_groups": {"enabled": True, "issuers": {oidc_provider.issuer: "userName"}},
            "refresh_interval": "1s",
        },
        storage={"sqlite": {"path": str(workdir / "glassgate.db")}},
        audit={
            "checkpoint": {
                "key_file": str(workdir / "audit.key"),
                "file": str(workdir / "checkpoints.jsonl"),
            }
        },
        alerts={
            "sinks": [{"type": "webhook", "url": hooks.url + "/alerts", "secret": "hook-secret"}]
        },
    )
    path = workdir / "gateway.yaml"
    write_config(path, config)
    issued = _cli(path, "scim", "token", "issue", "--name", "okta")
    assert issued.returncode == 0, issued.stderr
    gateway = GatewayProcess(path, {}, workdir / "gateway.log")
    gateway.start()
    try:
        yield Setup(
            gateway, path, f"http://{console}/scim/v2", issued.stdout.strip(), oidc_provider, hooks
        )
    finally:
        gateway.stop()
        hooks.close()


def _scim(setup: Setup, method: str, path: str, body: Any = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {setup.token}", "Content-Type": "application/scim+json"}
    return httpx.request(method, setup.scim + path, json=body, headers=headers, timeout=10)


def test_scim2_tester_passes_every_baseline_check(setup: Setup) -> None:
    env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {setup.token}"}
    scim2 = Path(sys.executable).with_name("scim2")
    run = subprocess.run(
        [str(scim2), "--url", setup.scim, "test"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    results = parse_cli(run.stdout.splitlines())
    print(summary(results))
    lost, _ = compare(results, read_baseline())
    assert not lost, f"checks that passed before fail now: {sorted(lost)}\n{run.stdout[-3000:]}"
    assert len(results) >= 135


def test_the_idp_cannot_suspend_the_last_but_one_admin(setup: Setup) -> None:
    ids = []
    for name in ("root1", "root2", "root3"):
        created = _scim(
            setup,
            "POST",
            "/Users",
            {"schemas": [USER], "userName": f"{name}@example.com", "active": True},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    members = [{"value": uid} for uid in ids]
    assert (
        _scim(
            setup,
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": "Admins", "members": members},
        ).status_code
        == 201
    )
    off = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    assert _scim(setup, "PATCH", f"/Users/{ids[0]}", off).status_code == 200
    refused = _scim(setup, "PATCH", f"/Users/{ids[1]}", off)
    assert refused.status_code == 409
    assert refused.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (
        "protected group 'Admins' needs at least 2 active member(s) but would keep 1"
        in refused.json()["detail"]
    )
    exported = _cli(setup.config, "audit", "export")
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
    refusals = [r for r in records if r["type"] == "directory.lockout.refused"]
    assert refusals
    assert refusals[-1]["actor"] == "scim:okta"
    (alert,) = _alerts(setup)
    assert alert["severity"] == "critical"
    assert alert["details"]["source"] == "scim"
    assert "itself the incident" in alert["summary"]
    assert alert["runbook"] == "README.md#break-glass-at-2-am"
    # the CLI's edit goes through the same guard and the same alert sinks
    removed = _cli(setup.config, "directory", "member", "remove", "Admins", "root2@example.com")
    assert removed.returncode != 0
    assert "protected group 'Admins'" in removed.stderr
    assert [a["details"]["source"] for a in _alerts(setup)] == ["scim", "cli"]


def _alerts(setup: Setup) -> list[dict[str, Any]]:
    bodies = [json.loads(seen.body) for seen in setup.hooks.requests]
    return [
        body["alert"] for body in bodies if body["alert"]["kind"] == "directory.lockout.refused"
    ]


def test_merged_groups_let_the_gate_enforce_a_group_the_token_lacks(setup: Setup) -> None:
    token = setup.issuer.token(claims={"sub": "ops.person@example.com", "groups": []})
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(setup.gateway.url + "/ops/x", headers=headers).status_code == 403
    uid = _scim(
        setup,
        "POST",
        "/Users",
        {"schemas": [USER], "userName": "ops.person@example.com", "active": True},
    ).json()["id"]
    assert (
        _scim(
            setup,
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": "Ops", "members": [{"value": uid}]},
        ).status_code
        == 201
    )
    assert (
        httpx.get(setup.gateway.url + "/ops/x", headers=headers).status_code == 200
    )  # same process: at once
    # a change made elsewhere (the CLI) reaches the gateway within refresh_interval
    assert (
        _cli(setup.config, "directory", "status", "ops.person@example.com", "suspended").returncode
        == 0
    )
    deadline = time.monotonic() + 10
    while httpx.get(setup.gateway.url + "/ops/x", headers=headers).status_code != 403:
        assert time.monotonic() < deadline, "the suspension never reached the gateway"
        time.sleep(0.2)
