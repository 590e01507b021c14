"""A gateway with just-in-time grants behind real IdPs, for the grant integration tests.

``grants_config`` builds the config: two issuers (``idp`` and ``idp2``, both
real oidc-provider processes), an ``/admin/*`` route that needs ``Admins``, and
three grant types: ``admins-jit`` (two Admins, or one Admins and one Security),
``strong`` (one Admins approver whose token meets ``mfa`` and whose
``auth_time`` is at most 5 minutes old) and ``reports-access`` (a route access
request for ``/reports/*`` alone, one Admins approver).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.gateway_config import base_config

__all__ = ["Api", "cli", "grants_config", "jwt_claims", "person"]

GRANTS: dict[str, Any] = {
    "request_ttl": "30s",
    "refresh_interval": "1s",
    "admins": ["SecAdmins"],
    "types": [
        {
            "id": "admins-jit",
            "group": "Admins",
            "max_duration": "1h",
            "requesters": ["Engineers"],
            "approval": {
                "any_of": [
                    [{"group": "Admins", "count": 2}],
                    [{"group": "Admins"}, {"group": "Security"}],
                ]
            },
        },
        {
            "id": "strong",
            "group": "Admins",
            "max_duration": "10m",
            "requesters": ["Engineers"],
            "approval": {
                "any_of": [[{"group": "Admins"}]],
                "strength": "mfa",
                "max_auth_age": "5m",
            },
            "alerts": {"on_request": False, "on_approval": False},
        },
        {
            "id": "reports-access",
            "routes": ["reports"],
            "max_duration": "1h",
            "requesters": ["Engineers"],
            "approval": {"any_of": [[{"group": "Admins"}]]},
        },
    ],
}


def grants_config(
    issuers: list[str], upstream: str, workdir: Path, console: str, hooks: str, **over: Any
) -> dict[str, Any]:
    config = base_config(
        issuers[0],
        upstream,
        routes=[
            {"id": "admin", "match": {"path": "/admin/*"}, "upstream": "app",
             "allow": {"groups": ["Admins"]}},
            {"id": "open", "match": {"path": "/open/*"}, "upstream": "app",
             "allow": {"groups": ["Engineers"]}},
            {"id": "reports", "match": {"path": "/reports/*"}, "upstream": "app",
             "allow": {"groups": ["Analysts"]}},
        ],
        console={"enabled": True, "listen": console},
        storage={"sqlite": {"path": str(workdir / "glassgate.db")}},
        audit={"checkpoint": {"key_file": str(workdir / "audit.key"),
                              "file": str(workdir / "checkpoints.jsonl")}},
        alerts={"required": False,
                "sinks": [{"type": "webhook", "url": hooks + "/alerts", "secret": "hook-secret"}]},
        grants=GRANTS,
    )  # fmt: skip
    for index, issuer in enumerate(issuers[1:], start=2):
        second = dict(config["issuers"][0], id=f"idp{index}", issuer=issuer)
        config["issuers"].append(second)
    config.update(over)
    return config


def person(sub: str, *groups: str, **claims: Any) -> dict[str, Any]:
    return {"sub": sub, "groups": list(groups), "auth_time": int(time.time()), **claims}


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class Api:
    """The console's grants API with one caller's IdP token."""

    def __init__(self, console: str, token: str | None) -> None:
        self.base = f"http://{console}/api/grants"
        self.headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    def request(self, kind: str, duration: float = 600, **extra: Any) -> httpx.Response:
        body = {"type": kind, "reason": "fix INC-42", "duration": duration, **extra}
        return httpx.post(self.base, json=body, headers=self.headers, timeout=15)

    def act(self, grant_id: str, verb: str) -> httpx.Response:
        return httpx.post(f"{self.base}/{grant_id}/{verb}", json={}, headers=self.headers,
                          timeout=15)  # fmt: skip

    def get(self, suffix: str = "") -> httpx.Response:
        return httpx.get(self.base + suffix, headers=self.headers, timeout=15)


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GLASSGATE_LISTEN": "127.0.0.1:1"}  # the CLI never listens
    return subprocess.run(
        [sys.executable, "-m", "glassgate", *args, "--config", str(config)],
        cwd=config.parent, capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
