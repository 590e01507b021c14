"""CoalescingCycle: one write for a head and its first body bytes, uvicorn's framing kept.

The unit tests drive the cycle with a transport that records every write;
the last test runs it inside a real uvicorn server (``GuardedProtocol``) with
a raw socket, to show a streamed response's head is not held back.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from glassgate.adapters.http.connection_limits import ConnectionLimits
from glassgate.adapters.http.response_cycle import CoalescingCycle, adopt
from glassgate.app.server import server_config


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _cycle(method: str = "GET", *, keep_alive: bool = True) -> tuple[CoalescingCycle, _Transport]:
    transport = _Transport()
    done: list[bool] = []
    cycle = RequestResponseCycle(
        scope={"type": "http", "method": method},  # type: ignore[typeddict-item]
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=[],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: done.append(True),
    )
    adopted = adopt(cycle)
    assert isinstance(adopted, CoalescingCycle)
    return adopted, transport


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": body, "more_body": more}


def test_a_whole_response_is_one_write() -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle()
        await cycle.send(_start(200, [(b"Content-Length", b"2"), (b"X-A", b"1")]))
        await cycle.send(_body(b"ok"))
        assert cycle.response_complete
        return transport

    transport = asyncio.run(scenario())
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nok",
    ]


def test_a_streamed_body_sends_the_head_with_the_first_chunk_then_chunks() -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle()
        await cycle.send(_start(200, [(b"content-type", b"text/plain")]))
        await cycle.send(_body(b"abc", more=True))
        await cycle.send(_body(b"de", more=True))
        await cycle.send(_body(b""))
        return transport

    transport = asyncio.run(scenario())
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n",
        b"2\r\nde\r\n",
        b"0\r\n\r\n",
    ]


def test_a_head_without_a_body_in_the_same_turn_goes_out_alone() -> None:
    async def scenario() -> tuple[_Transport, list[bytes]]:
        cycle, transport = _cycle()
        await cycle.send(_start(200, [(b"content-length", b"4")]))
        assert transport.writes == []  # held for this turn of the loop only
        await asyncio.sleep(0)
        seen = list(transport.writes)
        await cycle.send(_body(b"late"))
        return transport, seen

    transport, seen = asyncio.run(scenario())
    assert seen == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"]
    assert transport.writes == [*seen, b"late"]


def test_a_head_request_writes_the_head_and_no_body() -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle("HEAD")
        await cycle.send(_start(200, [(b"content-length", b"10")]))
        await cycle.send(_body(b""))
        assert cycle.response_complete
        return transport

    assert asyncio.run(scenario()).writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"]


def test_no_keep_alive_says_connection_close_and_closes_after_the_body() -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle(keep_alive=False)
        await cycle.send(_start(204, []))
        await cycle.send(_body(b""))
        return transport

    transport = asyncio.run(scenario())
    assert transport.writes == [b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"]
    assert transport.closed


@pytest.mark.parametrize(
    "header",
    [
        (b"x-evil", b"a\r\nset-cookie: owned=1"),
        (b"x-evil", b"a\nb"),
        (b"x-evil", b"nul\x00byte"),
        (b"x evil", b"space in the name"),
        (b"x-evil:", b"colon in the name"),
        (b"x-evil\r\nx-more", b"1"),
    ],
)
def test_a_header_that_could_split_the_head_is_refused_before_anything_is_written(
    header: tuple[bytes, bytes],
) -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle()
        with pytest.raises(RuntimeError, match="Invalid HTTP header"):
            await cycle.send(_start(200, [(b"content-length", b"0"), header]))
        await asyncio.sleep(0)
        return transport

    assert asyncio.run(scenario()).writes == []


def test_a_body_longer_or_shorter_than_its_length_is_an_error() -> None:
    async def longer() -> None:
        cycle, _ = _cycle()
        await cycle.send(_start(200, [(b"content-length", b"1")]))
        await cycle.send(_body(b"too long"))

    async def shorter() -> None:
        cycle, _ = _cycle()
        await cycle.send(_start(200, [(b"content-length", b"9")]))
        await cycle.send(_body(b"short"))

    with pytest.raises(RuntimeError, match="longer"):
        asyncio.run(longer())
    with pytest.raises(RuntimeError, match="shorter"):
        asyncio.run(shorter())


def test_a_disconnected_client_gets_nothing() -> None:
    async def scenario() -> _Transport:
        cycle, transport = _cycle()
        await cycle.send(_start(200, [(b"content-length", b"2")]))
        cycle.disconnected = True
        await asyncio.sleep(0)
        await cycle.send(_body(b"ok"))
        return transport

    assert asyncio.run(scenario()).writes == []


# -- through a real uvicorn server with the data plane's protocol ------------------


async def _streaming_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.sleep(0.5)  # a streamed upstream: its head now, its body later
    await send({"type": "http.response.body", "body": b"late", "more_body": False})


@pytest.fixture
def streaming_server() -> Iterator[int]:
    limits = ConnectionLimits(16 * 1024, 5.0, 5.0, 5.0, 64)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = server_config(_streaming_app, lifespan="off", limits=limits, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_streamed_response_head_reaches_the_client_before_its_body(
    streaming_server: int,
) -> None:
    with socket.create_connection(("127.0.0.1", streaming_server), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        client.settimeout(0.3)  # well before the body's 0.5 s
        head = client.recv(65536)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"transfer-encoding: chunked\r\n" in head
        assert b"late" not in head
        client.settimeout(5)
        rest = b""
        while not rest.endswith(b"0\r\n\r\n"):
            rest += client.recv(65536)
        assert b"4\r\nlate\r\n" in rest
