"""Reverse proxy: forward an allowed request to its upstream and stream the answer back.

Bodies stream both ways with back-pressure (no full buffering). The request is
re-framed: the upstream sees either one Content-Length or chunked encoding that
the gateway wrote itself, never the client's framing bytes, so nothing a client
sends can be read upstream as a second request (RFC 9112 6.1, 11.2). Only
idempotent, body-less requests are retried, and only when the upstream cannot
have acted on them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from glassgate.adapters.http.gate import GateResult
from glassgate.adapters.http.identity_out import forwardable
from glassgate.adapters.http.upstream_conn import UpstreamConnection, UpstreamError
from glassgate.adapters.http.upstreams import IDEMPOTENT, Target, Upstream
from glassgate.core.paths import encode_path

__all__ = ["BodyTooLargeError", "Forward", "forward"]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

_RESPONSE_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"proxy-authenticate",
    }
)


class BodyTooLargeError(Exception):
    """The client's body exceeds the configured limit (answered 413)."""


@dataclass(frozen=True, slots=True)
class Forward:
    """What the proxy needs besides the request itself."""

    upstream: Upstream
    extra_headers: Headers
    max_body_bytes: int


def _request_head(
    result: GateResult, target: Target, headers: Headers, extra: Headers
) -> tuple[bytes, bool]:
    facts = result.facts
    path = target.base_path + encode_path(facts.request.path)
    if facts.query:
        path += "?" + facts.query.decode("latin-1")
    lines = [f"{facts.request.method} {path} HTTP/1.1".encode("latin-1")]
    lines.append(b"host: " + target.host_header)
    has_body = facts.chunked or bool(facts.content_length)
    if facts.chunked:
        lines.append(b"transfer-encoding: chunked")
    elif facts.content_length is not None:
        lines.append(b"content-length: " + str(facts.content_length).encode())
    lines.extend(name + b": " + value for name, value in forwardable(headers))
    lines.extend(name + b": " + value for name, value in extra)
    return b"\r\n".join(lines) + b"\r\n\r\n", has_body


async def _send_body(conn: UpstreamConnection, receive: Receive, chunked: bool, limit: int) -> None:
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            conn.close()
            raise UpstreamError("the client went away", sent=True)
        chunk: bytes = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            conn.close()
            raise BodyTooLargeError
        if chunk:
            conn.send_body(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
        if not message.get("more_body", False):
            break
    if chunked:
        conn.send_body(b"0\r\n\r\n")


async def _attempt(
    fwd: Forward, result: GateResult, headers: Headers, receive: Receive
) -> tuple[Target, UpstreamConnection, int, Headers]:
    config = fwd.upstream.config
    target = fwd.upstream.pick()
    conn = await target.connect(config.connect_timeout)
    target.in_flight += 1
    try:
        head, has_body = _request_head(result, target, headers, fwd.extra_headers)
        conn.send_head(head, head_only=result.facts.request.method == "HEAD")
        if has_body:
            await _send_body(conn, receive, result.facts.chunked, fwd.max_body_bytes)
        response = await conn.response(config.read_timeout)
    except BaseException:
        target.in_flight -= 1
        conn.close()
        raise
    return target, conn, response.status, response.headers


async def forward(
    fwd: Forward, result: GateResult, headers: Headers, receive: Receive, send: Send
) -> None:
    """Forward one allowed request; raises UpstreamError before any byte was answered."""
    retries = fwd.upstream.config.retries
    retryable = result.facts.request.method in IDEMPOTENT and not (
        result.facts.chunked or result.facts.content_length
    )
    while True:
        try:
            target, conn, status, response_headers = await _attempt(fwd, result, headers, receive)
            break
        except UpstreamError:
            if not retryable or retries <= 0:
                raise
            retries -= 1
    try:
        out = [(n, v) for n, v in response_headers if n not in _RESPONSE_HOP]
        await send({"type": "http.response.start", "status": status, "headers": out})
        read_timeout = fwd.upstream.config.read_timeout
        while True:
            chunk = await conn.next_chunk(read_timeout)
            if chunk is None:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        target.in_flight -= 1
        target.release(conn)
