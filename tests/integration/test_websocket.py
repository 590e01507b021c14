"""WebSocket pass-through through a real ``glassgate serve``, with real IdP tokens.

ISSUE 3 item 1: the upgrade request is authorised by the same gate as any
request (its ``Authorization`` header; 401/403 before any upgrade), then
tunnelled to a real ``websockets`` echo upstream with messages relayed both
ways and close codes propagated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from tests.support.gateway import GatewayProcess
from tests.support.gateway_config import base_config, write_config
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


@dataclass
class EchoServer:
    """A ``websockets`` echo server in a thread; ``close 4001 bye`` makes it close so."""

    server: Server
    thread: threading.Thread
    handshakes: list[dict[str, str]] = field(default_factory=list)
    closes: list[tuple[int | None, str | None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.socket.getsockname()[1]}"


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    box: list[EchoServer] = []

    def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
        box[0].handshakes.append({"path": ws.request.path, **headers})
        try:
            for message in ws:
                if message == "please close":
                    ws.close(4001, "bye")
                    break
                ws.send(message)
        except ConnectionClosed:
            pass
        box[0].closes.append((ws.close_code, ws.close_reason))

    def choose(ws: ServerConnection, offered: Sequence[str]) -> Subprotocol | None:
        return next((Subprotocol(p) for p in offered if p in ("chat", "superchat")), None)

    server = serve(handler, "127.0.0.1", 0, select_subprotocol=choose)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    box.append(EchoServer(server, thread))
    thread.start()
    yield box[0]
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def gateway(
    oidc_provider: Any, echo: EchoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("ws")
    config = base_config(
        oidc_provider.issuer,
        echo.url,
        upstreams=[
            {"id": "app", "targets": [echo.url]},
            {"id": "gone", "targets": ["http://127.0.0.1:9"]},  # discard port: refused
        ],
        routes=[
            {"id": "team", "match": {"path": "/ws/team/*"}, "upstream": "app",
             "allow": {"groups": ["Red"]}},
            {"id": "admin", "match": {"path": "/ws/admin/*"}, "upstream": "app",
             "allow": {"groups": ["Admins"]}},
            {"id": "dead", "match": {"path": "/ws/dead/*"}, "upstream": "gone",
             "allow": {"groups": ["Red"]}},
        ],
    )  # fmt: skip
    path = workdir / "gateway.yaml"
    write_config(path, config)
    process = GatewayProcess(path, {}, workdir / "gateway.log", args=("--no-watch",))
    process.start()
    yield process
    process.stop()
    log = Path(process.log).read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.fixture(scope="module")
def red(oidc_provider: Any) -> str:
    return str(oidc_provider.token(claims={"sub": "ruby", "groups": ["Red"]}))


def _ws(
    gw: GatewayProcess, path: str, token: str | None, protocols: Sequence[str] = ()
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    url = gw.url.replace("http://", "ws://") + path
    offered = [Subprotocol(p) for p in protocols] or None
    return connect(url, additional_headers=headers, open_timeout=5, subprotocols=offered)


def _refused(gw: GatewayProcess, path: str, token: str | None) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        _ws(gw, path, token).close()
    return caught.value


def test_an_allowed_upgrade_is_tunnelled_both_ways(
    gateway: GatewayProcess, echo: EchoServer, red: str
) -> None:
    with _ws(gateway, "/ws/team/room?x=1", red, ["superchat"]) as ws:
        assert ws.subprotocol == "superchat"  # the upstream's choice, passed on
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=5) == b"\x00\x01binary"
        big = "z" * 200_000
        ws.send(big)
        assert ws.recv(timeout=5) == big
    seen = echo.handshakes[-1]
    assert seen["path"] == "/ws/team/room?x=1"
    assert seen["x-glassgate-subject"] == "ruby"
    assert "x-glassgate-identity" in seen
    assert seen["x-forwarded-proto"] == "http"


def test_close_codes_pass_both_ways(gateway: GatewayProcess, echo: EchoServer, red: str) -> None:
    with _ws(gateway, "/ws/team/a", red) as ws:
        ws.send("please close")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert (ws.close_code, ws.close_reason) == (4001, "bye")
    before = len(echo.closes)
    with _ws(gateway, "/ws/team/b", red) as ws:
        ws.send("ping")
        assert ws.recv(timeout=5) == "ping"
        ws.close(4002, "done here")
    eventually(lambda: len(echo.closes) > before, what="the upstream to see the close")
    assert echo.closes[-1] == (4002, "done here")


def test_no_token_is_401_before_any_upgrade(gateway: GatewayProcess, echo: EchoServer) -> None:
    before = len(echo.handshakes)
    refused = _refused(gateway, "/ws/team/room", None)
    assert refused.response.status_code == 401
    assert refused.response.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(echo.handshakes) == before


def test_an_invalid_token_is_401(gateway: GatewayProcess, echo: EchoServer) -> None:
    before = len(echo.handshakes)
    assert _refused(gateway, "/ws/team/room", "not.a.jwt").response.status_code == 401
    assert len(echo.handshakes) == before


@pytest.mark.parametrize(
    "path",
    ["/ws/admin/console", "/ws/nowhere", "/ws/team/../admin/x", "/ws/team/%2e%2e/admin/x"],
    ids=["case=wrong-group", "case=no-route", "case=dot-segments", "case=encoded-dots"],
)
def test_path_rules_apply_to_upgrades(
    gateway: GatewayProcess, echo: EchoServer, red: str, path: str
) -> None:
    before = len(echo.handshakes)
    assert _refused(gateway, path, red).response.status_code in (400, 403)
    assert len(echo.handshakes) == before


def test_an_unreachable_upstream_is_502_during_the_handshake(
    gateway: GatewayProcess, red: str
) -> None:
    assert _refused(gateway, "/ws/dead/x", red).response.status_code == 502


def test_plain_http_still_works_on_the_same_listener(gateway: GatewayProcess) -> None:
    import httpx

    assert httpx.get(gateway.url + "/healthz").status_code == 200
