"""Two gateway processes sharing one database: a grant approved or revoked through one
instance counts, or stops counting, on the other within ``grants.refresh_interval``
(issue 13, point 4), on one SQLite file and on one PostgreSQL database.

The instance that received the revocation refuses at once (its own index is
updated before the API answers); the other one within the refresh bound (1 s
here). The waits below are generous deadlines for a loaded machine, never
timing assertions; the measured delay is printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import write_config
from tests.support.grants import Api, grants_config, person
from tests.support.idp import OidcProvider
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@dataclass
class Pair:
    a: GatewayProcess
    b: GatewayProcess
    console_a: str
    console_b: str
    idp: OidcProvider

    def call(self, gateway: GatewayProcess, sub: str, *groups: str) -> int:
        token = self.idp.token(claims=person(sub, *groups))
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(gateway.url + "/admin/x", headers=headers, timeout=15).status_code

    def api(self, console: str, sub: str, *groups: str) -> Api:
        return Api(console, self.idp.token(claims=person(sub, *groups)))


def _pair(workdir: Path, idp: OidcProvider, upstream: str, storage: dict[str, Any]) -> Pair:
    hooks = "http://127.0.0.1:9"  # nobody listens: alerts are not required here
    config = grants_config([idp.issuer], upstream, workdir, "${CONSOLE_LISTEN}", hooks)
    config["storage"] = storage
    path = workdir / "gateway.yaml"
    write_config(path, config)
    consoles = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    gateways = [
        GatewayProcess(path, {"CONSOLE_LISTEN": console}, workdir / f"gateway-{index}.log")
        for index, console in enumerate(consoles)
    ]
    return Pair(gateways[0], gateways[1], consoles[0], consoles[1], idp)


@pytest.fixture(params=["sqlite", "postgres"])
def pair(
    request: pytest.FixtureRequest,
    oidc_provider: OidcProvider,
    upstream: EchoUpstream,
    tmp_path: Path,
) -> Iterator[Pair]:
    if request.param == "sqlite":
        storage: dict[str, Any] = {"sqlite": {"path": str(tmp_path / "shared.db")}}
    else:
        dsn = request.getfixturevalue("glassgate_postgres_dsn")
        storage = {"backend": "postgres", "postgres": {"dsn": dsn}}
    found = _pair(tmp_path, oidc_provider, upstream.url, storage)
    found.a.start()
    try:
        found.b.start()
        try:
            yield found
        finally:
            found.b.stop()
    finally:
        found.a.stop()


def _seen_within(check: Any, what: str) -> float:
    started = time.monotonic()
    eventually(check, what=what, timeout=20)
    return time.monotonic() - started


def test_a_grant_and_its_revocation_reach_the_other_instance(pair: Pair) -> None:
    grant = pair.api(pair.console_a, "alice", "Engineers").request("admins-jit").json()
    pair.api(pair.console_a, "bob", "Admins").act(grant["id"], "approve")
    active = pair.api(pair.console_b, "carol", "Admins").act(grant["id"], "approve")
    assert active.json()["state"] == "active"
    assert pair.call(pair.b, "alice", "Engineers") == 200  # received here: at once
    took = _seen_within(lambda: pair.call(pair.a, "alice", "Engineers") == 200, "A to see it")
    print(f"approval seen by the other instance after {took:.2f} s")

    revoked = pair.api(pair.console_a, "alice", "Engineers").act(grant["id"], "revoke")
    assert revoked.json()["state"] == "revoked"
    assert pair.call(pair.a, "alice", "Engineers") == 403  # received here: at once
    took = _seen_within(lambda: pair.call(pair.b, "alice", "Engineers") == 403, "B to drop it")
    print(f"revocation seen by the other instance after {took:.2f} s (bound: 1 s + a poll)")
