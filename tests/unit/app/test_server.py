"""app.server: the one uvicorn configuration, and listeners served together in one loop."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time

import httpx
import pytest
import uvloop

from glassgate.adapters.http.connection_limits import ConnectionLimits
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


def test_under_uvloop_a_burst_of_new_connections_is_taken_in_one_turn() -> None:
    """uvloop's own listener takes one connection per turn: a burst held the last
    of them for many turns under load (row 6's p99 in ``bench/``). Here the
    loop is held while 20 clients connect and send; when it runs again, the
    first request it answers must already see all 20 connections."""
    limits = ConnectionLimits(
        head_bytes=8192,
        header_timeout=10,
        keepalive_timeout=10,
        body_timeout=10,
        max_connections=64,
    )
    seen: list[int] = []
    listener: Listener | None = None

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        assert listener is not None
        seen.append(len(listener.server_state.connections))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hi"})

    listener = Listener(
        server_config(counting, lifespan="off", limits=limits), bind_socket("127.0.0.1", 0)
    )
    loops: list[asyncio.AbstractEventLoop] = []
    thread = threading.Thread(target=lambda: uvloop.run(_serve_recording(listener, loops)))
    thread.start()
    clients: list[socket.socket] = []
    try:
        while not (loops and listener.started):
            time.sleep(0.01)
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            held.set()
            release.wait(30)

        loops[0].call_soon_threadsafe(hold)
        assert held.wait(10)
        port = listener.sock.getsockname()[1]
        for _ in range(20):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            clients.append(client)
        release.set()
        answers = [client.recv(1024) for client in clients]
    finally:
        listener.should_exit = True
        thread.join(10)
        for client in clients:
            client.close()
        listener.sock.close()
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert seen[0] == 20, seen


async def _serve_recording(listener: Listener, loops: list[asyncio.AbstractEventLoop]) -> None:
    loops.append(asyncio.get_running_loop())
    await listener.serve(sockets=[listener.sock])
