"""The proxy door end to end: a real uvicorn, the real GatewayApp, hostile upstreams.

Status mapping under test: an upstream timeout (connect, head or body write)
is 504; any other upstream failure before the response started is 502; a
failure after it started aborts the client connection (never a truncated body
that looks complete, never a hang). Client mistakes are 4xx: a body over
``limits.max_body_bytes`` is 413 (by Content-Length or while streaming chunked),
a body that stops arriving is 408.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import uvloop

from tests.support.hostile_upstream import (
    Client,
    Peer,
    Reply,
    Script,
    ScriptedUpstream,
    fetch,
    ok,
    respond_ok,
)
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
    targets: [{targets}]
    connect_timeout: 1s
    read_timeout: {read_timeout}
    retries: {retries}
limits: {{ max_body_bytes: 1024 }}
routes:
  - id: team
    match: {{ path: /team/* }}
    upstream: app
    allow: {{ groups: [Red] }}
  - id: open
    match: {{ path: /* }}
    upstream: app
    anonymous: true
"""


def run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)


def config(*urls: str, read_timeout: str = "300ms", retries: int = 1) -> str:
    return CONFIG.format(targets=", ".join(urls), read_timeout=read_timeout, retries=retries)


def get(path: str = "/x", *headers: bytes, method: bytes = b"GET") -> bytes:
    lines = [method + b" " + path.encode() + b" HTTP/1.1", b"host: gw.test", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def post(body: bytes, path: str = "/x") -> bytes:
    return get(path, b"content-length: %d" % len(body), method=b"POST") + body


async def through(
    script: Script, *raws: bytes, timeout: float = 5.0, retries: int = 1
) -> tuple[list[Reply], ScriptedUpstream]:
    """Send each request on one keep-alive client connection through a gateway to ``script``."""
    async with (
        ScriptedUpstream(script) as upstream,
        serve_gateway(config(upstream.url, retries=retries)) as gw,
    ):
        client = await Client.open(gw.port)
        try:
            replies = []
            for raw in raws:
                head_only = raw.startswith(b"HEAD ")
                replies.append(await client.request(raw, timeout, head=head_only))
                if replies[-1].closed:
                    break
        finally:
            await client.aclose()
    return replies, upstream


def answer(data: bytes, *, then: float = 5.0) -> Script:
    """Answer every request with ``data``; then hold the connection up to ``then`` seconds."""

    async def script(peer: Peer) -> None:
        while await peer.read_request() is not None:
            await peer.send(data)
        await asyncio.sleep(0)

    if then == 0:

        async def closing(peer: Peer) -> None:
            await peer.read_request()
            await peer.send(data)
            peer.close()

        return closing
    return script


def error_of(reply: Reply) -> str:
    return str(json.loads(reply.body)["error"])


# -- the happy path ---------------------------------------------------------------------------


def test_forwards_reframes_and_strips_hop_by_hop_response_headers() -> None:
    response = ok(b"hi", b"connection: x-private", b"x-private: secret", b"keep-alive: timeout=5")
    replies, upstream = run(through(answer(response), get("/a/b?q=1", b"x-custom: 1")))
    (reply,) = replies
    assert (reply.status, reply.body, reply.complete) == (200, b"hi", True)
    assert reply.header(b"x-private") is None
    assert reply.header(b"keep-alive") is None
    (seen,) = upstream.requests
    assert seen.target == "/a/b?q=1"
    assert seen.header("host") == f"127.0.0.1:{upstream.port}"
    assert seen.header("x-custom") == "1"
    assert seen.header("x-forwarded-for") == "127.0.0.1"


def test_keep_alive_connections_to_the_upstream_are_reused() -> None:
    replies, upstream = run(through(respond_ok, get("/1"), get("/2"), get("/3")))
    assert [r.body for r in replies] == [b"ok /1", b"ok /2", b"ok /3"]
    assert upstream.connections == 1


def test_request_bodies_stream_through_reframed() -> None:
    chunked = (
        get("/up", b"transfer-encoding: chunked", method=b"POST")
        + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    replies, upstream = run(through(respond_ok, post(b"0123456789"), chunked))
    assert [r.status for r in replies] == [200, 200]
    assert [(r.body, r.complete) for r in upstream.requests] == [
        (b"0123456789", True),
        (b"hello world", True),
    ]
    assert upstream.requests[0].header("content-length") == "10"
    assert upstream.requests[1].header("transfer-encoding") == "chunked"


# -- upstream failures before the response: 502 or 504 ----------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok", 502, id="case=cl-and-te"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", 502, id="case=cl-duplicate"),
        pytest.param(b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n", 502, id="case=oversized-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\n" + b"x-h: v\r\n" * 300 + b"\r\n", 502, id="case=too-many-fields"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", 502, id="case=unknown-coding"),
        pytest.param(b"not http at all\r\n\r\n", 502, id="case=garbage"),
        pytest.param(b"", 502, id="case=close-before-any-byte"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-", 502, id="case=close-mid-head"),
    ],
)  # fmt: skip
def test_a_bad_upstream_answer_is_502(data: bytes, status: int) -> None:
    replies, _ = run(through(answer(data, then=0), get()))
    (reply,) = replies
    assert reply.status == status
    assert error_of(reply) == "bad_gateway"


def test_slow_upstream_headers_are_504() -> None:
    async def slow(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\n")
        await asyncio.sleep(5)

    started = time.monotonic()
    replies, _ = run(through(slow, get()))
    assert replies[0].status == 504
    assert error_of(replies[0]) == "gateway_timeout"
    assert time.monotonic() - started < 3


def test_a_refused_connection_is_502() -> None:
    async def go() -> Reply:
        closed = await ScriptedUpstream(respond_ok).start()
        await closed.aclose()
        async with serve_gateway(config(closed.url)) as gw:
            return await fetch(gw.port, get())

    reply = run(go())
    assert reply.status == 502
    assert error_of(reply) == "bad_gateway"


@pytest.mark.parametrize("request_bytes", [get(), post(b"payload")], ids=["case=GET", "case=POST"])
def test_a_refused_connection_is_retried_on_the_next_target(request_bytes: bytes) -> None:
    async def go() -> tuple[list[Reply], ScriptedUpstream]:
        closed = await ScriptedUpstream(respond_ok).start()
        await closed.aclose()
        async with (
            ScriptedUpstream(respond_ok) as good,
            serve_gateway(config(closed.url, good.url)) as gw,
        ):
            return [await fetch(gw.port, request_bytes) for _ in range(3)], good

    replies, good = run(go())
    assert [r.status for r in replies] == [200, 200, 200]  # nothing was sent: safe for any method
    assert len(good.requests) == 3


def _stale_after_first(peer: Peer) -> Any:
    """Connection 0 answers once, then closes on the next request without a byte (the
    upstream's idle timeout racing our reuse); later connections behave."""

    async def script() -> None:
        if peer.index == 0:
            await peer.read_request()
            await peer.send(ok(b"first"))
            await peer.read_request()
            peer.close()
            return
        await respond_ok(peer)

    return script()


@pytest.mark.parametrize("retries", [0, 1])
def test_a_get_on_a_stale_pooled_connection_is_retried_transparently(retries: int) -> None:
    # a fresh connection after a stale one is not a retry: it happens even with retries: 0
    replies, upstream = run(through(_stale_after_first, get("/1"), get("/2"), retries=retries))
    assert [(r.status, r.body) for r in replies] == [(200, b"first"), (200, b"ok /2")]
    assert upstream.connections == 2
    assert [r.target for r in upstream.requests] == ["/1", "/2", "/2"]


def test_a_post_on_a_stale_pooled_connection_is_not_replayed() -> None:
    replies, upstream = run(through(_stale_after_first, get("/1"), post(b"pay once")))
    assert [r.status for r in replies] == [200, 502]
    assert [r.method for r in upstream.requests] == ["GET", "POST"]  # the POST went out once


# -- upstream failures after the response started: the client connection is aborted ----------


def test_a_body_shorter_than_its_content_length_aborts_the_client() -> None:
    replies, _ = run(
        through(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", then=0), get())
    )
    (reply,) = replies
    assert reply.status == 200
    assert reply.body == b"partial"
    assert not reply.complete
    assert reply.closed


def test_bad_chunk_framing_mid_body_aborts_the_client() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
    replies, _ = run(through(answer(data), get()))
    (reply,) = replies
    assert (reply.status, reply.body, reply.complete, reply.closed) == (200, b"hello", False, True)


def test_a_stalled_body_aborts_the_client_instead_of_hanging() -> None:
    async def stall(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
        await asyncio.sleep(10)

    started = time.monotonic()
    replies, _ = run(through(stall, get()))
    (reply,) = replies
    assert (reply.status, reply.body, reply.complete, reply.closed) == (200, b"some", False, True)
    assert time.monotonic() - started < 3  # read_timeout is 300 ms


def test_a_client_that_leaves_mid_body_releases_the_upstream_connection() -> None:
    async def go() -> bool:
        closed = asyncio.Event()

        async def endless(peer: Peer) -> None:
            await peer.read_request()
            await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            try:
                while True:
                    await peer.send(b"5\r\nhello\r\n")
                    await asyncio.sleep(0.01)
            except ConnectionError:
                closed.set()

        async with (
            ScriptedUpstream(endless) as upstream,
            serve_gateway(config(upstream.url, read_timeout="10s")) as gw,
        ):
            client = await Client.open(gw.port)
            client.writer.write(get())
            await client.reader.readuntil(b"hello")
            await client.aclose()
            try:
                await asyncio.wait_for(closed.wait(), 3)
            except TimeoutError:
                return False
            return True

    assert run(go()) is True


# -- odd but legal upstream answers -----------------------------------------------------------


def test_a_smuggled_second_response_never_reaches_the_next_request() -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: 1\r\n\r\nSMUGGLED"

    async def script(peer: Peer) -> None:
        if peer.index == 0:
            await peer.read_request()
            await peer.send(ok(b"first") + smuggled)
            await peer.wait_closed_by_client(5.0)
            return
        await respond_ok(peer)

    replies, upstream = run(through(script, get("/1"), get("/2")))
    assert [(r.status, r.body) for r in replies] == [(200, b"first"), (200, b"ok /2")]
    assert all(r.header(b"x-smuggled") is None for r in replies)
    assert upstream.connections == 2


def test_interim_responses_are_not_passed_on() -> None:
    data = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" + ok(
        b"done"
    )
    replies, _ = run(through(answer(data), get()))
    (reply,) = replies
    assert (reply.status, reply.body) == (200, b"done")
    assert reply.header(b"link") is None


def test_head_keeps_the_content_length_and_sends_no_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"

    async def script(peer: Peer) -> None:
        while (request := await peer.read_request()) is not None:
            await peer.send(head if request.method == "HEAD" else ok(b"after"))

    replies, _ = run(through(script, get(method=b"HEAD"), get()))
    assert [(r.status, r.header(b"content-length"), r.body) for r in replies] == [
        (200, b"1000", b""),
        (200, b"5", b"after"),  # the client connection survived the HEAD
    ]


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_pass_without_a_body(status: int) -> None:
    data = b'HTTP/1.1 %d X\r\nContent-Length: 7\r\nETag: "v1"\r\n\r\n' % status
    replies, upstream = run(through(answer(data), get("/1"), get("/2")))
    assert [(r.status, r.body, r.complete) for r in replies] == [(status, b"", True)] * 2
    assert all(r.header(b"content-length") is None for r in replies)
    assert replies[0].header(b"etag") == b'"v1"'
    assert upstream.connections == 1


def test_a_close_delimited_body_is_passed_on_whole() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 100_000
    replies, _ = run(through(answer(data, then=0), get()))
    (reply,) = replies
    assert (reply.status, len(reply.body), reply.complete) == (200, 100_000, True)


# -- client mistakes are 4xx --------------------------------------------------------------------


def test_a_content_length_over_the_limit_is_413_before_the_upstream_is_contacted() -> None:
    raw = get("/x", b"content-length: 2048", method=b"POST") + b"x" * 2048
    replies, upstream = run(through(respond_ok, raw))
    assert replies[0].status == 413
    assert error_of(replies[0]) == "payload_too_large"
    assert upstream.connections == 0


def test_a_chunked_body_over_the_limit_is_413_and_never_reaches_the_upstream_whole() -> None:
    piece = b"y" * 600
    raw = (
        get("/x", b"transfer-encoding: chunked", method=b"POST")
        + (b"258\r\n" + piece + b"\r\n") * 2
        + b"0\r\n\r\n"
    )
    replies, upstream = run(through(respond_ok, raw))
    assert replies[0].status == 413
    assert all(not r.complete for r in upstream.requests)


def test_a_client_body_that_stops_arriving_is_408() -> None:
    async def go() -> Reply:
        async with (
            ScriptedUpstream(respond_ok) as upstream,
            serve_gateway(config(upstream.url)) as gw,
        ):
            client = await Client.open(gw.port)
            try:
                return await client.request(
                    get("/x", b"content-length: 100", method=b"POST") + b"only ten.."
                )
            finally:
                await client.aclose()

    assert run(go()).status == 408


def test_a_denied_request_never_reaches_the_upstream() -> None:
    replies, upstream = run(
        through(respond_ok, get("/team/x"), get("/team/x", b"authorization: Bearer tok-Red"))
    )
    assert [r.status for r in replies] == [401, 200]
    assert [r.target for r in upstream.requests] == ["/team/x"]
    assert upstream.requests[0].header("x-glassgate-subject") == "user-Red"
