"""demo._http: the helpers' small HTTP/1.1 server over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from glassgate.app.server import bind_socket
from glassgate.demo._http import MAX_BODY_BYTES, LocalHttpServer, Request, Response


def _echo(request: Request) -> Response:
    if request.path == "/boom":
        raise RuntimeError("handler bug")
    document = {
        "method": request.method,
        "target": request.target,
        "path": request.path,
        "x": request.header("X-Test"),
        "body": request.body.decode(),
    }
    return Response.json(200, document, (("x-extra", "1"),))


Scenario = Callable[[str, LocalHttpServer], Awaitable[None]]


def _serve(scenario: Scenario) -> None:
    async def main() -> None:
        sock = bind_socket("127.0.0.1", 0)
        server = LocalHttpServer("test", _echo)
        await server.start(sock)
        try:
            await scenario(f"http://127.0.0.1:{sock.getsockname()[1]}", server)
        finally:
            await server.aclose()
        assert not server.connections

    asyncio.run(main())


async def _raw(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    out = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return out


def test_get_and_post_over_one_keep_alive_connection() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            first = await client.get("/a/b?q=1", headers={"X-Test": "yes"})
            second = await client.post("/c", content=b"hello")
            assert len(server.connections) == 1
        assert first.status_code == 200
        assert first.headers["x-extra"] == "1"
        assert first.headers["cache-control"] == "no-store"
        assert first.json() == {
            "method": "GET",
            "target": "/a/b?q=1",
            "path": "/a/b",
            "x": "yes",
            "body": "",
        }
        assert second.json()["body"] == "hello"

    _serve(scenario)


def test_head_has_no_body() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.head("/x")
        assert response.status_code == 200
        assert int(response.headers["content-length"]) > 0
        assert response.content == b""

    _serve(scenario)


def test_pipelined_requests_are_answered_in_order() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        data = (
            b"GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        out = await _raw(url, data)
        assert out.count(b"HTTP/1.1 200 OK") == 2
        assert out.index(b'"/one"') < out.index(b'"/two"')
        assert out.rstrip().endswith(b"}")

    _serve(scenario)


def test_a_handler_bug_is_a_500_and_the_server_lives_on() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/boom")).status_code == 500
            assert (await client.get("/fine")).status_code == 200

    _serve(scenario)


def test_malformed_request_gets_400_and_close() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        out = await _raw(
            url, b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        assert out.startswith(b"HTTP/1.1 400 ")
        assert b"connection: close" in out

    _serve(scenario)


def test_upgrade_is_refused() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        out = await _raw(
            url, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        )
        assert out.startswith(b"HTTP/1.1 400 ")

    _serve(scenario)


def test_oversized_body_gets_413() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.post("/x", content=b"x" * (MAX_BODY_BYTES + 1))
        assert response.status_code == 413
        assert json.loads(response.content) == {"error": "too large"}

    _serve(scenario)


def test_oversized_head_gets_431() -> None:
    async def scenario(url: str, server: LocalHttpServer) -> None:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/x", headers={"X-Big": "y" * 70_000})
        assert response.status_code == 431

    _serve(scenario)


def test_aclose_closes_idle_keep_alive_connections() -> None:
    async def main() -> None:
        sock = bind_socket("127.0.0.1", 0)
        server = LocalHttpServer("test", _echo)
        await server.start(sock)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/")).status_code == 200
            assert len(server.connections) == 1
            await server.aclose()
            assert not server.connections
            with pytest.raises(httpx.ConnectError):
                await client.get("/", headers={"Connection": "close"})
        await server.aclose()  # idempotent

    asyncio.run(main())


def test_unknown_status_code_still_encodes() -> None:
    def odd(request: Request) -> Response:
        return Response(599, b"x", "text/plain")

    async def main() -> None:
        sock = bind_socket("127.0.0.1", 0)
        server = LocalHttpServer("odd", odd)
        await server.start(sock)
        try:
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            out = await _raw(url, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            assert out.startswith(b"HTTP/1.1 599 \r\n")
            assert out.endswith(b"\r\n\r\nx")
        finally:
            await server.aclose()

    asyncio.run(main())
