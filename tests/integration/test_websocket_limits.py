"""WebSocket tunnels end, and leave a trace (issue 11 item 8), through a real gateway.

A real ``websockets`` echo upstream and real IdP tokens: a tunnel is closed
after its idle timeout, after its maximum lifetime and when its token expires;
every upgrade (101 and refused) gets an access line and is counted in the
metrics; every closed tunnel leaves a ``websocket.close`` audit record with
the bytes each way and who closed it. Bounds are generous (a loaded machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import ServerConnection, serve

from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.metrics import scrape
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

IDLE = 2.0
LIFETIME = 20.0  # long enough that a revocation (CLI, cache, 5 s recheck) comes first
SLACK = 20.0


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    def handler(ws: ServerConnection) -> None:
        try:
            for message in ws:
                ws.send(message)
        except ConnectionClosed:
            pass

    server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ws-limits")


@pytest.fixture(scope="module")
def gateway(oidc_provider: Any, echo: str, workdir: Path) -> Iterator[GatewayProcess]:
    config = base_config(
        oidc_provider.issuer,
        echo,
        routes=[
            {"id": "chat", "match": {"path": "/ws/*"}, "upstream": "app",
             "allow": {"groups": ["Red"]}},
            {"id": "bots", "match": {"path": "/bots/*"}, "upstream": "app",
             "allow": {"groups": ["robots"]}},
        ],
        limits={"websocket_idle_timeout": f"{IDLE}s", "websocket_max_lifetime": f"{LIFETIME}s"},
        observability={"metrics_allow": ["127.0.0.1/32"]},
        api_keys={"enabled": True, "cache_ttl": "1s", "negative_cache_ttl": "1s"},
    )  # fmt: skip
    path = workdir / "gateway.yaml"
    write_config(path, config)
    process = GatewayProcess(path, {}, workdir / "gateway.log", args=("--no-watch",))
    process.start()
    yield process
    process.stop()
    log = (workdir / "gateway.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def _ws(gw: GatewayProcess, path: str, token: str | None) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return connect(
        gw.url.replace("http://", "ws://") + path, additional_headers=headers, open_timeout=10
    )


def _closed_within(ws: ClientConnection, seconds: float, keep_talking: bool = False) -> float:
    """Wait for the gateway to close ``ws``; how long it took (``keep_talking``: echo away)."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed):
        _talk(ws, started + seconds, keep_talking)
    return time.monotonic() - started


def _talk(ws: ClientConnection, until: float, keep_talking: bool) -> None:
    while time.monotonic() < until:
        if keep_talking:
            ws.send("ping")
        ws.recv(timeout=0.5 if keep_talking else until - time.monotonic())


def _talk_while(ws: ClientConnection, busy: threading.Thread) -> None:
    """Echo away while ``busy`` runs, then until the gateway closes ``ws`` (or a long time)."""
    while busy.is_alive():
        _talk(ws, time.monotonic() + 0.5, keep_talking=True)
    _talk(ws, time.monotonic() + LIFETIME + SLACK, keep_talking=True)


def _audit(workdir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "glassgate", "audit", "search", "--db",
         str(workdir / "glassgate.db"), "--type", "websocket.close", "--json"],
        capture_output=True, check=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    records: list[dict[str, Any]] = json.loads(out)
    return records


def _red(oidc_provider: Any, **claims: Any) -> str:
    return str(oidc_provider.token(claims={"sub": "ruby", "groups": ["Red"], **claims}))


def test_an_idle_tunnel_is_closed(gateway: GatewayProcess, oidc_provider: Any) -> None:
    with _ws(gateway, "/ws/idle", _red(oidc_provider)) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        _closed_within(ws, IDLE + SLACK)
        assert ws.close_code == 1001
        assert ws.close_reason == "idle-timeout"


