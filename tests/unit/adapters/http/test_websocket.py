"""WebSocket tunnelling edge cases, in process: abnormal ends, redirects, refused upgrades.

The end-to-end path (real ``glassgate serve``, real IdP tokens) is in
``tests/integration/test_websocket.py``; these use the proxy harness's fake
authenticator (``tok-Red`` is a member of Red) and a real ``websockets``
upstream, so each runs in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest
import uvloop
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response

from glassgate.adapters.http.websocket import _sendable
from tests.support.hostile_upstream import Peer, ScriptedUpstream
from tests.support.proxy_harness import serve_gateway

T = TypeVar("T")

CONFIG = """
version: 1
issuers:
  - id: idp
    issuer: http://127.0.0.1:9400
    audiences: [api://gateway]
upstreams:
  - id: app
    targets: [{target}]
    connect_timeout: 500ms
routes:
  - id: team
    match: {{ path: /team/* }}
    upstream: app
    allow: {{ groups: [Red] }}
"""
RED = {"Authorization": "Bearer tok-Red"}

Handler = Callable[[ServerConnection], Awaitable[None]]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)


async def _with_upstream(handler: Handler, test: Callable[[int], Awaitable[T]], **kw: Any) -> T:
    async with serve(handler, "127.0.0.1", 0, **kw) as server:
        port = server.sockets[0].getsockname()[1]
        async with serve_gateway(CONFIG.format(target=f"http://127.0.0.1:{port}")) as gw:
            return await test(gw.port)


def test_an_upstream_that_vanishes_closes_the_client_with_1011() -> None:
    async def vanish(ws: ServerConnection) -> None:
        await ws.recv()
        ws.transport.abort()  # no close frame: connection lost

    async def test(port: int) -> tuple[int | None, str | None]:
        async with connect(f"ws://127.0.0.1:{port}/team/x", additional_headers=RED) as ws:
            await ws.send("hi")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            return ws.close_code, ws.close_reason

    code, _ = run(_with_upstream(vanish, test))
    assert code == 1011


def test_a_client_that_vanishes_closes_the_upstream() -> None:
    closes: list[int | None] = []

    async def record(ws: ServerConnection) -> None:
        try:
            async for message in ws:
                await ws.send(message)
        finally:
            closes.append(ws.close_code)

    async def test(port: int) -> list[int | None]:
        ws = await connect(f"ws://127.0.0.1:{port}/team/x", additional_headers=RED)
        await ws.send("hi")
        assert await ws.recv() == "hi"
        ws.transport.abort()
        await ws.wait_closed()
        async with asyncio.timeout(5):
            while not closes:
                await asyncio.sleep(0.01)
        return closes

    # uvicorn reports a lost client like a close frame without a code (1005): sent as 1000
    assert run(_with_upstream(record, test)) in ([1000], [1001])


def test_a_redirecting_upstream_is_never_followed() -> None:
    followed: list[str] = []

    async def echo(ws: ServerConnection) -> None:
        followed.append(ws.request.path if ws.request else "")

    def redirect(ws: ServerConnection, request: Request) -> Response | None:
        if not request.path.startswith("/team/"):
            return None
        response = ws.respond(302, "moved")
        response.headers["Location"] = "/evil"
        return response

    async def test(port: int) -> int:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(f"ws://127.0.0.1:{port}/team/x", additional_headers=RED):
                pass
        return caught.value.response.status_code

    assert run(_with_upstream(echo, test, process_request=redirect)) == 502
    assert followed == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer expired"}, 401),
        ({"Authorization": "Bearer tok-Blue"}, 403),
    ],
    ids=["case=no-token", "case=bad-token", "case=wrong-group"],
)
def test_a_refused_upgrade_never_reaches_the_upstream(headers: dict[str, str], status: int) -> None:
    async def script(peer: Peer) -> None:
        await peer.read_request()

    async def go() -> tuple[int, int, str | None]:
        async with ScriptedUpstream(script) as upstream:
            async with serve_gateway(CONFIG.format(target=upstream.url)) as gw:
                with pytest.raises(InvalidStatus) as caught:
                    async with connect(
                        f"ws://127.0.0.1:{gw.port}/team/x", additional_headers=headers
                    ):
                        pass
            response = caught.value.response
            return (
                response.status_code,
                upstream.connections,
                response.headers.get("WWW-Authenticate"),
            )

    code, connections, challenge = run(go())
    assert code == status
    assert connections == 0
    if status == 401:
        assert challenge is not None
        assert challenge.startswith("Bearer")


def test_a_handshake_the_upstream_never_answers_is_504() -> None:
    async def silent(peer: Peer) -> None:
        await peer.read_request()
        await asyncio.sleep(5)

    async def go() -> int:
        async with (
            ScriptedUpstream(silent) as upstream,
            serve_gateway(CONFIG.format(target=upstream.url)) as gw,
        ):
            with pytest.raises(InvalidStatus) as caught:
                async with connect(f"ws://127.0.0.1:{gw.port}/team/x", additional_headers=RED):
                    pass
            return caught.value.response.status_code

    assert run(go()) == 504


@pytest.mark.parametrize(
    ("received", "sent"),
    [
        (1000, 1000),
        (1001, 1001),
        (4001, 4001),
        (3000, 3000),
        (1005, 1000),
        (1006, 1011),
        (1015, 1011),
    ],
)
def test_close_codes_that_cannot_be_sent_are_replaced(received: int, sent: int) -> None:
    assert _sendable(received) == sent
