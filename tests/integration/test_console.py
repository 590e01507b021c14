"""The console listener of a real ``glassgate serve``: its own port, never the data plane's.

With ``console.enabled`` the same process serves the console on
``console.listen``: ``/api/health`` and ``/api/openapi.json`` answer there,
with the security headers. The data-plane port keeps deciding every request
through the gate (the console's paths are just unrouted paths there), and the
console's port serves none of the gateway's endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from glassgate.web.security import CONTENT_SECURITY_POLICY
from tests.support.echo_upstream import EchoUpstream
from tests.support.gateway import GatewayProcess, free_port
from tests.support.gateway_config import base_config, write_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, upstream: EchoUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, str]]:
    workdir = tmp_path_factory.mktemp("console")
    console = f"127.0.0.1:{free_port()}"
    config = base_config(
        oidc_provider.issuer,
        upstream.url,
        routes=[{"id": "public", "match": {"path": "/public/*"}, "upstream": "app"}],
        console={"enabled": True, "listen": console},
    )
    write_config(workdir / "gateway.yaml", config)
    process = GatewayProcess(workdir / "gateway.yaml", {}, workdir / "gateway.log")
    process.start()
    yield process, f"http://{console}"
    process.stop()


def test_the_console_answers_on_its_own_port(gateway: tuple[GatewayProcess, str]) -> None:
    _, console = gateway
    health = httpx.get(console + "/api/health")
    assert health.status_code == 200  # serve waited for /healthz: the keys are loaded
    assert health.json() == {"status": "ok"}
    assert health.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert health.headers["cache-control"] == "no-store"
    document = httpx.get(console + "/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/api/health" in document["paths"]


def test_the_data_plane_never_serves_the_console(gateway: tuple[GatewayProcess, str]) -> None:
    process, _ = gateway
    for path in ("/api/health", "/api/openapi.json"):
        response = httpx.get(process.url + path)
        assert response.status_code == 401  # the gate decides: no token, no route
        assert "content-security-policy" not in response.headers
        assert response.json()["error"] == "unauthorized"


def test_the_console_serves_none_of_the_gateway(gateway: tuple[GatewayProcess, str]) -> None:
    process, console = gateway
    assert httpx.get(process.url + "/healthz").status_code == 200
    for path in ("/healthz", "/.well-known/jwks.json", "/metrics", "/public/x"):
        response = httpx.get(console + path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")  # a page, not an API
        assert "Not found" in response.text


def test_a_taken_console_port_stops_the_start(
    tmp_path: Path, gateway: tuple[GatewayProcess, str]
) -> None:
    process, console = gateway
    text = Path(process.config).read_text(encoding="utf-8")  # the same, already taken, console
    (tmp_path / "second.yaml").write_text(text, encoding="utf-8")
    second = GatewayProcess(tmp_path / "second.yaml", {}, tmp_path / "second.log")
    with pytest.raises(RuntimeError, match="gateway exited"):
        second.start(timeout=20)
    log = (tmp_path / "second.log").read_text()
    assert "console.listen" in log
    assert f"cannot listen on {console.removeprefix('http://')}" in log
