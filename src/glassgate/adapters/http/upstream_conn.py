"""One keep-alive HTTP/1.1 connection to an upstream target, parsed by llhttp.

Why not aiohttp or httpx: in the proxy path they cost 3-10x more CPU per
request than a bare pool (see bench/README.md). llhttp (via httptools) does the
response parsing, which is the part that must be right against hostile
upstreams: framing errors, oversized headers and early closes all surface as
``UpstreamError`` and the connection is never reused after one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import cast

import httptools

__all__ = ["MAX_RESPONSE_HEADER_BYTES", "UpstreamConnection", "UpstreamError", "UpstreamResponse"]

MAX_RESPONSE_HEADER_BYTES = 64 * 1024
_HIGH_WATER = 256 * 1024


class UpstreamError(Exception):
    """The upstream could not be reached or answered with something unusable."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent  # whether any byte of the request may have reached the upstream


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    connection: UpstreamConnection = field(repr=False)

    async def body(self, read_timeout: float) -> bytes | None:
        """The next body chunk, or None at the end of the body."""
        return await self.connection.next_chunk(read_timeout)


class UpstreamConnection(asyncio.Protocol):
    """Exactly one request at a time; reusable when the response ended cleanly."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._head: asyncio.Future[int] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._done = False
        self._error: UpstreamError | None = None
        self._closed = False
        self._reusable = False
        self._head_only = False
        self._paused = False
        self._active = False

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP transport does not subclass asyncio.Transport; it has its API.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self._active:  # bytes with no request outstanding: poison the connection
            self._fail(UpstreamError("the upstream sent data without a request", sent=True))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("unexpected protocol upgrade from upstream", sent=True))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"malformed upstream response: {exc}", sent=True))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._active:
            self._fail(UpstreamError("the upstream closed the connection early", sent=True))

    # -- llhttp callbacks ---------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_RESPONSE_HEADER_BYTES:
            raise httptools.HttpParserError("upstream response headers too large")
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # interim responses (103 Early Hints): skip them
            self._headers, self._header_bytes = [], 0
            return
        head = self._head
        if head is not None and not head.done():
            head.set_result(status)
        if self._head_only:
            self._finish(reusable=False)

    def on_body(self, body: bytes) -> None:
        if self._done:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200 or self._done:
            return
        self._finish(reusable=self._parser.should_keep_alive())

    # -- the request cycle --------------------------------------------------
    @property
    def usable(self) -> bool:
        return not self._closed and self._reusable

    def send_head(self, head: bytes, *, head_only: bool) -> None:
        """Start a request; the caller streams any body with ``send_body``."""
        if self.transport is None or self._closed:
            raise UpstreamError("the upstream connection is closed", sent=False)
        self._reset(asyncio.get_running_loop(), head_only)
        self.transport.write(head)

    def send_body(self, chunk: bytes) -> None:
        if self.transport is not None and not self._closed:
            self.transport.write(chunk)

    async def response(self, read_timeout: float) -> UpstreamResponse:
        if self._head is None:
            raise UpstreamError("no request was sent on this connection", sent=False)
        try:
            status = await asyncio.wait_for(asyncio.shield(self._head), read_timeout)
        except TimeoutError:
            self.close()
            raise UpstreamError("the upstream did not answer in time", sent=True) from None
        return UpstreamResponse(status, self._headers, self)

    async def next_chunk(self, read_timeout: float) -> bytes | None:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._done:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, read_timeout)
            except TimeoutError:
                self.close()
                raise UpstreamError("the upstream body stalled", sent=True) from None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < _HIGH_WATER // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    def close(self) -> None:
        self._closed = True
        self._reusable = False
        if self.transport is not None:
            self.transport.close()

    # -- internals ----------------------------------------------------------
    def _reset(self, loop: asyncio.AbstractEventLoop, head_only: bool) -> None:
        self._headers, self._header_bytes = [], 0
        self._head = loop.create_future()
        self._chunks.clear()
        self._buffered = 0
        self._done = False
        self._error = None
        self._reusable = False
        self._head_only = head_only
        self._active = True

    def _finish(self, *, reusable: bool) -> None:
        self._done = True
        self._active = False
        self._reusable = reusable and not self._closed
        if not self._reusable:
            self.close()
        self._wake()

    def _fail(self, error: UpstreamError) -> None:
        self._error = error
        self._active = False
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
            head.exception()  # mark retrieved: the waiter may already have timed out
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._waiter = None
