"""One upstream connection against hostile upstreams: real TCP servers on 127.0.0.1.

Every case is a server that writes exact bytes. What must hold: bad framing,
oversized heads and early closes fail the exchange (502, or 504 for timeouts)
and the connection is never reused after one; bytes after a response are never
read as the answer to the next request; interim responses, HEAD, 204/304 and
close-delimited bodies are handled as RFC 9112 says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
import uvloop

from glassgate.adapters.http.upstream_conn import MAX_RESPONSE_HEADER_BYTES
from glassgate.adapters.http.upstreams import Target
from glassgate.errors import UpstreamClosedError, UpstreamError, UpstreamTimeoutError
from tests.support.hostile_upstream import Peer, Script, ScriptedUpstream, ok, respond_ok

T = TypeVar("T")
GET = b"GET / HTTP/1.1\r\nhost: t\r\n\r\n"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)  # the loop glassgate serves on


@dataclass
class Outcome:
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    error: UpstreamError | None = None
    reusable: bool = False
    reused: bool = False

    def header(self, name: bytes) -> bytes | None:
        return next((v for n, v in self.headers if n == name), None)


async def exchange(target: Target, *, head_only: bool = False, timeout: float = 1.0) -> Outcome:
    """One request on a pooled or new connection; the connection goes back to the pool."""
    conn = await target.connect(1.0)
    outcome = Outcome(reused=conn.reused)
    try:
        conn.send_head(GET, head_only=head_only)
        response = await conn.response(timeout)
        outcome.status, outcome.headers = response.status, list(response.headers)
        while (chunk := await response.body(timeout)) is not None:
            outcome.body += chunk
    except UpstreamError as exc:
        outcome.error = exc
    outcome.reusable = conn.usable
    target.release(conn)
    return outcome


def answer(data: bytes, *, close: bool = False, pause: float = 0.0) -> Script:
    """Answer the first request with ``data``; then close, or wait for the client to close."""

    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(data)
        if pause:
            await asyncio.sleep(pause)
        if close:
            peer.close()
            return
        await peer.wait_closed_by_client(5.0)

    return script


async def one(data: bytes, *, close: bool = False, head_only: bool = False) -> Outcome:
    async with ScriptedUpstream(answer(data, close=close)) as server:
        target = Target.from_url(server.url)
        try:
            return await exchange(target, head_only=head_only)
        finally:
            target.close()


def _chunked(body: bytes, trailer: bytes = b"") -> bytes:
    return b"%x\r\n%b\r\n0\r\n%b\r\n" % (len(body), body, trailer)


_BIG_VALUE = b"x" * (MAX_RESPONSE_HEADER_BYTES + 1024)
_MANY_FIELDS = b"".join(b"x-h%d: v\r\n" % i for i in range(300))
_WIDE_FIELDS = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
_TRAILER_FLOOD = b"".join(b"x-t%d: %s\r\n" % (i, b"v" * 1000) for i in range(100))

HEAD_ERRORS = [
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + _chunked(b"hello"), id="case=cl-and-te"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", id="case=cl-duplicate-differing"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", id="case=cl-duplicate-same"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", id="case=cl-list"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", id="case=cl-negative"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", id="case=cl-plus"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello", id="case=te-gzip"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + _chunked(b"hello"), id="case=te-gzip-chunked"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"hello"), id="case=te-twice"),
    pytest.param(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", id="case=bare-lf"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok", id="case=obs-fold"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", id="case=space-before-colon"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok", id="case=nul-in-value"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok", id="case=cr-in-value"),
    pytest.param(b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n", id="case=status-0"),
    pytest.param(b"HTTP/1.1 999 Nine\r\nContent-Length: 0\r\n\r\n", id="case=status-999"),
    pytest.param(b"hello world\r\n\r\n", id="case=not-http"),
    pytest.param(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", id="case=unasked-upgrade"),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-Big: " + _BIG_VALUE + b"\r\nContent-Length: 0\r\n\r\n", id="case=one-huge-header"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + _WIDE_FIELDS + b"Content-Length: 0\r\n\r\n", id="case=head-over-64k"),
    pytest.param(b"HTTP/1.1 200 OK\r\n" + _MANY_FIELDS + b"Content-Length: 0\r\n\r\n", id="case=too-many-fields"),
    pytest.param(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 20 + ok(), id="case=endless-interim"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="case=close-mid-head"),
]  # fmt: skip


@pytest.mark.parametrize("data", HEAD_ERRORS)
def test_a_bad_response_head_fails_and_the_connection_is_dropped(data: bytes) -> None:
    outcome = run(one(data, close=True))
    assert outcome.error is not None
    assert outcome.status is None
    assert outcome.error.status == 502
    assert not isinstance(outcome.error, UpstreamClosedError)  # bytes came: never replayed
    assert not outcome.reusable


BODY_ERRORS = [
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", id="case=chunk-size-not-hex"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n", id="case=chunk-size-overflow"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", id="case=chunk-bare-lf"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", id="case=chunk-longer-than-size"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", id="case=body-shorter-than-cl"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello", id="case=close-mid-chunk"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", id="case=close-before-last-chunk"),
    pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"hello", _TRAILER_FLOOD), id="case=trailer-flood"),
]  # fmt: skip


@pytest.mark.parametrize("data", BODY_ERRORS)
def test_a_bad_body_fails_after_the_head_and_the_connection_is_dropped(data: bytes) -> None:
    outcome = run(one(data, close=True))
    assert outcome.status == 200
    assert outcome.error is not None
    assert outcome.error.status == 502
    assert not outcome.reusable


def test_interim_responses_are_dropped_and_the_final_one_is_returned() -> None:
    data = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final", b"x-final: 1")
    )
    outcome = run(one(data))
    assert (outcome.status, outcome.body, outcome.error) == (200, b"final", None)
    assert outcome.header(b"link") is None
    assert outcome.header(b"x-final") == b"1"
    assert outcome.reusable


def test_chunk_extensions_are_ignored_and_trailers_never_become_headers() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 42\r\n\r\n"
    )
    outcome = run(one(data))
    assert (outcome.status, outcome.body, outcome.error) == (200, b"hello world", None)
    assert outcome.header(b"x-sum") is None
    assert outcome.reusable


def test_a_head_just_under_the_limit_is_fine() -> None:
    fields = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 1000) for i in range(60))
    outcome = run(one(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 2\r\n\r\nok"))
    assert (outcome.status, outcome.body, outcome.error) == (200, b"ok", None)


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_end_at_the_head_even_with_a_content_length(status: int) -> None:
    outcome = run(one(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status))
    assert (outcome.status, outcome.body, outcome.error) == (status, b"", None)
    assert outcome.reusable


def test_a_head_response_ends_at_the_head_and_is_not_reused() -> None:
    outcome = run(one(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", head_only=True))
    assert (outcome.status, outcome.body, outcome.error) == (200, b"", None)
    assert outcome.header(b"content-length") == b"1000"
    assert not outcome.reusable  # llhttp cannot know it was HEAD: the connection goes


def test_a_close_delimited_body_ends_at_close() -> None:
    outcome = run(one(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", close=True))
    assert (outcome.status, outcome.body, outcome.error) == (200, b"all of it", None)
    assert not outcome.reusable


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ok(b"x", b"connection: close"), id="case=connection-close"),
        pytest.param(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", id="case=http-1.0"),
    ],
)
def test_a_response_without_keep_alive_is_not_reused(data: bytes) -> None:
    outcome = run(one(data))
    assert (outcome.status, outcome.body) == (200, b"x")
    assert not outcome.reusable


def test_a_close_before_any_byte_is_told_apart_and_says_whether_the_connection_was_reused() -> None:
    async def script(peer: Peer) -> None:
        if peer.index == 0:
            await peer.read_request()
            await peer.send(ok())  # the first request is answered ...
        await peer.read_request()
        peer.close()  # ... the next one, on either connection, is not

    async def go() -> tuple[Outcome, Outcome, Outcome]:
        async with ScriptedUpstream(script) as server:
            target = Target.from_url(server.url)
            first = await exchange(target)
            second = await exchange(target)  # on the pooled connection
            third = await exchange(target)  # on a new one
            target.close()
            return first, second, third

    first, second, third = run(go())
    assert first.status == 200
    assert first.reusable
    assert isinstance(second.error, UpstreamClosedError)
    assert second.error.reused
    assert isinstance(third.error, UpstreamClosedError)
    assert not third.error.reused


def test_slow_headers_time_out_as_504() -> None:
    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\n")
        await asyncio.sleep(5)

    async def go() -> Outcome:
        async with ScriptedUpstream(script) as server:
            return await exchange(Target.from_url(server.url), timeout=0.2)

    outcome = run(go())
    assert isinstance(outcome.error, UpstreamTimeoutError)
    assert outcome.error.status == 504
    assert outcome.status is None
    assert not outcome.reusable


def test_a_stalled_body_times_out_as_504() -> None:
    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        await asyncio.sleep(5)

    async def go() -> Outcome:
        async with ScriptedUpstream(script) as server:
            return await exchange(Target.from_url(server.url), timeout=0.2)

    outcome = run(go())
    assert outcome.status == 200
    assert outcome.body == b"hello"
    assert isinstance(outcome.error, UpstreamTimeoutError)
    assert not outcome.reusable


def test_keep_alive_reuses_one_connection() -> None:
    async def go() -> tuple[list[Outcome], int]:
        async with ScriptedUpstream(respond_ok) as server:
            target = Target.from_url(server.url)
            outcomes = [await exchange(target) for _ in range(3)]
            target.close()
            return outcomes, server.connections

    outcomes, connections = run(go())
    assert [o.body for o in outcomes] == [b"ok /"] * 3
    assert [o.reused for o in outcomes] == [False, True, True]
    assert connections == 1


@pytest.mark.parametrize("pause", [0.0, 0.05], ids=["case=same-packet", "case=later-packet"])
def test_bytes_after_a_response_are_never_the_next_answer(pause: float) -> None:
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: 1\r\n\r\nSMUGGLED"

    async def script(peer: Peer) -> None:
        if peer.index == 0:
            await peer.read_request()
            if pause:
                await peer.send(ok(b"first"))
                await asyncio.sleep(pause)
                await peer.send(smuggled)
            else:
                await peer.send(ok(b"first") + smuggled)
            await peer.wait_closed_by_client(5.0)
            return
        while (request := await peer.read_request()) is not None:
            await peer.send(ok(b"honest " + request.target.encode()))

    async def go() -> tuple[Outcome, Outcome, int]:
        async with ScriptedUpstream(script) as server:
            target = Target.from_url(server.url)
            first = await exchange(target)
            await asyncio.sleep(pause * 2)
            second = await exchange(target)
            target.close()
            return first, second, server.connections

    first, second, connections = run(go())
    assert (first.status, first.body, first.error) == (200, b"first", None)
    assert first.header(b"x-smuggled") is None
    assert (second.status, second.body, second.error) == (200, b"honest /", None)
    assert second.header(b"x-smuggled") is None
    assert connections == 2  # the poisoned connection was not reused


def test_unsolicited_bytes_on_an_idle_connection_poison_it() -> None:
    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok())
        await asyncio.sleep(0.05)
        await peer.send(b"HTTP/1.1 200 OK\r\n")
        await peer.wait_closed_by_client(5.0)

    async def go() -> bool:
        async with ScriptedUpstream(script) as server:
            target = Target.from_url(server.url)
            await exchange(target)
            (pooled,) = target.idle
            async with asyncio.timeout(3):
                while pooled.usable:  # until the stray bytes arrive
                    await asyncio.sleep(0.01)
            usable = pooled.usable
            target.close()
            return usable

    assert run(go()) is False


def test_a_large_body_streams_through_with_back_pressure() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB

    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 65536):
            piece = body[i : i + 65536]
            await peer.send(b"%x\r\n%b\r\n" % (len(piece), piece))
        await peer.send(b"0\r\n\r\n")
        await peer.wait_closed_by_client(5.0)

    async def go() -> Outcome:
        async with ScriptedUpstream(script) as server:
            target = Target.from_url(server.url)
            conn = await target.connect(1.0)
            conn.send_head(GET, head_only=False)
            response = await conn.response(1.0)
            await asyncio.sleep(0.2)  # let the upstream fill our buffer: reading pauses
            received = b""
            while (chunk := await response.body(1.0)) is not None:
                received += chunk
            outcome = Outcome(response.status, [], received, None, conn.usable)
            target.release(conn)
            target.close()
            return outcome

    outcome = run(go())
    assert outcome.body == body
    assert outcome.reusable


def test_a_refused_connection_is_an_unsent_502_and_parks_the_target() -> None:
    async def go() -> tuple[UpstreamError, float]:
        server = await ScriptedUpstream(answer(ok())).start()
        url = server.url
        await server.aclose()  # nothing listens on the port now
        target = Target.from_url(url)
        with pytest.raises(UpstreamError) as caught:
            await target.connect(1.0)
        return caught.value, target.parked_until

    error, parked_until = run(go())
    assert error.status == 502
    assert not error.sent
    assert parked_until > 0


def test_an_upstream_that_stops_reading_the_body_times_out_as_504() -> None:
    async def deaf(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")  # the head, then never another read
        await asyncio.sleep(5)

    async def go() -> UpstreamError:
        async with ScriptedUpstream(deaf) as server:
            target = Target.from_url(server.url)
            conn = await target.connect(1.0)
            conn.send_head(
                b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 67108864\r\n\r\n", head_only=False
            )

            async def flood() -> None:
                for _ in range(64):  # 64 MiB: far more than the socket buffers hold
                    conn.send_body(b"b" * (1024 * 1024))
                    await conn.drain(0.2)

            with pytest.raises(UpstreamError) as caught:
                await flood()
            conn.close()
            return caught.value

    error = run(go())
    assert isinstance(error, UpstreamTimeoutError)
    assert "stopped reading" in str(error)
