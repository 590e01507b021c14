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

from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from glassgate.adapters.http.outbound import Answer, answer_for_rejection
from glassgate.adapters.http.response_cycle import adopt
from glassgate.config.schema import LimitsConfig
from glassgate.errors import HeaderTooLargeError

__all__ = ["ConnectionLimits", "guarded_protocol"]

log = logging.getLogger("glassgate")

_LINGER = 1.0  # seconds to read and drop a refused client's input before closing
_HEAD, _BODY, _IDLE = "head", "body", "idle"  # what a connection is waiting for
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
    """``HttpToolsProtocol`` with the module's limits; made per listener by ``guarded_protocol``.

    One timer per connection, not one per request: a phase (reading a head,
    reading a body, or neither while the app answers) sets a deadline, and the
    timer, when it fires, either acts on a deadline that has passed or moves
    itself to the current one. A busy keep-alive connection therefore costs
    two clock readings per request, and a timer about once per deadline.
    """

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _IDLE
        self._head_bytes = 0
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._linger: asyncio.TimerHandle | None = None
        self._refused = False

    # -- connection ---------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        over = len(self.connections) >= self.limits.max_connections
        super().connection_made(transport)
        if over:
            log.warning("connection refused: the listener holds max_connections already")
            self._refuse(_TOO_MANY)
            return
        self._begin(_HEAD, self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: read and dropped
        if self._phase is _IDLE and (self.cycle is None or self.cycle.response_complete):
            self._begin(_HEAD, self.limits.header_timeout)  # the next request's first bytes
        if self._phase is _HEAD:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._phase is _HEAD and self._head_bytes > self.limits.head_bytes and not self._refused:
            self._refuse(_TOO_LARGE)

    def handle_websocket_upgrade(self) -> None:
        self._stop_timers()  # the WebSocket protocol takes the transport over
        super().handle_websocket_upgrade()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        """Every request's cycle (pipelined ones too) writes its head with its body."""
        super()._start_asgi_task(adopt(cycle), app)

    # -- parser callbacks ---------------------------------------------------
    def on_headers_complete(self) -> None:
        self._begin(_BODY, self.limits.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._phase = _IDLE  # until the next request's first bytes (keep-alive: uvicorn's timer)
        super().on_message_complete()

    # -- the one timer ------------------------------------------------------
    def _begin(self, phase: str, seconds: float) -> None:
        self._phase = phase
        self._head_bytes = 0
        self._deadline = deadline = self.loop.time() + seconds
        if self._timer is None or deadline < self._timer_at:
            self._arm(deadline)

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._refused or self._phase is _IDLE or self.transport.is_closing():
            return
        if self.loop.time() < self._deadline:
            self._arm(self._deadline)  # the phase moved on since this timer was set
            return
        if self._phase is _HEAD:
            self._head_timed_out()
        else:
            self._body_timed_out()

    def _head_timed_out(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            self._begin(_HEAD, self.limits.header_timeout)  # a pipelined head waits its turn
            return
        log.info("connection closed: the request head did not arrive within header_timeout")
        self._refuse(_TIMED_OUT)

    def _body_timed_out(self) -> None:
        cycle = self.cycle
        self._phase = _IDLE
        if cycle is None or not cycle.more_body:
            return
        log.info("connection closed: the request body did not arrive within body_timeout")
        if cycle.response_started:
            self.transport.close()  # mid-response: abort, never a truncated success
            return
        cycle.disconnected = True  # the app sees the client gone; its answer is dropped
        cycle.message_event.set()
        self._refuse(_TIMED_OUT)

    def _stop_timers(self) -> None:
        for timer in (self._timer, self._linger):
            if timer is not None:
                timer.cancel()
        self._timer = self._linger = None
        self._phase = _IDLE

    def _refuse(self, answer: Answer) -> None:
        """Answer, shut the write side, drop further input for a moment, close."""
        self._stop_timers()
        self._refused = True
        self._unset_keepalive_if_required()
        transport = self.transport
        transport.write(_render(answer))
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = self.loop.call_later(_LINGER, transport.close)
