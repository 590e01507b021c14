"""Two workers behind a real nginx (``examples/nginx``), one quota held in a real Redis.

nginx asks glassgate (``--workers 2``, one socket) for every request; the
quota tier's counters live in Redis, so the two workers together allow the
configured rate, not twice it. Every decision lands in one audit chain that
``glassgate audit verify`` accepts.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess
from tests.support.peers import NginxPeer, need_binary
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

RATE = 20.0  # per second
BURST = 5
SECONDS = 5.0

CONFIG = f"""\
version: 1
listen: ${{GLASSGATE_LISTEN}}
trusted_proxies: [127.0.0.1/32]
forward_auth:
  enabled: true
  allowed_peers: [127.0.0.1/32]
issuers:
  - id: idp
    issuer: ${{GLASSGATE_ISSUER}}
    audiences: [api://gateway]
    algorithms: [RS256, ES256]
quotas:
  store: {{redis: {{url: "${{GLASSGATE_REDIS}}"}}}}
  shared: {{ rate: {RATE:g}, per: 1s, burst: {BURST} }}
routes:
  - id: public
    match: {{ path: /public/* }}
  - id: limited
    match: {{ path: /limited/* }}
    quota: shared
"""


@pytest.fixture(scope="module")
def stack(
    oidc_provider: Any, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NginxPeer, GatewayProcess]]:
    need_binary(NginxPeer.name, NginxPeer.hint)
    workdir = tmp_path_factory.mktemp("workers-nginx")
    (workdir / "glassgate.yaml").write_text(CONFIG)
    upstream = EchoUpstream()
    env = {"GLASSGATE_ISSUER": oidc_provider.issuer, "GLASSGATE_REDIS": redis_server.url}
    gateway = GatewayProcess(
        workdir / "glassgate.yaml", env, workdir / "gateway.log", args=("--workers", "2")
    )
    peer = NginxPeer(workdir, gateway.port, upstream.port)
    try:
        gateway.start(timeout=60)
        peer.start()
        yield peer, gateway
    finally:
        peer.stop()
        gateway.stop()
        upstream.close()
    log = (workdir / "gateway.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def test_two_workers_hold_one_rate_and_one_chain(
    stack: tuple[NginxPeer, GatewayProcess], oidc_provider: Any
) -> None:
    peer, gateway = stack
    token = oidc_provider.token(claims={"sub": "metered", "groups": []})
    headers = {"Authorization": f"Bearer {token}"}
    allowed = refused = 0
    # A fresh connection for each request: nginx then spreads them over its
    # connections to glassgate, and the kernel those over both workers.
    started = time.monotonic()
    while time.monotonic() - started < SECONDS:
        with httpx.Client(timeout=30) as client:
            status = client.get(peer.url + "/limited/x", headers=headers).status_code
        assert status in (200, 429), status
        allowed += status == 200
        refused += status == 429
    elapsed = time.monotonic() - started
    expected = BURST + RATE * elapsed  # GCRA: the burst, then the rate
    assert refused > 0, "the load never reached the limit"
    assert abs(allowed - expected) <= 0.05 * expected, (allowed, expected)

    verify = subprocess.run(
        [sys.executable, "-m", "glassgate", "audit", "verify", "--config", gateway.config],
        cwd=Path(gateway.log).parent, env=gateway.env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
