"""Writing a response: its head and the first body bytes in one write, checked once.

uvicorn's ``RequestResponseCycle.send`` writes the response head the moment
``http.response.start`` arrives and the body with the next message: two
``write`` system calls for every answer (a proxied response, a 401, the
forward-auth 200), and it runs two regular expressions over every header
name and value. On the data plane both show in the profile (issue 10: the
write calls and the header loop were about a tenth of row 5's CPU, a quarter
of the forward-auth row's).

``CoalescingCycle`` is uvicorn's cycle with one ``send`` of our own:

- the head is held until the first body message and written with it, in one
  ``write``. When the application does not send a body in the same turn of
  the event loop (a streamed upstream that answers its head, then waits), the
  head goes out on its own at the end of that turn (``call_soon``), so a
  client never waits for a head the gateway already has;
- header names and values are checked with one search each over all of them
  (the same character classes as uvicorn's), not two per header; a name or
  value that could end the header line (CR, LF, NUL or other controls) is
  refused before anything is written, as uvicorn refuses it;
- framing (Content-Length, chunked, HEAD, 204/304, ``connection: close``,
  completion, ``on_response`` for pipelining) is uvicorn's, unchanged.

``GuardedProtocol`` hands every request's cycle to ``adopt`` before its task
starts; nothing else of uvicorn's cycle (``receive``, ``run_asgi``, the
100-continue answer) changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

__all__ = ["CoalescingCycle", "adopt"]

_NO_BODY_STATUS = (204, 304)


class CoalescingCycle(RequestResponseCycle):
    """uvicorn's request/response cycle whose head rides with the first body bytes."""

    _pending: bytes | None = None  # the head, built and checked, not yet written
    _flush: asyncio.Handle | None = None

    async def send(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
                )
            self.response_started = True
            self.waiting_for_100_continue = False
            self._pending = self._head(message["status"], message.get("headers", ()))
            self._flush = asyncio.get_running_loop().call_soon(self._write_pending)
            return
        if self.response_complete:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already "
                "completed."
            )
        if message["type"] != "http.response.body":
            raise RuntimeError(
                f"Expected ASGI message 'http.response.body', but got '{message['type']}'."
            )
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            content = b""
        elif self.chunked_encoding:
            content = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            if not more_body:
                content += b"0\r\n\r\n"
        else:
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            content = body
        pending = self._pending
        if pending is not None:
            self._cancel_flush()
            content = pending + content
        if content:
            self.transport.write(content)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()

    def _head(self, status: int, given: Any) -> bytes:
        """The status line and header section, with uvicorn's framing decisions applied."""
        headers = [*self.default_headers, *given]
        if HEADER_RE.search(b"".join(name for name, _ in headers)):
            raise RuntimeError("Invalid HTTP header name.")
        if HEADER_VALUE_RE.search(b"".join(value for _, value in headers)):
            raise RuntimeError("Invalid HTTP header value.")
        content = [STATUS_LINE[status]]
        has_connection_close = False
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection":
                tokens = [token.lower().strip() for token in value.split(b",")]
                if b"close" in tokens:
                    self.keep_alive = False
                    has_connection_close = True
            content += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and status not in _NO_BODY_STATUS
        ):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        return b"".join(content)

    def _write_pending(self) -> None:
        """The turn ended without a body message: the head goes out alone."""
        self._flush = None
        pending, self._pending = self._pending, None
        if pending is not None and not self.disconnected and not self.transport.is_closing():
            self.transport.write(pending)

    def _cancel_flush(self) -> None:
        self._pending = None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None


def adopt(cycle: RequestResponseCycle) -> RequestResponseCycle:
    """Give a cycle uvicorn built our ``send`` (a subclass with no state of its own beyond
    two class-level defaults, so switching the class of the built object is safe)."""
    if type(cycle) is RequestResponseCycle:
        cycle.__class__ = CoalescingCycle
    return cycle
