"""Connection limits enforced while reading: slow, oversized and too many clients.

uvicorn's httptools protocol hands llhttp everything it reads and waits for
the head to end, with no deadline for it, no total deadline for a body, no
cap on the bytes of an unfinished head (llhttp keeps them until the head ends)
and no cap on connections short of a full request. A client could therefore
grow the process by the size of an endless header, or hold descriptors open
with connections that send nothing or a byte at a time (issue 11 A). This
protocol is uvicorn's with those limits added where the bytes arrive:

- the head (request line and header section) may hold ``head_bytes``; the
  bytes are counted as they are read, so an endless header is refused with
  431 after at most one read beyond the cap, never buffered whole;
- the whole head must arrive within ``header_timeout`` of the connection
  opening (or of the first byte of the next request on a keep-alive one): 408;
- a request body must arrive whole within ``body_timeout`` of its head: 408
  (when the response has not started; otherwise the connection is aborted,
  so a truncated exchange never passes for a complete one);
- a connection beyond ``max_connections`` on the listener is answered 503 at
  once and closed, before any of it is parsed;
- an idle keep-alive connection is closed after ``keepalive_timeout``
  (uvicorn's own keep-alive timer, set from the same section).

A refused connection gets its answer, then the write side is shut and what the
client still sends is read and dropped for ``_LINGER`` seconds before the
close, so the answer is not lost to a reset while the client is still writing.
"""

from __future__ import annotations

import asyncio
import http
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from glassgate.adapters.http.outbound import Answer, answer_for_rejection
from glassgate.config.schema import LimitsConfig
from glassgate.errors import HeaderTooLargeError

__all__ = ["ConnectionLimits", "guarded_protocol"]

log = logging.getLogger("glassgate")

_LINGER = 1.0  # seconds to read and drop a refused client's input before closing
_REQUEST_LINE_BYTES = 8 * 1024  # the request line, beyond the header section (RFC 9112 3)
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
_TIMED_OUT = Answer(408, list(_JSON), b'{"error":"request_timeout"}')
_TOO_LARGE = answer_for_rejection(HeaderTooLargeError("the request head is too large"))
_TOO_MANY = Answer(
    503,
    [*_JSON, (b"retry-after", b"1")],
    b'{"error":"temporarily_unavailable","reason":"too-many-connections"}',
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The listener's limits, read once from ``limits:`` at start."""

    head_bytes: int
    header_timeout: float
    keepalive_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def from_config(cls, limits: LimitsConfig) -> ConnectionLimits:
        return cls(
            head_bytes=limits.max_header_bytes + _REQUEST_LINE_BYTES,
            header_timeout=limits.header_timeout,
            keepalive_timeout=limits.keepalive_timeout,
            body_timeout=limits.body_timeout,
            max_connections=limits.max_connections,
        )


def _render(answer: Answer) -> bytes:
    """A whole response that closes the connection (the only kind this module sends)."""
    lines = [b"HTTP/1.1 %d %s" % (answer.status, http.HTTPStatus(answer.status).phrase.encode())]
    lines += [name + b": " + value for name, value in answer.headers]
    lines += [b"content-length: %d" % len(answer.body), b"connection: close", b"", answer.body]
    return b"\r\n".join(lines)


def guarded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's ``http=`` protocol class for a listener with these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedProtocol,), {"limits": limits})


class GuardedProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with the module's limits; made per listener by ``guarded_protocol``."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # reading a request head (or waiting for the next one)
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._refused = False

    # -- connection ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        over = len(self.connections) >= self.limits.max_connections
        super().connection_made(transport)  # type: ignore[arg-type]
        if over:
            log.warning("connection refused: the listener holds max_connections already")
            self._refuse(_TOO_MANY)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: read and dropped
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:  # the first byte of the next request on this connection
                self._arm_head_timer()
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.head_bytes and not self._refused:
            self._refuse(_TOO_LARGE)

    def handle_websocket_upgrade(self) -> None:
        self._cancel_timers()  # the WebSocket protocol takes the transport over
        super().handle_websocket_upgrade()

    # -- parser callbacks ---------------------------------------------------
    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if not self.parser.should_upgrade():
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._in_head = True  # what follows is the next request's head
        self._head_bytes = 0
        super().on_message_complete()

    # -- timers -------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._refused or self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            self._arm_head_timer()  # a pipelined head waits for the response before it
            return
        if not self._in_head:
            return
        log.info("connection closed: the request head did not arrive within header_timeout")
        self._refuse(_TIMED_OUT)

    def _body_timed_out(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body or self.transport.is_closing():
            return
        log.info("connection closed: the request body did not arrive within body_timeout")
        if cycle.response_started:
            self.transport.close()  # mid-response: abort, never a truncated success
            return
        cycle.disconnected = True  # the app sees the client gone; its answer is dropped
        cycle.message_event.set()
        self._refuse(_TIMED_OUT)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _refuse(self, answer: Answer) -> None:
        """Answer, shut the write side, drop further input for a moment, close."""
        self._refused = True
        self._cancel_timers()
        self._unset_keepalive_if_required()
        transport = self.transport
        transport.write(_render(answer))
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = self.loop.call_later(_LINGER, transport.close)