def test_a_busy_tunnel_still_ends_at_its_lifetime(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    with _ws(gateway, "/ws/busy", _red(oidc_provider)) as ws:
        took = _closed_within(ws, LIFETIME + SLACK, keep_talking=True)
        assert took >= IDLE  # messages kept it from idling out first
        assert (ws.close_code, ws.close_reason) == (1001, "max-lifetime")


def test_a_tunnel_closes_when_its_token_expires(
    gateway: GatewayProcess, oidc_provider: Any
) -> None:
    token = _red(oidc_provider, exp=int(time.time()) + 4)
    with _ws(gateway, "/ws/expiring", token) as ws:
        _closed_within(ws, LIFETIME + SLACK, keep_talking=True)
        assert (ws.close_code, ws.close_reason) == (1008, "credential-expired")


def _upgrades_counted(gw: GatewayProcess) -> float:
    key = ("glassgate_request_duration_seconds_count", frozenset({("route", "chat")}))
    return scrape(gw.url).get(key, 0.0)


def test_every_upgrade_is_logged_and_counted(
    gateway: GatewayProcess, oidc_provider: Any, workdir: Path
) -> None:
    before = _upgrades_counted(gateway)
    with pytest.raises(InvalidStatus):
        _ws(gateway, "/ws/refused-marker", None).close()
    with _ws(gateway, "/ws/accepted-marker", _red(oidc_provider)) as ws:
        ws.send("x")
        ws.recv(timeout=10)

    def lines() -> dict[str, int]:
        text = (workdir / "gateway.log").read_text()
        found = [json.loads(line) for line in text.splitlines() if "-marker" in line]
        return {line["path"]: line["status"] for line in found if "status" in line}

    eventually(lambda: len(lines()) >= 2, what="two access lines")
    assert lines() == {"/ws/refused-marker": 401, "/ws/accepted-marker": 101}
    assert _upgrades_counted(gateway) == before + 2


def test_a_closed_tunnel_is_audited_with_its_bytes(
    gateway: GatewayProcess, oidc_provider: Any, workdir: Path
) -> None:
    with _ws(gateway, "/ws/audited", _red(oidc_provider)) as ws:
        ws.send("12345")
        assert ws.recv(timeout=10) == "12345"
        ws.send(b"\x00" * 10)
        ws.recv(timeout=10)

    def audited() -> list[dict[str, Any]]:
        return [r for r in _audit(workdir) if r.get("details", {}).get("path") == "/ws/audited"]

    eventually(lambda: bool(audited()), what="the websocket.close record", timeout=30)
    (record,) = audited()
    assert record["subject"] == "ruby"
    assert record["route"] == "chat"
    assert record["outcome"] == "client"
    details = record["details"]
    assert details["bytes_to_upstream"] == 15
    assert details["bytes_to_client"] == 15
    assert details["duration_s"] >= 0


def _apikey(gw: GatewayProcess, workdir: Path, *args: str) -> str:
    """The real ``glassgate apikey`` command, against the gateway's own database."""
    done = subprocess.run(
        [sys.executable, "-m", "glassgate", "apikey", *args, "--config",
         str(workdir / "gateway.yaml")],
        cwd=workdir, env=gw.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_tunnel_closes_when_its_api_key_is_revoked(
    gateway: GatewayProcess, workdir: Path
) -> None:
    key = _apikey(gateway, workdir, "create", "--name", "bot", "--subject", "svc:bot",
                  "--group", "robots", "--all-routes")  # fmt: skip
    with _ws(gateway, "/bots/feed", key) as ws:
        ws.send("still here")
        assert ws.recv(timeout=10) == "still here"
        # The CLI takes longer than the idle timeout to start on a busy machine: keep talking
        # while it runs, so only the revocation can close the tunnel.
        revoking = threading.Thread(target=_apikey, args=(gateway, workdir, "revoke", key[3:15]))
        revoking.start()
        with pytest.raises(ConnectionClosed):
            _talk_while(ws, revoking)
        revoking.join(60)
        assert (ws.close_code, ws.close_reason) == (1008, "credential-revoked")
