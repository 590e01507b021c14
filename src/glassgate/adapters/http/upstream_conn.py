"""One keep-alive HTTP/1.1 connection to an upstream target, parsed by llhttp.

Why a hand-built connection and not aiohttp or httpx: in the proxy path they
cost 3-10x more CPU per request than a bare pool (``docs/decisions/
upstream-client.md``). llhttp (via httptools) does the response parsing, which
is the part that must be right against hostile upstreams; this module adds the
limits llhttp leaves to its caller and the rules for reuse:

- Framing llhttp rejects (invalid chunk sizes, Content-Length with
  Transfer-Encoding, duplicate Content-Length, bare LF, obs-fold) and codings
  we do not decode (any Transfer-Encoding but ``chunked``) fail the exchange.
- The response head (status lines of interim 1xx responses included) is capped
  at ``MAX_RESPONSE_HEADER_BYTES`` and ``MAX_RESPONSE_HEADERS`` fields;
  trailers and chunk framing share the same byte budget, so a hostile upstream
  cannot make the parser buffer without bound.
- A connection is reused only after a response that ended cleanly with
  keep-alive. Bytes after the end of a response (a smuggled second response)
  or with no request outstanding close the connection: they are never parsed
  as the answer to the next request.
- A response without Content-Length or chunked framing ends when the upstream
  closes (RFC 9112 6.3 rule 8); any other early close is an error.

Failures raise ``UpstreamError`` (502) or ``UpstreamTimeoutError`` (504); the
connection is never reused after one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar, cast

import httptools

from glassgate.errors import UpstreamClosedError, UpstreamError, UpstreamTimeoutError
from glassgate.types import Headers

__all__ = [
    "MAX_RESPONSE_HEADERS",
    "MAX_RESPONSE_HEADER_BYTES",
    "UpstreamConnection",
    "UpstreamResponse",
]

MAX_RESPONSE_HEADER_BYTES = 64 * 1024
MAX_RESPONSE_HEADERS = 256
MAX_INTERIM_RESPONSES = 8  # 103 Early Hints, 100 Continue: a few, never an endless stream
_CHUNK_FRAMING = 32  # bytes per chunk for "<hex size>\r\n" and "\r\n" beyond the head budget
_HIGH_WATER = 256 * 1024  # buffered body bytes before we stop reading from the upstream
_NO_BODY = frozenset({204, 304})
_T = TypeVar("_T")


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: Headers
    connection: UpstreamConnection = field(repr=False)

    async def body(self, read_timeout: float) -> bytes | None:
        """The next body chunk, or None at the end of the body."""
        return await self.connection.next_chunk(read_timeout)


class UpstreamConnection(asyncio.Protocol):
    """Exactly one request at a time; reusable when the response ended cleanly."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reused = False  # set by the pool when it hands the connection out again
        self._parser = httptools.HttpResponseParser(self)
        self._closed = False
        self._reusable = False
        self._active = False  # a request is outstanding and its response not finished
        self._head: asyncio.Future[int] | None = None
        self._headers: Headers = []
        self._in_head = True
        self._head_only = False
        self._until_close = False
        self._interim = 0
        self._head_bytes = 0
        self._received = 0  # response bytes since the request was sent
        self._body_bytes = 0
        self._chunk_count = 0
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._done = False
        self._error: UpstreamError | None = None
        self._read_paused = False
        self._write_paused = False
        self._drain: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport does not subclass asyncio.Transport; it has its API.
        self.transport = cast(asyncio.Transport, transport)
        self._loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        if not self._active:  # bytes with no request outstanding: poison the connection
            self.close()
            return
        self._received += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("the upstream switched protocols unasked", sent=True))
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__ if isinstance(exc, httptools.HttpParserCallbackError) else exc
            self._fail(UpstreamError(f"malformed upstream response: {cause}", sent=True))
            return
        overhead = self._received - self._body_bytes - self._chunk_count * _CHUNK_FRAMING
        if not self._done and overhead > MAX_RESPONSE_HEADER_BYTES:
            self._fail(UpstreamError("upstream response head or framing too large", sent=True))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._reusable = False
        self._wake_drain()
        if not self._active:
            return
        if not self._in_head and self._until_close:
            self._finish(reusable=False)  # a close-delimited body ends here
        elif self._received == 0:
            self._fail(
                UpstreamClosedError("the upstream closed without answering", reused=self.reused)
            )
        else:
            self._fail(UpstreamError("the upstream closed the connection early", sent=True))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    # -- llhttp callbacks (an exception here fails the whole exchange) -------
    def on_message_begin(self) -> None:
        if self._done:
            raise httptools.HttpParserError("bytes after the end of the response")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4  # interim heads and trailers count too
        if self._head_bytes > MAX_RESPONSE_HEADER_BYTES:
            raise httptools.HttpParserError("upstream response head or trailers too large")
        if not self._in_head:
            return  # trailers are never forwarded
        if len(self._headers) >= MAX_RESPONSE_HEADERS:
            raise httptools.HttpParserError("too many upstream response header fields")
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if not 100 <= status <= 599:
            raise httptools.HttpParserError(f"status code {status} out of range")
        if status < 200:  # interim responses (103 Early Hints, 100 Continue) are dropped
            self._interim += 1
            if self._interim > MAX_INTERIM_RESPONSES:
                raise httptools.HttpParserError("too many interim responses")
            self._headers = []
            return
        self._in_head = False
        codings = [v for n, v in self._headers if n == b"transfer-encoding"]
        if codings and [c.strip().lower() for c in b",".join(codings).split(b",")] != [b"chunked"]:
            raise httptools.HttpParserError("unsupported upstream transfer coding")
        self._until_close = (
            not codings
            and status not in _NO_BODY
            and not any(n == b"content-length" for n, _ in self._headers)
        )
        head = self._head
        if head is not None and not head.done():
            head.set_result(status)
        if self._head_only:  # llhttp cannot know the request was HEAD: stop here
            self._finish(reusable=False)

    def on_chunk_header(self) -> None:
        self._chunk_count += 1

    def on_body(self, body: bytes) -> None:
        if self._done:
            return
        self._body_bytes += len(body)
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._read_paused and self.transport is not None:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._in_head or self._done:
            return  # an interim response, or the tail of a HEAD response
        self._finish(reusable=self._parser.should_keep_alive())

    # -- the request cycle --------------------------------------------------
    @property
    def usable(self) -> bool:
        return not self._closed and self._reusable

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ready(self) -> bool:
        """Whether ``next_chunk`` would answer without waiting for the upstream."""
        return bool(self._chunks) or self._done or self._error is not None

    def send_head(self, head: bytes, *, head_only: bool) -> None:
        """Start a request; the caller streams any body with ``send_body``."""
        if self.transport is None or self._closed:
            raise UpstreamError("the upstream connection is closed", sent=False)
        self._reset(self._loop or asyncio.get_running_loop(), head_only)
        self.transport.write(head)

    def send_body(self, chunk: bytes) -> None:
        if self.transport is not None and not self._closed:
            self.transport.write(chunk)

    async def drain(self, timeout: float) -> None:
        """Wait while the upstream is not reading what we send (back-pressure)."""
        if not self._write_paused or self._closed:
            return
        self._drain = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._drain, timeout)
        except TimeoutError:
            self.close()
            raise UpstreamTimeoutError("the upstream stopped reading the body", sent=True) from None

    async def response(self, read_timeout: float) -> UpstreamResponse:
        head = self._head
        if head is None:
            raise UpstreamError("no request was sent on this connection", sent=False)
        if not head.done():
            await self._wait(head, read_timeout, "the upstream did not answer in time")
        return UpstreamResponse(head.result(), self._headers, self)

    async def next_chunk(self, read_timeout: float) -> bytes | None:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                return None
            waiter = self._waiter = (self._loop or asyncio.get_running_loop()).create_future()
            await self._wait(waiter, read_timeout, "the upstream body stalled")
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._read_paused and self._buffered < _HIGH_WATER // 2:
            self._resume_reading()
        return chunk

    def close(self) -> None:
        """Close now; a response still in progress fails (its client is aborted)."""
        if self._active:
            self._fail(UpstreamError("the exchange was abandoned", sent=True))
            return
        self._closed = True
        self._reusable = False
        if self.transport is not None:
            self.transport.close()

    # -- internals ----------------------------------------------------------
    async def _wait(self, future: asyncio.Future[_T], timeout: float, message: str) -> None:
        """Await one of our futures; on timeout fail it with a 504 and close (no wait_for)."""
        handle = future.get_loop().call_later(timeout, self._time_out, future, message)
        try:
            await future
        finally:
            handle.cancel()

    def _time_out(self, future: asyncio.Future[_T], message: str) -> None:
        if future.done():
            return
        future.set_exception(UpstreamTimeoutError(message, sent=True))
        self.close()

    def _reset(self, loop: asyncio.AbstractEventLoop, head_only: bool) -> None:
        self._head = loop.create_future()
        self._headers = []
        self._in_head = True
        self._head_only = head_only
        self._until_close = False
        self._interim = self._head_bytes = 0
        self._received = self._body_bytes = self._chunk_count = 0
        self._chunks.clear()
        self._buffered = 0
        self._done = False
        self._error = None
        self._reusable = False
        self._active = True
        if self._read_paused:
            self._resume_reading()

    def _resume_reading(self) -> None:
        self._read_paused = False
        if self.transport is not None and not self._closed:
            self.transport.resume_reading()

    def _finish(self, *, reusable: bool) -> None:
        self._done = True
        self._active = False
        self._reusable = reusable and not self._closed
        if not self._reusable:
            self.close()
        self._wake()

    def _fail(self, error: UpstreamError) -> None:
        """Fail the response in progress; a finished one stays good (trailing bytes only close)."""
        if self._active:
            self._error = error
            self._active = False
            head = self._head
            if head is not None and not head.done():
                head.set_exception(error)
                head.exception()  # marked retrieved: nobody may ask (a 413 abandons the exchange)
        self.close()
        self._wake()
        self._wake_drain()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._waiter = None

    def _wake_drain(self) -> None:
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)
        self._drain = None
