"""The one HTTP helper: bounded reads, httpx errors → IdPUnavailableError."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from glassgate.adapters.idp._http import fetch, fetch_json
from glassgate.errors import IdPUnavailableError


def run(
    handler: httpx.MockTransport, url: str = "https://idp.example/x", limit: int = 100
) -> object:
    async def go() -> object:
        async with httpx.AsyncClient(transport=handler) as http:
            return await fetch_json(http, "GET", url, what="test", limit=limit, timeout=1.0)

    return asyncio.run(go())


def test_a_json_object_comes_back() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"a": 1}))
    assert run(transport) == (200, {"a": 1})


def test_non_200_is_reported_not_raised() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(404, text="nope"))
    assert run(transport) == (404, None)


@pytest.mark.parametrize("body", [b"[1]", b"not json", b"\xff", b'"x"'])
def test_nonsense_is_idp_unavailable(body: bytes) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    with pytest.raises(IdPUnavailableError, match="test"):
        run(transport)


def test_declared_size_over_the_limit() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"{}" + b" " * 200))
    with pytest.raises(IdPUnavailableError, match="larger than 100"):
        run(transport)


def test_streamed_size_over_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 30

    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=chunks()))
    with pytest.raises(IdPUnavailableError, match="larger than 100"):
        run(transport)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (httpx.ConnectError("refused"), "failed \\(ConnectError\\)"),
        (httpx.ReadTimeout("slow"), "timed out"),
        (httpx.RemoteProtocolError("bad"), "failed"),
    ],
)
def test_transport_errors_are_translated(error: Exception, message: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(IdPUnavailableError, match=message) as caught:
        run(httpx.MockTransport(boom))
    assert caught.value.__cause__ is error


def test_an_invalid_url_is_translated() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    with pytest.raises(IdPUnavailableError):
        run(transport, url="http://[::1")


def test_fetch_returns_raw_bytes() -> None:
    async def go() -> tuple[int, bytes | None]:
        transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"abc"))
        async with httpx.AsyncClient(transport=transport) as http:
            return await fetch(http, "POST", "https://x/", what="t", limit=10, timeout=1.0)

    assert asyncio.run(go()) == (200, b"abc")
