"""app.server: the one uvicorn configuration, and listeners served together in one loop."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import pytest

from glassgate.app.server import (
    Listener,
    bind_socket,
    bind_sockets,
    serve,
    server_config,
    split_listen,
)
from glassgate.errors import ConfigError
from glassgate.types import Receive, Scope, Send


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


async def failing_startup(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no"})


def test_the_gateway_settings() -> None:
    config = server_config(hello, log_level="warning")
    assert config.http == "httptools"
    assert config.loop == "uvloop"
    assert config.ws == "wsproto"
    assert config.lifespan == "on"
    assert config.proxy_headers is False
    assert config.server_header is False
    assert config.access_log is False
    assert config.log_config is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:9", ("::1", 9)), (":80", ("", 80))],
)
def test_split_listen(text: str, expected: tuple[str, int]) -> None:
    assert split_listen(text) == expected


def test_bind_socket_reports_a_busy_port_and_closes_its_socket() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError, match="in use"):
            bind_socket("127.0.0.1", taken.getsockname()[1])


async def _get(sock: socket.socket) -> httpx.Response:
    port = sock.getsockname()[1]
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.get(f"http://127.0.0.1:{port}/")


def test_two_listeners_serve_until_a_signal_then_the_handlers_are_restored() -> None:
    first = Listener(server_config(hello, lifespan="off"), bind_socket("127.0.0.1", 0))
    second = Listener(server_config(hello, lifespan="off"), bind_socket("127.0.0.1", 0))
    before = signal.getsignal(signal.SIGTERM)

    async def main() -> list[int]:
        running = asyncio.create_task(serve([first, second], reraise_signals=False))
        while not (first.started and second.started):
            await asyncio.sleep(0.01)
        statuses = [(await _get(first.sock)).status_code, (await _get(second.sock)).status_code]
        signal.raise_signal(signal.SIGTERM)  # caught by serve: both stop, the process stays
        await running
        return statuses

    with first.sock, second.sock:
        assert asyncio.run(main()) == [200, 200]
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_failed_start_stops_every_listener_with_uvicorn_s_exit_code() -> None:
    good = Listener(server_config(hello, lifespan="off"), bind_socket("127.0.0.1", 0))
    bad = Listener(server_config(failing_startup), bind_socket("127.0.0.1", 0))
    with good.sock, bad.sock, pytest.raises(SystemExit) as caught:
        asyncio.run(serve([bad, good]))
    assert caught.value.code == 3
    assert good.should_exit


def test_workers_get_one_socket_each_on_one_port() -> None:
    sockets = bind_sockets("127.0.0.1:0", "127.0.0.1:0", workers=3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets.data_plane}
        assert len(sockets.data_plane) == 3
        assert len(ports) == 1  # port 0 was picked once; the others joined it
        assert sockets.console is not None
        assert sockets.of_worker(0) == [sockets.data_plane[0], sockets.console]
        assert sockets.of_worker(2) == [sockets.data_plane[2]]
        assert len(sockets.every()) == 4
    finally:
        for sock in sockets.every():
            sock.close()


def test_a_taken_port_names_the_setting() -> None:
    taken = bind_socket("127.0.0.1", 0)
    taken.listen()
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as info:
            bind_sockets(f"127.0.0.1:{port}", None, workers=2)
        assert [p.location for p in info.value.problems] == ["listen"]
    finally:
        taken.close()


def test_a_second_gateway_cannot_join_a_running_ones_port() -> None:
    first = bind_sockets("127.0.0.1:0", None, workers=2)
    try:
        for sock in first.data_plane:
            sock.listen()
        port = first.data_plane[0].getsockname()[1]
        with pytest.raises(ConfigError):
            bind_sockets(f"127.0.0.1:{port}", None, workers=2)
    finally:
        for sock in first.every():
            sock.close()
